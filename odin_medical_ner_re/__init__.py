"""odin-medical-ner-re: synthetic medical NER/RE data, scoring, and small-LM fine-tuning.

Heavy parts (``datasets``, ``torch``, the real-corpus adapters) are imported on first use,
so ``import odin_medical_ner_re`` stays fast for the CLI and for scoring-only users.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from .errors import UserInputError
from .evaluator import EntityPrediction, NERREvaluator, RelationPrediction
from .metric import METRIC_PATH
from .schema import (
    ENTITY_TYPES,
    RELATION_TYPES,
    VALID_RELATION_ARGUMENTS,
    Document,
    Entity,
    Relation,
    load_documents,
    save_documents,
    validate,
)
from .scoring import format_report, score_documents

#: name -> module that defines it, imported when first asked for.
_LAZY = {
    "MedicalTextGenerator": "generator",
    "load_dataset": "builder",
    "make_builder": "builder",
    "OdinNerRe": "builder",
    "OdinNerReConfig": "builder",
    "to_bigbio_kb": "builder",
    "export_hub_layout": "hub_layout",
    "load_benchmark": "corpora",
    "load_benchmark_documents": "corpora",
    "load_knowledge_base": "knowledge",
    "SLMTrainer": "training",
    "predict": "inference",
    "load_model": "inference",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ENTITY_TYPES",
    "METRIC_PATH",
    "RELATION_TYPES",
    "VALID_RELATION_ARGUMENTS",
    "Document",
    "Entity",
    "EntityPrediction",
    "NERREvaluator",
    "Relation",
    "RelationPrediction",
    "UserInputError",
    "format_report",
    "load_documents",
    "save_documents",
    "score_documents",
    "validate",
    "__version__",
    *_LAZY,
]
