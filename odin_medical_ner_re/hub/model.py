"""``push model``: stage a training output folder (full model or LoRA adapter) with its card, publish it.

Weights are hard-linked into the staging when possible (they can be gigabytes and are never
modified there); the card is rendered by :mod:`.model_card`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .. import __version__
from ..errors import UserInputError
from .dataset import DATASET_NAME
from .model_card import local_base_model, render_model_card
from .staging import link_or_copy, staged, staging_dir
from .tokens import check_no_token
from .trained_model import TrainedModel, read_trained_model
from .upload import UploadPlan, checked_repo_id, publish


def is_previous_model_staging(folder: Path) -> bool:
    """A folder this command wrote: only files, a README and a model or adapter config."""
    entries = list(folder.iterdir())
    names = {p.name for p in entries}
    return (
        all(p.is_file() for p in entries)
        and "README.md" in names
        and bool(names & {"config.json", "adapter_config.json"})
    )


def stage_model(args: argparse.Namespace, repo_id: str, token: str | None) -> tuple[Path, TrainedModel]:
    source = Path(os.path.abspath(args.model_dir))
    model = read_trained_model(source, args.allow_missing_eval)
    target = staging_dir(args.output_dir, repo_id)
    if target == source or target in source.parents:
        raise UserInputError(f"--output-dir {target} would replace the model folder {source}; choose another")
    dataset_repo_id = args.dataset_repo_id or f"{repo_id.split('/')[0]}/{DATASET_NAME}"
    card = render_model_card(model, repo_id, dataset_repo_id=dataset_repo_id, license_id=args.license)
    with staged(target, is_previous_model_staging, args.overwrite) as partial:
        for path in model.files:
            link_or_copy(path, partial / path.name)
        (partial / "README.md").write_text(card, encoding="utf-8")
        check_no_token(partial, token)
    return target, model


def run_model(args: argparse.Namespace, token: str | None) -> int:
    repo_id = checked_repo_id(args.repo_id)
    folder, model = stage_model(args, repo_id, token)
    notes = [f"not uploaded: {name} ({why})" for name, why in model.skipped.items()]
    if local_base_model(model):
        notes.append(
            f"warning: the adapter's base model {local_base_model(model)!r} is not a Hub model id; "
            "others cannot load this adapter without it"
        )
    kind = "LoRA adapter" if model.is_adapter else "model"
    message = args.commit_message or f"Upload {kind} trained with odin-medical-ner-re {__version__}"
    plan = UploadPlan(folder, repo_id, "model", args.private, args.revision, message, args.push_command)
    return publish(plan, token, args.dry_run, notes)
