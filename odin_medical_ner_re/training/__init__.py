"""Fine-tuning and evaluation (the logic behind ``recipes/train.py`` and ``recipes/evaluate_model.py``)."""

from __future__ import annotations

from .backends import ModelArguments, select_backend
from .data import DataArguments
from .run import evaluate_documents, run_training
from .slm import SLMTrainer, cpu_safe_argv

__all__ = [
    "DataArguments",
    "ModelArguments",
    "SLMTrainer",
    "cpu_safe_argv",
    "evaluate_documents",
    "run_training",
    "select_backend",
]
