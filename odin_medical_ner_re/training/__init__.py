"""Fine-tuning and evaluation (the logic behind ``recipes/train.py`` and ``recipes/evaluate_model.py``).

Names are imported on first use: the argument classes extend TRL's, and importing TRL
imports transformers, which must come after ``import unsloth`` when Unsloth is the
backend (see :mod:`.launch`). ``import odin_medical_ner_re.training.launch`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

#: name -> submodule that defines it.
_LAZY = {
    "DataArguments": "arguments",
    "ModelArguments": "arguments",
    "EvaluationArguments": "arguments",
    "training_parser": "arguments",
    "evaluation_parser": "arguments",
    "parse_recipe_args": "arguments",
    "SLMTrainer": "slm",
    "cpu_safe_argv": "slm",
    "evaluate_documents": "run",
    "run_training": "run",
    "select_backend": "launch",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
