"""The seed's API kept usable: ``SLMTrainer(config_path).train(dataset_path)`` and ``.predict(docs)``."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..schema import Document


def cpu_safe_argv(argv: Sequence[str]) -> list[str]:
    """Turn bf16 and gradient checkpointing off when no GPU is present, unless asked explicitly.

    ``SFTConfig`` defaults to bf16 (an error on CPU) and checkpointing (slow on CPU); a
    config written for a GPU should still start on a laptop and fail, if at all, on what
    it really lacks (Unsloth, a download), with one clear line.
    """
    from . import launch

    args = list(argv)
    if launch.cuda_available() or os.environ.get("ODIN_KEEP_BF16") == "1":
        return args
    for flags in (("--bf16",), _checkpointing_flags(), ("--use_cpu",)):
        if not any(flag in args or any(a.startswith(flag + "=") for a in args) for flag in flags):
            args += [flags[0], "true" if flags[0] == "--use_cpu" else "false"]
    return args


#: The checkpointing switch under its current name first (transformers >= 5.25), then the older one.
CHECKPOINTING_FLAGS = ("--activation_checkpointing", "--gradient_checkpointing")


def _checkpointing_flags() -> tuple[str, ...]:
    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    return tuple(flag for flag in CHECKPOINTING_FLAGS if flag[2:] in names)


class SLMTrainer:
    """Train from a recipe YAML config on a documents file, then predict on new documents."""

    def __init__(self, config_path: str | os.PathLike[str], **overrides: Any) -> None:
        self.config_path = Path(config_path)
        if not self.config_path.is_file():
            raise UserInputError(f"config file {self.config_path} does not exist")
        self.overrides = overrides
        self.output_dir: Path | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._labels: tuple[list[str], list[str]] | None = None

    def _parse(self, extra: dict[str, Any]) -> tuple[Any, Any, Any]:
        from .arguments import parse_recipe_args, training_parser

        argv = ["--config", str(self.config_path)]
        for key, value in {**self.overrides, **extra}.items():
            argv += [f"--{key}", str(value)]
        return parse_recipe_args(training_parser(), cpu_safe_argv(argv))

    def train(self, dataset_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """Train on a JSON/JSONL documents file (or the config's dataset when None)."""
        from .run import run_training

        extra = {"dataset_path": str(dataset_path), "eval_strategy": "no"} if dataset_path else {}
        data_args, training_args, model_args = self._parse(extra)
        if dataset_path:
            data_args.evaluate_splits = None  # a documents file has no test split to score
        results = run_training(data_args, training_args, model_args)
        self.output_dir = Path(training_args.output_dir)
        self._model = None
        return results

    def load(self, model_dir: str | os.PathLike[str] | None = None) -> SLMTrainer:
        import json

        from ..inference import load_model

        folder = Path(model_dir) if model_dir else self.output_dir
        if folder is None:
            raise UserInputError("no trained model yet: call train() or load(model_dir) first")
        self._model, self._tokenizer = load_model(folder)
        info = folder / "odin_training.json"
        if info.is_file():
            meta = json.loads(info.read_text(encoding="utf-8"))
            self._labels = (meta["entity_types"], meta["relation_types"])
        self.output_dir = folder
        return self

    def predict(self, documents: Sequence[Document | dict[str, Any]], batch_size: int = 16) -> list[Document]:
        """Documents with the model's predicted entities and relations (input texts and ids kept)."""
        from ..inference import predict
        from ..schema import ENTITY_TYPES, RELATION_TYPES

        if self._model is None:
            self.load()
        docs = [
            d if isinstance(d, Document) else Document.from_dict(d, default_id=f"doc-{i}")
            for i, d in enumerate(documents)
        ]
        entity_types, relation_types = self._labels or (list(ENTITY_TYPES), list(RELATION_TYPES))
        predictions, _ = predict(
            self._model,
            self._tokenizer,
            docs,
            entity_types=entity_types,
            relation_types=relation_types,
            batch_size=batch_size,
        )
        return predictions
