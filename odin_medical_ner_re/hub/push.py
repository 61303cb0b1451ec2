"""Publish the dataset or a trained model to the Hugging Face Hub, staging the exact folder first.

One parser serves ``hub/push.py`` and ``odin-ner-re push`` (TRL's ``make_parser(subparsers)``):

    odin-ner-re push dataset --configs 1k,10k,complex --repo-id USER/odin_medical_ner_re [--dry-run]
    odin-ner-re push model outputs/tiny-cpu --repo-id USER/odin-ner-re-tiny [--dry-run]
    odin-ner-re push upload hub-staging/odin_medical_ner_re --repo-id USER/odin_medical_ner_re --repo-type dataset

Every command first writes the folder that becomes the repository (``--output-dir``, default
``hub-staging/<repo name>``) and prints its tree; the upload then sends exactly that folder. So what a
dry run showed is what lands on the Hub, and a failed upload is retried from the folder with
``upload`` instead of rebuilding (:mod:`.staging`, :mod:`.upload`).

Without a token (``HF_TOKEN`` or the ``hf auth login`` cache) or with ``--dry-run`` nothing is sent.
The token is read once and never printed, logged or written (:mod:`.tokens`).

Exit codes: 0 staged (and uploaded when there is a token); 1 the Hub could not be reached or refused
the upload (one line on stderr; the staged folder is kept for a retry); 2 bad input or a local
file problem (one ``error:`` line, no traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from .dataset import DATASET_NAME, SPLIT_SIZE_OPTIONS, run_dataset
from .model import run_model
from .tokens import HubError, check_no_token, one_line, resolve_token, scrub
from .upload import EXIT_HUB, EXIT_USAGE, SCRIPT_COMMAND, UploadPlan, checked_repo_id, publish

DESCRIPTION = "Stage the dataset or a trained model as a Hub repository folder, then upload it."
#: How the CLI names this command, in retry hints and ``--help``.
CLI_COMMAND = "odin-ner-re push"


def run_upload(args: argparse.Namespace, token: str | None) -> int:
    """Send an already staged folder (after a failed upload) without rebuilding it."""
    repo_id = checked_repo_id(args.repo_id)
    folder = Path(os.path.abspath(args.folder))
    if not (folder / "README.md").is_file():
        raise UserInputError(
            f"{folder} is not a staged folder (no README.md); run `dataset` or `model` first"
        )
    check_no_token(folder, token)
    message = args.commit_message or "Upload with odin-medical-ner-re"
    plan = UploadPlan(
        folder, repo_id, args.repo_type, args.private, args.revision, message, args.push_command
    )
    return publish(plan, token, args.dry_run)


def _common(parser: argparse.ArgumentParser, default_name: str) -> None:
    parser.add_argument(
        "--repo-id", required=True, metavar="OWNER/NAME", help=f"Hub repository, e.g. USER/{default_name}"
    )
    parser.add_argument("--dry-run", action="store_true", help="stage and print the folder; send nothing")
    parser.add_argument("--private", action="store_true", help="create (or switch) the repository to private")
    parser.add_argument("--revision", metavar="BRANCH", help="branch to commit to (created if missing)")
    parser.add_argument("--commit-message", metavar="TEXT", help="commit message of the upload")


def _staging_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-dir", metavar="DIR", help="staging folder (default: hub-staging/<repo name>)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --output-dir even if it holds other files (deleted)"
    )


def make_parser(subparsers: Any = None) -> argparse.ArgumentParser:
    """The parser of ``hub/push.py``; given the CLI's ``subparsers``, the same parser as its ``push`` command.

    TRL's ``make_parser(subparsers)``: the script and the sub-command take the same options and
    run the same :func:`run`; only the program name in ``--help`` and in retry hints differs.
    """
    if subparsers is None:
        parser = argparse.ArgumentParser(prog="hub/push.py", description=DESCRIPTION)
        command = SCRIPT_COMMAND
    else:
        parser = subparsers.add_parser(
            "push",
            help="stage the dataset or a trained model as a Hub repository, then upload it",
            description=DESCRIPTION,
        )
        command = CLI_COMMAND
    parser.set_defaults(func=run, push_command=command)
    sub = parser.add_subparsers(dest="push_target", required=True, metavar="COMMAND")

    dataset = sub.add_parser("dataset", help="build configs and push the dataset (parquet + card)")
    _common(dataset, DATASET_NAME)
    _staging_options(dataset)
    dataset.add_argument(
        "--configs", default="1k,10k,complex,literature", help="comma-separated configs (default: all)"
    )
    dataset.add_argument(
        "--quality-report", metavar="PATH", help="report.json of `odin-ner-re report` for the card"
    )
    for option in SPLIT_SIZE_OPTIONS:
        dataset.add_argument(
            f"--{option.replace('_', '-')}", type=int, dest=option, metavar="N", help=f"override {option}"
        )
    dataset.add_argument("--seed", type=int, help="override the seed of every config")
    dataset.add_argument("--num-proc", type=int, help="processes that generate shards in parallel")
    dataset.add_argument("--cache-dir", help="datasets cache folder (default: the datasets default)")
    dataset.add_argument("--max-rows-per-shard", type=int, metavar="N", help="rows per parquet file")
    dataset.set_defaults(push_func=run_dataset)

    model = sub.add_parser(
        "model", help="push a trained output folder (full model or LoRA adapter) with a card"
    )
    model.add_argument(
        "model_dir", metavar="OUTPUT_DIR", help="output_dir of recipes/train.py (odin-ner-re train)"
    )
    _common(model, "odin-ner-re-tiny")
    _staging_options(model)
    model.add_argument("--allow-missing-eval", action="store_true", help="push even without report.json")
    model.add_argument(
        "--dataset-repo-id",
        metavar="OWNER/NAME",
        help=f"dataset the card links to (default: OWNER/{DATASET_NAME})",
    )
    model.add_argument(
        "--license", default="apache-2.0", help="license id for the card (default: apache-2.0)"
    )
    model.set_defaults(push_func=run_model)

    upload_cmd = sub.add_parser("upload", help="upload an already staged folder (retry after a failure)")
    upload_cmd.add_argument("folder", metavar="STAGED_DIR")
    _common(upload_cmd, DATASET_NAME)
    upload_cmd.add_argument("--repo-type", choices=("dataset", "model"), required=True)
    upload_cmd.set_defaults(push_func=run_upload)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``hub/push.py``: parse the command line and :func:`run` it."""
    return run(make_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run one parsed command; every failure becomes one scrubbed line on stderr and an exit code."""
    token: str | None = None
    try:
        token = resolve_token()
        return int(args.push_func(args, token))
    except UserInputError as err:
        return _fail(EXIT_USAGE, f"error: {err}", token)
    except HubError as err:
        return _fail(EXIT_HUB, f"error: {err}", token)
    except OSError as err:  # local I/O (disk full, permissions): the Hub's failures are HubError
        return _fail(EXIT_USAGE, f"error: {err}", token)
    except KeyboardInterrupt:
        return _fail(130, "error: interrupted", token)
    except Exception:  # a bug: keep the traceback for the report, without the token
        print(scrub(traceback.format_exc(), token), file=sys.stderr, end="")
        return EXIT_HUB


def _fail(code: int, message: str, token: str | None) -> int:
    print(one_line(scrub(message, token)), file=sys.stderr)
    return code
