"""Reading documents into columns: the first pass of scoring, and where identical pairs are found.

Documents are flattened into columns: every entity becomes (doc, start, end, type, text) and
every relation (doc, type, head, tail), so that matching can use set algebra and sweeps over
all documents at once. Each document is read by a fast path (plain dicts, string or index
types, int offsets inside the text, entity ids that resolve) and, when that path declines, by
a careful path that accepts every supported shape and raises the precise error. On the fast
path a document's entities and relations are rows fetched in C, and the identical rows of a
prediction and its reference are paired on the spot (the first step of every mode), so only
the leftovers, typically a fifth, become scored tuples.
"""

from __future__ import annotations

import itertools
import numbers
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from ..errors import UserInputError
from ..schema import struct_rows
from .matching import multiset_match
from .text import align_mentions

#: An entity as scored: (document index, start, end, type, text as given); start/end are None
#: when unknown. Texts are normalized only where a mode compares them (``type``, ``relaxed``),
#: and only for the items the identity pass leaves over.
ScoredEntity = tuple[int, Any, Any, str, str]
#: An entity as read: (start, end, type, text as given or None).
RawEntity = tuple[Any, Any, str, Any]
#: A relation as scored: (document index, type, head, tail).
ScoredRelation = tuple[int, str, ScoredEntity, ScoredEntity]

_TYPE = itemgetter(3)  # of an entity or a (doc, start, end, type) key
_KEY_TYPE = itemgetter(1)  # of a relation or a (doc, type, ...) bag key
_END = itemgetter(2)
_NO_LIMIT = sys.maxsize


class _Side:
    """How to read one side (predictions or references) and name it in errors."""

    __slots__ = ("entity_labels", "name", "relation_labels")

    def __init__(self, name: str, entity_labels: Sequence[str], relation_labels: Sequence[str]) -> None:
        self.name = name
        self.entity_labels = entity_labels
        self.relation_labels = relation_labels


class _Where:
    """A document's location, formatted only when an error needs it."""

    __slots__ = ("doc_id", "index", "side")

    def __init__(self, side: str, index: int, doc_id: Any) -> None:
        self.side, self.index, self.doc_id = side, index, doc_id

    def __str__(self) -> str:
        ident = f" (id {self.doc_id!r})" if self.doc_id is not None else ""
        return f"{self.side} document {self.index}{ident}"


class Columns:
    """One side's documents, flattened.

    ``entities`` holds only the entities that reading did not already pair with an identical
    entity of the other side: documents of the common shape are compared as they are read
    (:func:`_read_side`), so most entities never become scored tuples at all. ``type_counts``
    counts every entity.
    """

    def __init__(self) -> None:
        self.ids: list[Any] = []
        self.texts: list[str | None] = []
        self.entities: list[ScoredEntity] = []
        self.rows: list[list[RawEntity] | None] = []  # per document: (start, end, type, text), or None
        self.in_order = True  # ``entities`` is sorted (only documents of the common shape were read)
        #: per document: (type, head row, tail row) of each relation, or None (read the careful way)
        self.relation_rows: list[list[tuple[str, RawEntity, RawEntity]] | None] = []
        self.relation_counts: Counter[str] = Counter()  # every relation, per type
        self.type_counts: Counter[str] = Counter()
        self.relations: list[ScoredRelation] = []
        self.aligned = 0
        self.spanless = 0  # entities without a span
        self.spanless_arguments = False  # some relation argument has no span


