"""What a training output folder holds, checked before it becomes a model repository.

A folder without weights, tokenizer or (unless allowed) ``report.json`` would make a broken or
unevaluated repository, so it is refused with one line; checkpoints, logs and the pickled
``training_args.bin`` (which can hold a ``hub_token``) stay local.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from .staging import read_json

ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
MODEL_WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
#: Top-level files of a training output that are not uploaded, and why.
SKIPPED_FILES: dict[str, str] = {
    "README.md": "replaced by the generated model card",
    "training_args.bin": "pickled TrainingArguments, which can hold a hub_token; the card records the config",
}


@dataclass
class TrainedModel:
    """What a training output folder holds that the card and the staging need."""

    folder: Path
    files: list[Path]
    skipped: dict[str, str]
    config: dict[str, Any] | None = None
    adapter: dict[str, Any] | None = None
    training: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] | None = None

    @property
    def is_adapter(self) -> bool:
        return self.adapter is not None

    def data_args(self) -> dict[str, Any]:
        return dict(self.training.get("data") or {})

    def model_args(self) -> dict[str, Any]:
        return dict(self.training.get("model") or {})


def read_trained_model(folder: Path, allow_missing_eval: bool) -> TrainedModel:
    """Check a training output folder and read its JSON files; refuse what would make a broken repo."""
    if not folder.is_dir():
        raise UserInputError(f"model folder {folder} does not exist or is not a folder")
    files, skipped = select_files(folder)
    names = {p.name for p in files}
    model = TrainedModel(folder, files, skipped)
    if "adapter_config.json" in names:
        model.adapter = read_json(folder / "adapter_config.json", "adapter")
        weights = ADAPTER_WEIGHTS
    elif "config.json" in names:
        model.config = read_json(folder / "config.json", "model config")
        weights = MODEL_WEIGHTS
    else:
        raise UserInputError(
            f"{folder} holds no config.json or adapter_config.json: not a trained model folder"
        )
    if not names & set(weights):
        raise UserInputError(f"{folder} holds no weights (expected one of {', '.join(weights)})")
    if not names & set(TOKENIZER_FILES):
        raise UserInputError(f"{folder} holds no tokenizer (tokenizer.json / tokenizer_config.json)")
    if "odin_training.json" in names:
        model.training = read_json(folder / "odin_training.json", "training record")
    model.report = read_report(folder / "report.json", allow_missing_eval)
    return model


def select_files(folder: Path) -> tuple[list[Path], dict[str, str]]:
    """Top-level files to upload, and what is left out with the reason (checkpoints, logs, pickles)."""
    files, skipped = [], {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name.endswith(".tmp"):
            skipped[path.name] = "hidden or temporary"
        elif path.is_dir():
            skipped[path.name + "/"] = "a folder: training checkpoints and logs stay local"
        elif path.name in SKIPPED_FILES:
            skipped[path.name] = SKIPPED_FILES[path.name]
        elif path.is_file():
            files.append(path)
    return files, skipped


def read_report(path: Path, allow_missing_eval: bool) -> dict[str, Any] | None:
    """``report.json`` of the training recipe; its absence is refused unless the user opts out."""
    if not path.is_file():
        if allow_missing_eval:
            return None
        raise UserInputError(
            f"{path.parent} has no report.json (evaluation results); evaluate the model first "
            "(evaluate_splits in the training config) or pass --allow-missing-eval"
        )
    report = read_json(path, "evaluation report")
    splits = report.get("splits")
    if not isinstance(splits, dict) or not splits or not all(isinstance(v, dict) for v in splits.values()):
        raise UserInputError(f"{path}: expected {{'dataset': ..., 'splits': {{split: scores}}}}")
    return report


def split_scores(report: Mapping[str, Any]) -> dict[str, float]:
    """Flat scores of one split: the report's own flat keys, else derived from its nested ``ner``/``re``."""
    flat = {k: v for k, v in report.items() if _is_number(v)}
    if not any(k.startswith(("ner_", "re_")) for k in flat) and ("ner" in report or "re" in report):
        from ..scoring import flatten

        flat = {**flatten(report), **flat}
    return flat


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def index_metric_keys(scores: Mapping[str, Any]) -> list[str]:
    """Micro F1 of every mode plus strict precision and recall, per task, in report order.

    Every flat key would put ~50 numbers per split in the Hub widget; these are the ones a reader
    compares, and the card's table and the uploaded report.json hold the rest.
    """
    keys = []
    for key in scores:
        task, _, rest = key.partition("_")
        mode, _, stat = rest.rpartition("_")
        if task not in ("ner", "re") or not mode or "macro" in mode.split("_"):
            continue
        if stat == "f1" or (mode == "strict" and stat in ("precision", "recall")):
            keys.append(key)
    return keys


def metric_label(key: str) -> str:
    """``ner_strict_f1`` -> ``NER strict micro F1``."""
    task, _, rest = key.partition("_")
    mode, _, stat = rest.rpartition("_")
    stat_name = {"f1": "F1", "precision": "precision", "recall": "recall"}.get(stat, stat)
    return f"{task.upper()} {mode.replace('_', ' ')} micro {stat_name}"
