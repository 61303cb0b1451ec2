"""BigBIO's ``bigbio_kb`` schema: its features and the one converter from a document to a record.

Both the builder's ``to_bigbio_kb`` dataset view and the JSONL export
(:mod:`odin_medical_ner_re.corpora.export`) write records through :func:`bigbio_kb_record`,
so a synthetic note and a benchmark abstract read the same whichever way they are exported.
"""

from __future__ import annotations

import re
from typing import Any

import datasets

from .schema import Document

_DB_PREFIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(MESH:)?[CD]\d+$"), "MESH"),
    (re.compile(r"^OMIM:"), "OMIM"),
    (re.compile(r"^rs\d+$"), "dbSNP"),
    (re.compile(r"^CVCL_"), "Cellosaurus"),
)


def _db_name(concept_id: str, entity_type: str) -> str:
    """Informational database name for BigBIO's ``normalized`` (reading back uses ``db_id`` only)."""
    for pattern, name in _DB_PREFIXES:
        if pattern.match(concept_id):
            return name
    if concept_id.isdigit():
        return "NCBITaxon" if entity_type == "OrganismTaxon" else "NCBIGene"
    return "unknown"


def _passages(doc: Document) -> list[dict[str, Any]]:
    title_end = doc.metadata.get("title_end")
    if isinstance(title_end, int) and 0 < title_end < len(doc.text) and doc.text[title_end] == " ":
        pieces = [("title", 0, title_end), ("abstract", title_end + 1, len(doc.text))]
    else:
        pieces = [(str(doc.metadata.get("passage_type") or "note"), 0, len(doc.text))]
    return [
        {"id": f"{doc.id}-P{i}", "type": kind, "text": [doc.text[start:end]], "offsets": [[start, end]]}
        for i, (kind, start, end) in enumerate(pieces)
    ]


def bigbio_kb_record(doc: Document) -> dict[str, Any]:
    """One ``bigbio_kb`` record: ids prefixed with the document id, concept ids in ``normalized``,
    a PubTator title and abstract as two passages (``metadata["title_end"]``), else one passage."""
    concept_ids = doc.metadata.get("concept_ids") or {}
    return {
        "id": doc.id,
        "document_id": str(doc.metadata.get("pmid") or doc.id),
        "passages": _passages(doc),
        "entities": [
            {
                "id": f"{doc.id}-{e.id}",
                "type": e.type,
                "text": [e.text],
                "offsets": [[e.start, e.end]],
                "normalized": [
                    {"db_name": _db_name(c, e.type), "db_id": c} for c in concept_ids.get(e.id, [])
                ],
            }
            for e in doc.entities
        ],
        "events": [],
        "coreferences": [],
        "relations": [
            {
                "id": f"{doc.id}-{r.id}",
                "type": r.type,
                "arg1_id": f"{doc.id}-{r.head}",
                "arg2_id": f"{doc.id}-{r.tail}",
                "normalized": [],
            }
            for r in doc.relations
        ],
    }


def bigbio_kb_features() -> datasets.Features:
    text_list = datasets.List(datasets.Value("string"))
    offsets = datasets.List(datasets.List(datasets.Value("int32")))
    normalized = datasets.List({"db_name": datasets.Value("string"), "db_id": datasets.Value("string")})
    return datasets.Features(
        {
            "id": datasets.Value("string"),
            "document_id": datasets.Value("string"),
            "passages": datasets.List(
                {
                    "id": datasets.Value("string"),
                    "type": datasets.Value("string"),
                    "text": text_list,
                    "offsets": offsets,
                }
            ),
            "entities": datasets.List(
                {
                    "id": datasets.Value("string"),
                    "type": datasets.Value("string"),
                    "text": text_list,
                    "offsets": offsets,
                    "normalized": normalized,
                }
            ),
            "events": datasets.List(
                {
                    "id": datasets.Value("string"),
                    "type": datasets.Value("string"),
                    "trigger": {"text": text_list, "offsets": offsets},
                    "arguments": datasets.List(
                        {"role": datasets.Value("string"), "ref_id": datasets.Value("string")}
                    ),
                }
            ),
            "coreferences": datasets.List({"id": datasets.Value("string"), "entity_ids": text_list}),
            "relations": datasets.List(
                {
                    "id": datasets.Value("string"),
                    "type": datasets.Value("string"),
                    "arg1_id": datasets.Value("string"),
                    "arg2_id": datasets.Value("string"),
                    "normalized": normalized,
                }
            ),
        }
    )
