"""odin-medical-ner-re: synthetic medical NER/RE data, scoring, and small-LM fine-tuning."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import UserInputError
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

__all__ = [
    "ENTITY_TYPES",
    "RELATION_TYPES",
    "VALID_RELATION_ARGUMENTS",
    "Document",
    "Entity",
    "Relation",
    "UserInputError",
    "load_documents",
    "save_documents",
    "validate",
    "__version__",
]
