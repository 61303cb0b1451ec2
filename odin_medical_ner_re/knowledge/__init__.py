"""The curated medical knowledge base: concepts, their surface forms, and true edges.

Facts live in YAML data files (``knowledge/data/*.yaml``, format in ``FORMAT.md``); this
module only loads and checks them. Every relation the generator writes is an edge of
this knowledge base, which is what makes "100% factual consistency" a testable property.
"""

from __future__ import annotations

from .loader import (
    DATA_DIR,
    LIST_KEYS,
    Concept,
    Edge,
    KnowledgeBase,
    KnowledgeBaseError,
    load_knowledge_base,
)

__all__ = [
    "DATA_DIR",
    "LIST_KEYS",
    "Concept",
    "Edge",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "load_knowledge_base",
]
