"""Sending a staged folder: the plan (where, how, and how to retry) and the Hub calls.

Without a token or with ``--dry-run`` nothing is sent; a Hub failure is a :class:`HubError`
(exit code 1) that names the kept folder and the command that retries the upload from it.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import HfApi
from huggingface_hub.utils import validate_repo_id

from ..errors import UserInputError
from ..files import file_tree
from .tokens import HubError, hub_offline, one_line

EXIT_OK, EXIT_HUB, EXIT_USAGE = 0, 1, 2
#: How the retry command in an upload error starts: the script's, unless the CLI says otherwise.
SCRIPT_COMMAND = "python hub/push.py"


def checked_repo_id(repo_id: str) -> str:
    """``OWNER/NAME``: checked before anything is built so a typo costs nothing."""
    try:
        validate_repo_id(repo_id)
    except Exception as err:
        raise UserInputError(f"--repo-id {repo_id!r} is not a valid Hub repository id: {err}") from None
    if repo_id.count("/") != 1:
        raise UserInputError(f"--repo-id must be OWNER/NAME (your user or organisation), got {repo_id!r}")
    return repo_id


@dataclass
class UploadPlan:
    """Where and how a staged folder goes; also what a retry command must repeat."""

    folder: Path
    repo_id: str
    repo_type: str
    private: bool = False
    revision: str | None = None
    commit_message: str = "Upload with odin-medical-ner-re"
    command: str = SCRIPT_COMMAND

    @property
    def url(self) -> str:
        prefix = "datasets/" if self.repo_type == "dataset" else ""
        suffix = f"/tree/{self.revision}" if self.revision else ""
        return f"https://huggingface.co/{prefix}{self.repo_id}{suffix}"

    def retry_command(self) -> str:
        flags = " --private" if self.private else ""
        flags += f" --revision {shlex.quote(self.revision)}" if self.revision else ""
        return (
            f"{self.command} upload {shlex.quote(str(self.folder))} --repo-id {self.repo_id} "
            f"--repo-type {self.repo_type}{flags}"
        )


def publish(plan: UploadPlan, token: str | None, dry_run: bool, notes: Sequence[str] = ()) -> int:
    """Print the staged tree, then upload it unless this is a dry run (explicit or for lack of a token)."""
    print(file_tree(plan.folder))
    for note in notes:
        print(note)
    if dry_run or not token:
        why = "--dry-run" if dry_run else "no Hugging Face token: set HF_TOKEN or run `hf auth login`"
        print(f"dry run ({why}); nothing was sent. This folder is exactly what would go to {plan.url}")
        return EXIT_OK
    url = upload(plan, token)
    print(f"uploaded {plan.folder} to {url}")
    return EXIT_OK


def upload(plan: UploadPlan, token: str) -> str:
    """``create_repo`` + ``upload_folder``; the repository (at ``revision``) then mirrors the folder.

    ``delete_patterns="*"`` removes remote files that are not staged (``.gitattributes`` is kept by
    ``huggingface_hub``): stale parquet shards would otherwise be read by the README's glob
    patterns, and a stale full-model file would contradict an adapter.
    """
    keep = f"the staged folder is kept: retry with `{plan.retry_command()}`"
    if hub_offline():
        raise HubError(f"HF_HUB_OFFLINE is set, so nothing can be sent to the Hub; {keep}")
    api = HfApi(token=token)
    try:
        api.create_repo(plan.repo_id, repo_type=plan.repo_type, private=plan.private or None, exist_ok=True)
        if plan.private:  # an existing public repository must not receive what was meant to be private
            api.update_repo_settings(plan.repo_id, repo_type=plan.repo_type, private=True)
        if plan.revision and plan.revision != "main":
            api.create_branch(plan.repo_id, repo_type=plan.repo_type, branch=plan.revision, exist_ok=True)
        info = api.upload_folder(
            repo_id=plan.repo_id,
            repo_type=plan.repo_type,
            folder_path=plan.folder,
            revision=plan.revision,
            commit_message=plan.commit_message,
            delete_patterns="*",
        )
    except Exception as err:
        raise HubError(f"upload to {plan.repo_id} failed: {describe_hub_error(err)}; {keep}") from None
    return str(getattr(info, "commit_url", "") or plan.url)


def describe_hub_error(err: Exception) -> str:
    """Status and first line of a Hub error, with a hint where the cause is usually the token."""
    status = getattr(getattr(err, "response", None), "status_code", None)
    first = one_line((str(err).strip().splitlines() or [""])[0], limit=300)
    text = f"{type(err).__name__}: {first}" if first else type(err).__name__
    if status in (401, 403):
        text += " (check that the token is valid and has write access to this namespace)"
    return text