def _as_mapping(raw: Any, where: _Where) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    to_dict = getattr(raw, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise UserInputError(f"{where}: expected a document (mapping or Document), got {type(raw).__name__}")


def _rows(column: Any, where: _Where, name: str) -> list[Any]:
    """A list-of-structs column as a list of items (:func:`~odin_medical_ner_re.schema.struct_rows`),
    a malformed one as a user error naming the document."""
    try:
        return struct_rows(column)
    except ValueError:
        raise UserInputError(f"{where}: the '{name}' columns have different lengths") from None
    except TypeError as err:
        raise UserInputError(f"{where}: '{name}' {err}") from None


def _label(value: Any, labels: Sequence[str], where: _Where, item: str) -> str:
    """A type name from a string or a ``ClassLabel`` index."""
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if 0 <= value < len(labels):
            return labels[value]
        raise UserInputError(
            f"{where}: {item} has label index {value}, outside the {len(labels)} known labels {list(labels)}"
        )
    raise UserInputError(f"{where}: {item} needs a type (string or label index), got {value!r}")


def _offset(value: Any, where: _Where, item: str, name: str) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise UserInputError(f"{where}: {item} has a non-integer {name} {value!r}")


def _get(item: Any, key: str) -> Any:
    if type(item) is dict or isinstance(item, Mapping):
        return item.get(key)
    return getattr(item, key, None)


def _entity_name(item: Any, position: int) -> str:
    return f"entity {position} (id {_get(item, 'id')!r})"


_ROW = itemgetter("start", "end", "type", "text")
_ROW_TYPE = itemgetter(2)
_prefixed = tuple.__add__  # (doc,) + row: a scored entity built in C


def _fast_rows(items: list[Any], text: str | None, labels: Sequence[str]) -> list[RawEntity] | None:
    """``(start, end, type, text)`` of entities of the common shape (string types or ``ClassLabel``
    indices, string texts, int offsets inside the text), fetched in C; None when any entity is of
    another shape."""
    try:
        rows = list(map(_ROW, items))
    except (KeyError, TypeError, AttributeError):
        return None
    limit = len(text) if text is not None else _NO_LIMIT
    indexed = False
    for start, end, kind, mention in rows:
        if (
            type(start) is not int
            or type(end) is not int
            or type(mention) is not str
            or not 0 <= start < end <= limit
        ):
            return None
        if type(kind) is not str:
            if type(kind) is not int or not 0 <= kind < len(labels):
                return None
            indexed = True  # dataset rows: label indices
    if indexed:
        return [
            (start, end, kind if type(kind) is str else labels[kind], mention)
            for start, end, kind, mention in rows
        ]
    return rows


def _read_entity(item: Any, position: int, text: str | None, side: _Side, where: _Where) -> RawEntity:
    """(start, end, type, raw text) of one entity of any supported shape, or a precise error."""
    start, end, kind, mention = (_get(item, key) for key in ("start", "end", "type", "text"))
    kind = _label(kind, side.entity_labels, where, _entity_name(item, position))
    if mention is not None and not isinstance(mention, str):
        raise UserInputError(f"{where}: {_entity_name(item, position)} has a non-string text {mention!r}")
    if start is None and end is None:
        return None, None, kind, mention
    if start is None or end is None:
        raise UserInputError(
            f"{where}: {_entity_name(item, position)} has only one of start/end ({start!r}, {end!r})"
        )
    start = _offset(start, where, _entity_name(item, position), "start")
    end = _offset(end, where, _entity_name(item, position), "end")
    if not 0 <= start < end or (text is not None and end > len(text)):
        bound = f" of length {len(text)}" if text is not None else ""
        raise UserInputError(
            f"{where}: {_entity_name(item, position)} offsets [{start}, {end}) are empty "
            f"or outside the text{bound}"
        )
    return start, end, kind, mention


def _scored(d: int, entity: RawEntity, text: str | None) -> ScoredEntity:
    """Attach the document; offsets without a text take the text they cover."""
    start, end, kind, mention = entity
    if mention is None:
        mention = text[start:end] if text is not None and start is not None else ""
    return d, start, end, kind, mention


def _careful_entities(
    d: int, items: list[Any], text: str | None, side: _Side, where: _Where, align: bool
) -> tuple[list[ScoredEntity], int, int]:
    """Entities of any supported shape: (entities, aligned, still without a span)."""
    fields = [_read_entity(item, position, text, side, where) for position, item in enumerate(items)]
    aligned = _align_fields(fields, text) if align else 0
    spanless = sum(1 for field in fields if field[0] is None)
    return [_scored(d, field, text) for field in fields], aligned, spanless


def _align_fields(fields: list[RawEntity], text: str | None) -> int:
    """Place text-only entities in ``text`` (in place); returns how many were placed."""
    pending = [i for i, f in enumerate(fields) if f[0] is None and f[3]]
    if not pending or text is None:
        return 0
    taken = [(f[0], f[1]) for f in fields if f[0] is not None]
    spans = align_mentions(text, [fields[i][3] for i in pending], taken)
    placed = 0
    for i, span in zip(pending, spans, strict=True):
        if span is not None:
            fields[i] = (span[0], span[1], fields[i][2], fields[i][3])
            placed += 1
    return placed


def _read_side(
    docs: list[Any],
    side: _Side,
    fallback_texts: list[str | None] | None,
    align: bool,
    with_relations: bool,
    gold: Columns | None = None,
) -> Columns:
    """Flatten one side's documents into columns (relations only when they will be scored).

    The references are read first (``gold`` None) and keep each document's rows; reading the
    predictions (``gold`` given) pairs every document's identical entities with the
    reference's at once and hands only the rest of both sides on as scored tuples. That
    pairing is one-to-one per identical key, so it is a first step of every mode's matching
    (see :func:`~.tally.tally_entities`). Documents of any other shape keep all their entities.
    """
    columns = Columns()
    entities, relations = columns.entities, columns.relations
    add_id, add_text, add_rows = columns.ids.append, columns.texts.append, columns.rows.append
    gold_rows_of = gold.rows if gold is not None else None
    gold_entities = gold.entities if gold is not None else []
    careful_types: Counter[str] = Counter()
    careful_relations: Counter[str] = Counter()
    for d, raw in enumerate(docs):
        doc = raw if type(raw) is dict else _as_mapping(raw, _Where(side.name, d, None))
        text = doc.get("text")
        if text is None and fallback_texts is not None:
            text = fallback_texts[d]
        elif text is not None and type(text) is not str:
            raise UserInputError(f"{_Where(side.name, d, doc.get('id'))}: 'text' must be a string")
        add_id(doc.get("id"))
        add_text(text)
        items = doc.get("entities")
        if type(items) is not list:
            items = _rows(items, _Where(side.name, d, doc.get("id")), "entities")
        rows = _fast_rows(items, text, side.entity_labels) if items else []
        add_rows(rows)
        gold_rows = gold_rows_of[d] if gold_rows_of is not None else None
        found: list[ScoredEntity] | None = None
        if rows is None:
            where = _Where(side.name, d, doc.get("id"))
            found, aligned, spanless = _careful_entities(d, items, text, side, where, align)
            columns.aligned += aligned
            columns.spanless += spanless
            careful_types.update(map(_TYPE, found))
            entities.extend(found)
            columns.in_order = False
            if gold_rows:
                gold_entities.extend([(d, *row) for row in gold_rows])
                gold.in_order = False  # type: ignore[union-attr]
        elif gold_rows_of is not None:
            if gold_rows is None:
                entities.extend([(d, *row) for row in sorted(rows)])
            elif rows != gold_rows:
                gold_set, pred_set = set(gold_rows), set(rows)
                if len(gold_set) == len(gold_rows) and len(pred_set) == len(rows):
                    left_gold, left_pred = gold_set - pred_set, pred_set - gold_set
                else:
                    left_gold, left_pred = multiset_match(gold_rows, rows)
                # sorted per document, documents in order: the leftovers arrive sorted
                if left_gold:
                    gold_entities.extend(map(_prefixed, itertools.repeat((d,)), sorted(left_gold)))
                if left_pred:
                    entities.extend(map(_prefixed, itertools.repeat((d,)), sorted(left_pred)))
        if not with_relations:
            continue
        raw_relations = doc.get("relations")
        relation_rows: list[tuple[str, RawEntity, RawEntity]] | None = []
        if raw_relations:
            if type(raw_relations) is not list:
                raw_relations = _rows(raw_relations, _Where(side.name, d, doc.get("id")), "relations")
            relation_rows = (
                _fast_relations(raw_relations, items, rows, side.relation_labels) if rows else None
            )
            if relation_rows is None:
                if found is None:
                    found = [(d, *row) for row in rows]  # type: ignore[union-attr]
                where = _Where(side.name, d, doc.get("id"))
                resolved = _read_relations(d, raw_relations, items, found, text, side, where)
                columns.spanless_arguments |= any(r[2][1] is None or r[3][1] is None for r in resolved)
                careful_relations.update(map(_KEY_TYPE, resolved))
                relations.extend(resolved)
        columns.relation_rows.append(relation_rows)
        if gold is not None:
            _pair_relations(d, gold, columns, gold.relation_rows[d], relation_rows)
    columns.type_counts = careful_types
    columns.type_counts.update(map(_ROW_TYPE, itertools.chain.from_iterable(filter(None, columns.rows))))
    columns.relation_counts = careful_relations
    columns.relation_counts.update(
        map(_RELATION_ROW_TYPE, itertools.chain.from_iterable(filter(None, columns.relation_rows)))
    )
    return columns


def _pair_relations(
    d: int,
    gold: Columns,
    guess: Columns,
    gold_rows: list[tuple[str, RawEntity, RawEntity]] | None,
    rows: list[tuple[str, RawEntity, RawEntity]] | None,
) -> None:
    """Pair a document's identical relations, as :func:`_read_side` pairs entities; what is left
    (and every relation of a side read the careful way, already listed) becomes scored tuples."""
    if gold_rows is None:
        left_gold: Iterable[tuple] = ()
        left_pred: Iterable[tuple] = rows or ()
    elif rows is None:
        left_gold, left_pred = gold_rows, ()
    elif rows == gold_rows:
        return
    else:
        gold_set, pred_set = set(gold_rows), set(rows)
        if len(gold_set) == len(gold_rows) and len(pred_set) == len(rows):
            left_gold, left_pred = gold_set - pred_set, pred_set - gold_set
        else:
            left_gold, left_pred = multiset_match(gold_rows, rows)
    gold.relations.extend([(d, kind, (d, *head), (d, *tail)) for kind, head, tail in left_gold])
    guess.relations.extend([(d, kind, (d, *head), (d, *tail)) for kind, head, tail in left_pred])


_RELATION_ROW_TYPE = itemgetter(0)
_GET_ID = itemgetter("id")


def _fast_relations(
    raw_relations: list[Any], items: list[Any], rows: list[RawEntity], labels: Sequence[str]
) -> list[tuple[str, RawEntity, RawEntity]] | None:
    """``(type, head row, tail row)`` of relations whose ids all resolve (entity ids unique) and
    whose types are strings or ``ClassLabel`` indices, or None."""
    try:
        by_id = dict(zip(map(_GET_ID, items), rows, strict=True))
        if len(by_id) != len(items):
            return None
        relations = [(r["type"], by_id[r["head"]], by_id[r["tail"]]) for r in raw_relations]
    except (KeyError, TypeError, AttributeError):
        return None
    for kind, _, _ in relations:
        if type(kind) is not str:
            if type(kind) is not int or not 0 <= kind < len(labels):
                return None
            return [(k if type(k) is str else labels[k], head, tail) for k, head, tail in relations]
    return relations


def _read_relations(
    d: int,
    raw_relations: list[Any],
    items: list[Any],
    entities: list[ScoredEntity],
    text: str | None,
    side: _Side,
    where: _Where,
) -> list[ScoredRelation]:
    """Relations with their arguments resolved to scored entities of the same document."""
    by_id: dict[str, int] = {}
    ambiguous: set[str] = set()
    for position, item in enumerate(items):
        eid = _get(item, "id")
        eid = f"T{position + 1}" if eid is None else str(eid)  # the schema's default ids
        if eid in by_id:
            ambiguous.add(eid)
        by_id[eid] = position
    relations = []
    for position, item in enumerate(raw_relations):
        label = f"relation {position}"
        kind = _label(_get(item, "type"), side.relation_labels, where, label)
        refs = (_get(item, "head"), _get(item, "tail"))
        head, tail = (
            _argument(d, ref, by_id, ambiguous, entities, text, side, where, f"{label} {role}")
            for ref, role in zip(refs, ("head", "tail"), strict=True)
        )
        relations.append((d, kind, head, tail))
    return relations


def _argument(
    d: int,
    ref: Any,
    by_id: dict[str, int],
    ambiguous: set[str],
    entities: list[ScoredEntity],
    text: str | None,
    side: _Side,
    where: _Where,
    label: str,
) -> ScoredEntity:
    """The entity a relation argument names: an entity id, or an inline entity (seed shape)."""
    if ref is None:
        raise UserInputError(f"{where}: {label} is missing")
    key = ref if isinstance(ref, (str, int)) else _get(ref, "id")
    if key is not None:
        key = str(key)
        if key in ambiguous:
            raise UserInputError(f"{where}: {label} {key!r} names several entities (duplicate entity id)")
        if key not in by_id:
            raise UserInputError(f"{where}: {label} {key!r} is not an entity id of the document")
        return entities[by_id[key]]
    return _scored(d, _read_entity(ref, 0, text, side, where), text)


def read_pairs(
    predictions: Iterable[Any],
    references: Iterable[Any],
    align_text: bool,
    entity_labels: Sequence[str],
    relation_labels: Sequence[str],
    with_relations: bool = True,
) -> tuple[Columns, Columns]:
    """(predictions, references) as columns; documents are paired by position."""
    preds, refs = list(predictions), list(references)
    if len(preds) != len(refs):
        raise UserInputError(
            f"predictions have {len(preds)} documents but references have {len(refs)}; "
            "they are paired by position and must be the same length"
        )
    gold = _read_side(refs, _Side("reference", entity_labels, relation_labels), None, False, with_relations)
    pred_side = _Side("prediction", entity_labels, relation_labels)
    guess = _read_side(preds, pred_side, gold.texts, align_text, with_relations, gold)
    if guess.ids == gold.ids:
        return guess, gold
    for index, (guess_id, gold_id) in enumerate(zip(guess.ids, gold.ids, strict=True)):
        if gold_id is not None and guess_id is not None and str(gold_id) != str(guess_id):
            raise UserInputError(
                f"prediction document {index} has id {guess_id!r} but reference document {index} "
                f"has id {gold_id!r}; predictions must be in the same order as references"
            )
    return guess, gold
