"""Document-level relation scoring: the official BC5CDR (CID) and BioRED protocol.

Those corpora annotate relations between *concepts* of an abstract, not between mentions; a
system is right when it finds the (type, id1, id2) pair anywhere in the document. Mention-level
scores (``scoring.score_documents``) are kept for comparison with the synthetic data, but the
numbers published for these corpora are document-level.

Predicted relations link predicted mentions, which carry no ids unless the system normalizes.
:func:`predicted_document_pairs` takes the ids from the prediction's own ``concept_ids``
metadata when present, else from the gold mention with the same span (gold linking, the usual
"given perfect normalization" setting), else the normalized mention text stands in as an id (it
can never match a gold id, so such a pair is a false positive). A mention with several ids
yields every combination.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import product
from typing import Any

from ..schema import Document
from ..scoring import normalize_text, prf

Pair = tuple[str, str, str]


def _mapping(doc: Document | Mapping[str, Any]) -> Mapping[str, Any]:
    return doc.to_dict() if isinstance(doc, Document) else doc


def document_pairs(documents: Iterable[Document | Mapping[str, Any]]) -> dict[str, set[Pair]]:
    """``{document id: {(type, id1, id2), ...}}`` from the ``document_relations`` metadata."""
    out: dict[str, set[Pair]] = {}
    for doc in documents:
        data = _mapping(doc)
        pairs = (data.get("metadata") or {}).get("document_relations") or []
        out[str(data["id"])] = {(p["type"], p["id1"], p["id2"]) for p in pairs}
    return out


def _entity_ids(pred: Mapping[str, Any], gold: Mapping[str, Any]) -> dict[str, list[str]]:
    """Concept ids of each predicted entity (see the module docstring for the order of sources)."""
    own = (pred.get("metadata") or {}).get("concept_ids") or {}
    gold_ids = (gold.get("metadata") or {}).get("concept_ids") or {}
    by_span: dict[tuple[int, int], list[str]] = {}
    for entity in gold.get("entities") or []:
        by_span.setdefault((entity["start"], entity["end"]), []).extend(gold_ids.get(entity["id"], []))
    text = pred.get("text") or gold.get("text") or ""
    ids: dict[str, list[str]] = {}
    for entity in pred.get("entities") or []:
        start, end = entity.get("start"), entity.get("end")
        found = own.get(entity["id"]) or by_span.get((start, end))
        if not found:
            mention = entity.get("text") or (text[start:end] if start is not None else "")
            found = [f"text:{normalize_text(mention)}"]
        ids[entity["id"]] = list(dict.fromkeys(found))
    return ids


def predicted_document_pairs(
    predictions: Sequence[Document | Mapping[str, Any]], references: Sequence[Document | Mapping[str, Any]]
) -> dict[str, set[Pair]]:
    """Document-level pairs implied by predicted mention-level relations (paired by position)."""
    out: dict[str, set[Pair]] = {}
    for pred_doc, gold_doc in zip(predictions, references, strict=True):
        pred, gold = _mapping(pred_doc), _mapping(gold_doc)
        ids = _entity_ids(pred, gold)
        pairs: set[Pair] = set()
        for relation in pred.get("relations") or []:
            heads, tails = ids.get(relation["head"], []), ids.get(relation["tail"], [])
            pairs.update((relation["type"], h, t) for h, t in product(heads, tails))
        out[str(gold["id"])] = pairs
    return out


def _counts(gold: set[Pair], pred: set[Pair]) -> tuple[int, int, int]:
    return len(gold), len(pred), len(gold & pred)


def _row(gold: int, pred: int, correct: int) -> dict[str, Any]:
    precision, recall, f1 = prf(correct, pred, gold)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": gold,
        "correct": correct,
        "missed": gold - correct,
        "spurious": pred - correct,
    }


def score_document_pairs(gold: Mapping[str, set[Pair]], predicted: Mapping[str, set[Pair]]) -> dict[str, Any]:
    """Micro P/R/F1 over (document, type, id1, id2), per type and macro, as in the official scripts.

    Documents missing from ``predicted`` have no predicted pair; predicted documents missing
    from ``gold`` count as all-spurious. The empty convention is the scoring module's (``prf``).
    """
    totals = [0, 0, 0]
    per_type: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for doc_id in sorted(set(gold) | set(predicted)):
        g, p = gold.get(doc_id, set()), predicted.get(doc_id, set())
        for kind in {t for t, _, _ in g | p}:
            counts = _counts({x for x in g if x[0] == kind}, {x for x in p if x[0] == kind})
            per_type[kind] = [a + b for a, b in zip(per_type[kind], counts, strict=True)]
        totals = [a + b for a, b in zip(totals, _counts(g, p), strict=True)]
    types = {kind: _row(*counts) for kind, counts in sorted(per_type.items())}
    macro = (
        {name: sum(r[name] for r in types.values()) / len(types) for name in ("precision", "recall", "f1")}
        if types
        else {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    )
    return {
        "documents": len(set(gold) | set(predicted)),
        "micro": _row(*totals),
        "macro": macro,
        "per_type": types,
    }
