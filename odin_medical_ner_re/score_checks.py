"""Predictions and references checked before scoring, as ``stats`` checks a dataset.

The scorer reads whatever shape it is given and scores what it can; a mention whose ``text``
is not ``text[start:end]``, a type nobody knows or a document id given twice would be scored
silently and wrongly. :func:`check_scoring_inputs` finds them first: by default the first one
is a user error naming the side, document and item; with ``lenient`` such items are dropped
(a repeated document id drops that document pair) and counted, so the report can say how many.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import UserInputError
from .schema import ENTITY_TYPES, RELATION_TYPES

_HINT = "; pass --lenient (lenient=True) to skip such items and count them"


def _mapping(raw: Any) -> Any:
    if isinstance(raw, Mapping):
        return raw
    to_dict = getattr(raw, "to_dict", None)
    return to_dict() if callable(to_dict) else raw


def _items(column: Any) -> list[Any] | None:
    """A list of items from a list or a ``datasets`` dict of lists; None for shapes left to the scorer."""
    if column is None:
        return []
    if isinstance(column, list):
        return [_mapping(item) for item in column]
    if isinstance(column, Mapping):
        keys = list(column)
        try:
            return [
                dict(zip(keys, values, strict=True))
                for values in zip(*(column[k] for k in keys), strict=True)
            ]
        except (TypeError, ValueError):
            return None
    return None


class _Problems:
    """Collects problems: raises on the first unless lenient, then counts by reason."""

    def __init__(self, lenient: bool) -> None:
        self.lenient = lenient
        self.skipped: Counter[str] = Counter()

    def report(self, reason: str, message: str) -> None:
        if not self.lenient:
            raise UserInputError(message + _HINT)
        self.skipped[reason] += 1


def _where(side: str, index: int, doc: Any) -> str:
    ident = doc.get("id") if isinstance(doc, Mapping) else None
    return f"{side} document {index}" + (f" (id {ident!r})" if ident is not None else "")


def _clean(doc: Any, text: Any, entity_types: set[str], relation_types: set[str]) -> bool:
    """True when a document of the common shape (lists of dicts) has nothing to report.

    The scan every document gets, kept to plain loops: the metric runs it on every call, so it
    must cost a fraction of the scoring. Anything unusual goes to the careful path.
    """
    if type(doc) is not dict or type(text) is not str:
        return False
    entities, relations = doc.get("entities") or [], doc.get("relations") or []
    if type(entities) is not list or type(relations) is not list:
        return False
    for entity in entities:
        if type(entity) is not dict:
            return False
        kind, start, end, mention = (
            entity.get("type"),
            entity.get("start"),
            entity.get("end"),
            entity.get("text"),
        )
        if type(kind) is str and kind not in entity_types:
            return False
        if (
            type(start) is int
            and type(end) is int
            and type(mention) is str
            and (len(mention) != end - start or not text.startswith(mention, start))
        ):
            return False
    for relation in relations:
        if type(relation) is not dict:
            return False
        kind = relation.get("type")
        if type(kind) is str and kind not in relation_types:
            return False
    return True


def _check_document(
    doc: Mapping[str, Any],
    text: Any,
    where: str,
    entity_types: set[str],
    relation_types: set[str],
    problems: _Problems,
) -> Mapping[str, Any]:
    """The document, or a copy without its bad entities and relations (lenient)."""
    if _clean(doc, text, entity_types, relation_types):
        return doc
    entities, relations = _items(doc.get("entities")), _items(doc.get("relations"))
    if entities is None or relations is None:
        return doc  # unusual shape: the scorer reports it precisely
    kept, dropped_ids = [], set()
    for position, entity in enumerate(entities):
        if not isinstance(entity, Mapping):
            kept.append(entity)
            continue
        problem = _entity_problem(entity, text, entity_types)
        if problem is None:
            kept.append(entity)
            continue
        reason, detail = problem
        problems.report(reason, f"{where}: entity {position} (id {entity.get('id')!r}) {detail}")
        if entity.get("id") is not None:
            dropped_ids.add(str(entity.get("id")))
    kept_relations = []
    for position, relation in enumerate(relations):
        kind = relation.get("type") if isinstance(relation, Mapping) else None
        if isinstance(kind, str) and kind not in relation_types:
            problems.report(
                "unknown_relation_type",
                f"{where}: relation {position} has unknown type {kind!r} (known: {', '.join(sorted(relation_types))})",
            )
            continue
        refs = {str(relation.get(k)) for k in ("head", "tail")} if isinstance(relation, Mapping) else set()
        if refs & dropped_ids:
            problems.skipped["relation_of_skipped_entity"] += 1
            continue
        kept_relations.append(relation)
    if len(kept) == len(entities) and len(kept_relations) == len(relations):
        return doc
    return {**doc, "entities": kept, "relations": kept_relations}


def _entity_problem(entity: Mapping[str, Any], text: Any, entity_types: set[str]) -> tuple[str, str] | None:
    kind = entity.get("type")
    if isinstance(kind, str) and kind not in entity_types:
        return "unknown_entity_type", f"has unknown type {kind!r} (known: {', '.join(sorted(entity_types))})"
    start, end, mention = entity.get("start"), entity.get("end"), entity.get("text")
    if (
        isinstance(text, str)
        and isinstance(mention, str)
        and type(start) is int
        and type(end) is int
        and 0 <= start < end <= len(text)
        and text[start:end] != mention
    ):
        return "text_mismatch", f"text {mention!r} != text[{start}:{end}] {text[start:end]!r}"
    return None


def _string_types(documents: Sequence[Any], field: str) -> set[str]:
    try:  # the common shape, in one comprehension
        return {
            item["type"] for doc in documents for item in (doc.get(field) or ()) if type(item["type"]) is str
        }
    except (AttributeError, KeyError, TypeError):
        pass
    found: set[str] = set()
    for doc in documents:
        items = _items(doc.get(field)) if isinstance(doc, Mapping) else None
        for item in items or ():
            if isinstance(item, Mapping) and isinstance(item.get("type"), str):
                found.add(item["type"])
    return found


def check_scoring_inputs(
    predictions: Sequence[Any],
    references: Sequence[Any],
    *,
    entity_labels: Sequence[str] | None = None,
    relation_labels: Sequence[str] | None = None,
    lenient: bool = False,
) -> tuple[list[Any], list[Any], dict[str, int]]:
    """``(predictions, references, skipped counts)`` ready for :func:`~.scoring.score_documents`.

    Checked on both sides: an entity's ``text`` equals ``text[start:end]`` (a prediction without
    text of its own is checked against its reference's), string types are known, and no document
    id repeats. Known types are ``entity_labels``/``relation_labels`` when given, else the schema's
    plus those the references use (so a benchmark's native labels are accepted, a typo in a
    prediction is not). Lists of a different length are left to the scorer, which explains them.
    """
    preds = [d if type(d) is dict else _mapping(d) for d in predictions]
    refs = [d if type(d) is dict else _mapping(d) for d in references]
    problems = _Problems(lenient)
    entity_types = (
        set(entity_labels) if entity_labels is not None else {*ENTITY_TYPES, *_string_types(refs, "entities")}
    )
    relation_types = (
        set(relation_labels)
        if relation_labels is not None
        else {*RELATION_TYPES, *_string_types(refs, "relations")}
    )
    if len(preds) != len(refs):
        return preds, refs, {}  # the scorer's error explains the pairing
    drop: set[int] = set()
    for side, docs in (("reference", refs), ("prediction", preds)):
        seen: dict[str, int] = {}
        for index, doc in enumerate(docs):
            ident = doc.get("id") if isinstance(doc, Mapping) else None
            if ident is None:
                continue
            if str(ident) in seen:
                problems.report(
                    "duplicate_document_id",
                    f"{side} document {index}: duplicate document id {ident!r} (first at document {seen[str(ident)]})",
                )
                drop.add(index)
            else:
                seen[str(ident)] = index
    checked_refs: list[Any] = []
    checked_preds: list[Any] = []
    for index, (pred, ref) in enumerate(zip(preds, refs, strict=True)):
        if index in drop:
            continue
        if isinstance(ref, Mapping):
            ref = _check_document(
                ref, ref.get("text"), _where("reference", index, ref), entity_types, relation_types, problems
            )
        if isinstance(pred, Mapping):
            text = pred.get("text")
            if text is None and isinstance(ref, Mapping):
                text = ref.get("text")
            pred = _check_document(
                pred, text, _where("prediction", index, pred), entity_types, relation_types, problems
            )
        checked_refs.append(ref)
        checked_preds.append(pred)
    return checked_preds, checked_refs, dict(problems.skipped)
