"""The NER/RE scoring protocol: one implementation behind the metric, the evaluator and the CLI.

Scores are the product's currency, so every number here has one written definition and the
same code computes it whichever front door is used.

Entity modes (``ENTITY_MODES``), entities match only inside their own document:

============  ==================================================================================
``strict``    same span (start, end) and same type. Otherwise an overlapping gold entity makes
              the prediction *incorrect*; no overlap makes it *spurious*.
``exact``     same span, type ignored; an overlap that is not the same span is *incorrect*.
``partial``   same span is *correct*, an overlap is *partial* and earns 0.5 credit; type ignored
              (nervaluate's definition).
``ent_type``  an overlapping span of the same type is *correct* (the gold entity with the closest
              boundaries wins); an overlap with another type is *incorrect*.
``type``      span-independent: each document is a bag (multiset) of (type, normalized text)
              pairs; a predicted pair is *correct* when an unused identical gold pair exists,
              *incorrect* when only the text matches an unused gold entity of another type.
============  ==================================================================================

Relation modes (``RELATION_MODES``), directed (swapping head and tail breaks a match):
``strict`` (type + both argument spans and types), ``boundaries`` (type + both argument spans,
argument types ignored), ``relaxed`` (type + both normalized argument texts). A relation whose
arguments match but whose type differs is *incorrect*. Normalization is NFKC, case folding and
collapsed whitespace (:func:`normalize_text`).

Matching is one-to-one: every prediction and every gold item is used at most once, so a
duplicate prediction is spurious. The greedy order is documented because it decides ties:
predictions and gold entities are sorted by (start, end, type), so the input order never
matters; first every prediction takes an identical gold item (same span, and same type where the
mode needs it), then the remaining predictions, in that order, take the first remaining
overlapping gold entity (for ``ent_type``: the closest same-type one, the first on ties, else the
first other-type one). Relations and the ``type`` bags match identical keys only. Where
predictions do not overlap each other this is exactly nervaluate's algorithm on sorted input; the
exact-first phase keeps an overlapping prediction from stealing the gold entity that a later
prediction matches exactly. Overlap means at least one shared character (nervaluate's default 1 % threshold agrees
for gold spans up to 100 characters). Candidates are found by a sorted sweep (a bisect on the
running maximum of the gold ends, a stop at the first gold start past the prediction), so work
grows with the number of overlaps, not with all pairs.

Counts follow nervaluate: COR, INC, PAR, MIS, SPU; ``possible = COR + INC + PAR + MIS`` (the gold
count, reported as ``support``), ``actual = COR + INC + PAR + SPU`` (the prediction count),
``precision = (COR + 0.5 PAR) / actual`` and ``recall = (COR + 0.5 PAR) / possible``, so both stay
in [0, 1]. Per-type results score each type on its own (gold and predictions filtered to that
type, as nervaluate and seqeval do); ``micro`` is the pooled count over all documents (for
``partial`` and ``ent_type`` it includes cross-type overlaps, so a right span with a wrong type is
*incorrect* in ``micro`` but *missed* plus *spurious* in the per-type rows); ``macro`` is the
unweighted mean of the per-type precision, recall and F1 over the types present in the gold or
the predictions.

Empty-input convention (never NaN): when there is nothing to find and nothing was predicted
(``possible == actual == 0``) precision, recall and F1 are 1.0; otherwise a zero denominator gives
0.0 (no prediction: precision 0; no gold: recall 0); F1 is 0.0 when precision + recall is 0; and
macro averages over no type at all are 1.0.

Unknown labels in predictions are scored like any other label (never correct where the type
counts, with a per-type row of their own), never rejected. Predicted entities that
carry no offsets are spurious in every span mode but still count in ``type`` and ``relaxed``;
:func:`align_mentions` (``align_text=True``) gives them the first unused occurrence of their text.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import numbers
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from .errors import UserInputError
from .gcpause import gc_paused
from .schema import ENTITY_TYPES, RELATION_TYPES

ENTITY_MODES: tuple[str, ...] = ("strict", "exact", "partial", "ent_type", "type")
RELATION_MODES: tuple[str, ...] = ("strict", "boundaries", "relaxed")
COUNT_FIELDS: tuple[str, ...] = ("correct", "incorrect", "partial", "missed", "spurious")

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


# --------------------------------------------------------------------------- public helpers


@functools.lru_cache(maxsize=1 << 16)
def normalize_text(text: str) -> str:
    """Comparable form of a mention: NFKC, case-folded, whitespace collapsed.

    ``type`` and ``relaxed`` modes compare texts, and a model writing "Type 2  Diabetes" has
    found "type 2 diabetes"; anything beyond case and spacing is a real difference. ASCII text
    skips NFKC, which cannot change it; mentions repeat, hence the cache.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.casefold().split())


def align_mentions(
    text: str, mentions: Sequence[str], taken: Iterable[tuple[int, int]] = ()
) -> list[tuple[int, int] | None]:
    """Give each mention, in order, the first occurrence in ``text`` not already taken.

    Language models write mentions, not offsets; repeated mentions ("pain ... pain") must land
    on successive occurrences, hence "unused". An exact match is preferred; a case-insensitive
    one is the fallback. ``None`` marks a mention that cannot be placed.
    """
    used = set(taken)
    lowered = text.lower()
    same_length = len(lowered) == len(text)
    spans: list[tuple[int, int] | None] = []
    for mention in mentions:
        span = _first_free(text, mention, used) if mention else None
        if span is None and mention and same_length:
            span = _first_free(lowered, mention.lower(), used)
        if span is not None:
            used.add(span)
        spans.append(span)
    return spans


def _first_free(haystack: str, needle: str, used: set[tuple[int, int]]) -> tuple[int, int] | None:
    position = haystack.find(needle)
    while position >= 0:
        span = (position, position + len(needle))
        if span not in used:
            return span
        position = haystack.find(needle, position + 1)
    return None


def bio_to_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Entities of an IOB2 tag sequence as half-open token spans ``(start, end, type)``.

    Strict IOB2 (seqeval ``mode="strict"``): a chunk starts only at ``B-X`` and continues over
    ``I-X``; a stray ``I-`` tag starts nothing. Token classifiers can then be scored by the same
    protocol as generative models, with tokens standing in for characters.
    """
    spans: list[tuple[int, int, str]] = []
    start, kind = -1, ""
    for position, tag in enumerate(tags):
        if start >= 0 and tag[:2] == "I-" and tag[2:] == kind:
            continue
        if start >= 0:
            spans.append((start, position, kind))
            start = -1
        if tag[:2] == "B-":
            start, kind = position, tag[2:]
    if start >= 0:
        spans.append((start, len(tags), kind))
    return spans


# --------------------------------------------------------------------------- reading documents
#
# Documents are flattened into columns: every entity becomes (doc, start, end, type, text) and
# every relation (doc, type, head, tail), so that matching can use set algebra and sweeps over
# all documents at once. Each document is read by a fast path (plain dicts, string or index
# types, int offsets inside the text, entity ids that resolve) and, when that path declines, by
# a careful path that accepts every supported shape and raises the precise error. On the fast
# path a document's entities and relations are rows fetched in C, and the identical rows of a
# prediction and its reference are paired on the spot (the first step of every mode), so only
# the leftovers, typically a fifth, become scored tuples.


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


class _Columns:
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
    """A list-of-structs column as a list of items, whichever way ``datasets`` returned it."""
    if column is None:
        return []
    if isinstance(column, Mapping):  # dict of lists (datasets' Sequence of a struct)
        keys = list(column)
        columns = [list(column[key]) for key in keys]
        if len({len(values) for values in columns}) > 1:
            raise UserInputError(f"{where}: the '{name}' columns have different lengths")
        return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]
    if isinstance(column, (str, bytes)) or not isinstance(column, Iterable):
        raise UserInputError(f"{where}: '{name}' must be a list, got {type(column).__name__}")
    return list(column)


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
    gold: _Columns | None = None,
) -> _Columns:
    """Flatten one side's documents into columns (relations only when they will be scored).

    The references are read first (``gold`` None) and keep each document's rows; reading the
    predictions (``gold`` given) pairs every document's identical entities with the
    reference's at once and hands only the rest of both sides on as scored tuples. That
    pairing is one-to-one per identical key, so it is a first step of every mode's matching
    (see :func:`_tally_entities`). Documents of any other shape keep all their entities.
    """
    columns = _Columns()
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
                    left_gold, left_pred = _multiset_match(gold_rows, rows)
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
    gold: _Columns,
    guess: _Columns,
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
            left_gold, left_pred = _multiset_match(gold_rows, rows)
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


def _read_pairs(
    predictions: Iterable[Any],
    references: Iterable[Any],
    align_text: bool,
    entity_labels: Sequence[str],
    relation_labels: Sequence[str],
    with_relations: bool = True,
) -> tuple[_Columns, _Columns]:
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


# --------------------------------------------------------------------------- matching


def _multiset_match(gold_keys: list[tuple], pred_keys: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """A one-to-one matching of identical keys, as its (unmatched gold, unmatched predictions).

    Everything else is matched: per key, min(gold, predicted) copies, so a second identical
    prediction stays unmatched. Keys start with the document index, so two set differences (in
    C) match every document at once; only keys that occur more than once are counted in Python.
    """
    gold_set, pred_set = set(gold_keys), set(pred_keys)
    if gold_set.isdisjoint(pred_set):  # nothing to match (common for leftovers): keep the order
        return list(gold_keys), list(pred_keys)
    gold_repeats = _repeated(gold_keys) if len(gold_set) < len(gold_keys) else {}
    pred_repeats = _repeated(pred_keys) if len(pred_set) < len(pred_keys) else {}
    if not gold_repeats and not pred_repeats:
        return list(gold_set - pred_set), list(pred_set - gold_set)
    repeated = gold_repeats.keys() | pred_repeats.keys()
    left_gold = list(gold_set - pred_set - repeated)
    left_pred = list(pred_set - gold_set - repeated)
    for key in repeated:
        n_gold = gold_repeats.get(key, 1 if key in gold_set else 0)
        n_pred = pred_repeats.get(key, 1 if key in pred_set else 0)
        n_matched = min(n_gold, n_pred)
        left_gold += [key] * (n_gold - n_matched)
        left_pred += [key] * (n_pred - n_matched)
    return left_gold, left_pred


def _matched_types(
    keys: Iterable[tuple], unmatched: Iterable[tuple], kind: Callable[[tuple], str]
) -> Counter[str]:
    """Per-type count of the matched keys: all of one side minus its unmatched ones."""
    return Counter(map(kind, keys)) - Counter(map(kind, unmatched))


def _repeated(keys: list[tuple]) -> dict[tuple, int]:
    """Keys occurring more than once, with their counts.

    ``Counter`` counts and ``most_common`` sorts in C, so Python only visits the repeats.
    """
    return dict(itertools.takewhile(_more_than_once, Counter(keys).most_common()))


def _more_than_once(item: tuple[tuple, int]) -> bool:
    return item[1] > 1


def _positions(entities: list[tuple], width: int, ordered: bool = False) -> list[tuple]:
    """``(doc, start, end, type, ...)`` entities as sorted ``(doc * width + start, doc * width + end, type)``.

    With ``width`` above every offset, spans of different documents can never overlap and the
    sort order is the (doc, start, end, type) order, so one sweep covers all documents at once.
    ``ordered`` entities are sorted already (tuple sorting is a large share of the work otherwise).
    """
    items = [(entity[0] * width + entity[1], entity[0] * width + entity[2], entity[3]) for entity in entities]
    return items if ordered else sorted(items)


def _reach(golds: Sequence[tuple]) -> list[int]:
    """Running maximum of the gold ends: golds before ``bisect_right(reach, start)`` end before ``start``."""
    return list(itertools.accumulate((gold[1] for gold in golds), max))


def _sweep(golds: Sequence[tuple], preds: list[tuple]) -> int:
    """Greedy overlap matching of sorted ``(start, end, ...)`` items: each prediction takes the first
    unused overlapping gold item. Returns the number of matches.

    The scan starts at the first gold item whose running maximum end passes the prediction's
    start (bisect) and stops at the first one that starts after the prediction's end, so it
    only visits neighbours.
    """
    if not golds or not preds:
        return 0
    n = len(golds)
    reach = _reach(golds)
    used = [False] * n
    matched = 0
    for pred in preds:
        start, end = pred[0], pred[1]
        for position in range(bisect.bisect_right(reach, start), n):
            gold = golds[position]
            if gold[0] >= end:
                break
            if not used[position] and gold[1] > start:
                used[position] = True
                matched += 1
                break
    return matched


def _overlaps(golds: Sequence[tuple], preds: list[tuple], tally: _EntityTally) -> None:
    """The four overlap matchings of sorted ``(start, end, type)`` items, in one scan of the neighbours.

    Each matching has its own used flags and is exactly a greedy pass over the predictions:
    ``strict`` (first unused overlapping gold item, any type: strict/exact *incorrect*),
    ``ent_type`` (the unused overlapping same-type item with the closest boundaries, the first
    on ties, else the first unused other-type one), and per type, each type on its own, the
    first (``type_first``) and the closest (``type_closest``) unused same-type item.
    """
    if not golds or not preds:
        return
    n = len(golds)
    reach = _reach(golds)
    used_any, used_typed, used_first, used_closest = ([False] * n for _ in range(4))
    strict = same = other = 0
    type_first, type_closest = tally.type_first, tally.type_closest
    for start, end, kind in preds:
        any_at = typed_at = other_at = first_at = closest_at = -1
        typed_distance = closest_distance = 0
        for position in range(bisect.bisect_right(reach, start), n):
            gold_start, gold_end, gold_kind = golds[position]
            if gold_start >= end:
                break
            if gold_end <= start:
                continue
            if any_at < 0 and not used_any[position]:
                any_at = position
            if gold_kind == kind:
                distance = abs(gold_start - start) + abs(gold_end - end)
                if not used_typed[position] and (typed_at < 0 or distance < typed_distance):
                    typed_at, typed_distance = position, distance
                if first_at < 0 and not used_first[position]:
                    first_at = position
                if not used_closest[position] and (closest_at < 0 or distance < closest_distance):
                    closest_at, closest_distance = position, distance
            elif other_at < 0 and not used_typed[position]:
                other_at = position
        if any_at >= 0:
            used_any[any_at] = True
            strict += 1
        if typed_at >= 0:
            used_typed[typed_at] = True
            same += 1
        elif other_at >= 0:
            used_typed[other_at] = True
            other += 1
        if first_at >= 0:
            used_first[first_at] = True
            type_first[kind] += 1
        if closest_at >= 0:
            used_closest[closest_at] = True
            type_closest[kind] += 1
    tally.strict_overlap += strict
    tally.ent_type_same += same
    tally.ent_type_other += other


def _bag_match(
    gold_keys: list[tuple], pred_keys: list[tuple], loose: Callable[[tuple], tuple]
) -> tuple[Counter[str], int]:
    """Multiset matching of ``(doc, type, ...)`` keys: (matches per type, incorrect count).

    A leftover prediction whose ``loose`` key (everything but the type) equals a leftover gold
    item's is *incorrect*; the rest of the leftovers are spurious or missed.
    """
    left_gold, left_pred = _multiset_match(gold_keys, pred_keys)
    matched = _matched_types(gold_keys, left_gold, _KEY_TYPE)
    if not left_gold or not left_pred:
        return matched, 0
    loose_gold = list(map(loose, left_gold))
    still_missed = _multiset_match(loose_gold, list(map(loose, left_pred)))[0]
    return matched, len(loose_gold) - len(still_missed)


# --------------------------------------------------------------------------- tallies


class _EntityTally:
    """Primitive counts from which every entity mode's COR/INC/PAR/MIS/SPU is derived."""

    def __init__(self) -> None:
        self.gold: Counter[str] = Counter()  # per type
        self.pred: Counter[str] = Counter()
        self.same_span_type: Counter[str] = Counter()  # strict / ent_type phase one, per type
        self.bag: Counter[str] = Counter()  # type mode COR, per type
        self.type_first: Counter[str] = Counter()  # per-type first overlap (strict/exact INC, partial PAR)
        self.type_closest: Counter[str] = Counter()  # per-type closest overlap (ent_type COR)
        self.strict_overlap = 0  # strict INC
        self.ent_type_same = self.ent_type_other = 0  # ent_type COR (phase two) / INC
        self.same_span = 0  # exact / partial COR
        self.span_overlap = 0  # exact INC, partial PAR
        self.bag_other_type = 0  # type mode INC


def _tally_entities(gold: _Columns, guess: _Columns, spanless: bool, modes: Sequence[str]) -> _EntityTally:
    """Run the matchings that the requested ``modes`` need.

    Identical entities (document, span, type and text) are paired first: that pairing refines
    every mode's key, and per key a one-to-one matching pairs min(gold, predicted) copies, so
    each mode only has to match the (few) leftovers. Reading already paired the identical
    entities of documents of the common shape, so ``entities`` of both sides hold only what
    is left of those and every entity of the others. Entities without a span only take part
    in the ``type`` bag.
    """
    tally = _EntityTally()
    tally.gold.update(gold.type_counts)
    tally.pred.update(guess.type_counts)
    golds, preds = gold.entities, guess.entities
    gold_loose: list[ScoredEntity] = []
    pred_loose: list[ScoredEntity] = []
    if spanless:
        gold_loose = [entity for entity in golds if entity[1] is None]
        pred_loose = [entity for entity in preds if entity[1] is None]
        golds = [entity for entity in golds if entity[1] is not None]
        preds = [entity for entity in preds if entity[1] is not None]
    ordered = gold.in_order and guess.in_order
    if ordered:  # every document was read on the common path: its identical entities are paired
        left_golds, left_preds = golds, preds
    else:
        left_golds, left_preds = _multiset_match(golds, preds)
    # matched = every gold entity with a span minus those left over
    spanned = tally.gold - Counter(map(_TYPE, gold_loose)) if gold_loose else tally.gold
    hit_types = spanned - Counter(map(_TYPE, left_golds))
    if "type" in modes:
        norm = normalize_text
        matched, tally.bag_other_type = _bag_match(
            [(d, kind, norm(mention)) for d, _, _, kind, mention in left_golds + gold_loose],
            [(d, kind, norm(mention)) for d, _, _, kind, mention in left_preds + pred_loose],
            _DOC_AND_REST[3],
        )
        tally.bag.update(hit_types)
        tally.bag.update(matched)
    if set(modes) - {"type"}:
        tally.same_span_type.update(hit_types)
        tally.same_span = hit_types.total()
        _tally_spans(left_golds, left_preds, tally, ordered)
    return tally


def _tally_spans(golds: list[tuple], preds: list[tuple], tally: _EntityTally, ordered: bool = False) -> None:
    """Span modes from ``(doc, start, end, type, ...)`` entities: identical pairs first, then overlaps.

    Everything runs on sorted ``(position, position[, type])`` items (see :func:`_positions`;
    ``ordered`` keys are sorted already), so identical pairs are found by merging.
    """
    if not golds or not preds:
        return
    width = 1 + max(max(map(_END, golds)), max(map(_END, preds)))
    gold_items, pred_items, matched = _merge(
        _positions(golds, width, ordered), _positions(preds, width, ordered)
    )
    tally.same_span_type.update(Counter(map(_TYPE_OF_ITEM, matched)))
    tally.same_span += len(matched)
    if not gold_items or not pred_items:
        return
    _overlaps(gold_items, pred_items, tally)
    # Per span, span-only matching pairs min(gold, predicted) copies, and the same-type pairs
    # already made are among them, so only the leftovers need matching again.
    gold_spans, pred_spans, matched = _merge(
        list(map(_SPAN_OF_ITEM, gold_items)), list(map(_SPAN_OF_ITEM, pred_items))
    )
    tally.same_span += len(matched)
    if gold_spans and pred_spans:
        tally.span_overlap += _sweep(gold_spans, pred_spans)


_TYPE_OF_ITEM = itemgetter(2)
_SPAN_OF_ITEM = itemgetter(0, 1)


def _merge(golds: list[tuple], preds: list[tuple]) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """One-to-one matching of identical items of two sorted lists: (gold left, predictions left,
    matched), each still sorted. Per item, min(gold, predicted) copies are matched."""
    left_golds: list[tuple] = []
    left_preds: list[tuple] = []
    matched: list[tuple] = []
    i = j = 0
    n, m = len(golds), len(preds)
    while i < n and j < m:
        gold, pred = golds[i], preds[j]
        if gold == pred:
            matched.append(gold)
            i += 1
            j += 1
        elif gold < pred:
            left_golds.append(gold)
            i += 1
        else:
            left_preds.append(pred)
            j += 1
    left_golds += golds[i:]
    left_preds += preds[j:]
    return left_golds, left_preds, matched


#: Bag keys without their type (position 1), by key length: what an *incorrect* match shares.
_DOC_AND_REST = {n: itemgetter(0, *range(2, n)) for n in (3, 4, 6, 8)}
_RELATION_LOOSE = {"strict": _DOC_AND_REST[8], "boundaries": _DOC_AND_REST[6], "relaxed": _DOC_AND_REST[4]}


def _relation_keys(relations: list[ScoredRelation], mode: str) -> list[tuple]:
    """``(doc, type, ...)`` keys of a relation mode; an argument without a span only matches in relaxed."""
    if mode == "relaxed":
        norm = normalize_text
        return [(d, kind, norm(head[4]), norm(tail[4])) for d, kind, head, tail in relations]
    if mode == "strict":
        return [
            (d, kind, head[1], head[2], head[3], tail[1], tail[2], tail[3])
            for d, kind, head, tail in relations
            if head[1] is not None and tail[1] is not None
        ]
    return [
        (d, kind, head[1], head[2], tail[1], tail[2])
        for d, kind, head, tail in relations
        if head[1] is not None and tail[1] is not None
    ]


class _RelationTally:
    def __init__(self) -> None:
        self.gold: Counter[str] = Counter()
        self.pred: Counter[str] = Counter()
        self.correct: dict[str, Counter[str]] = {mode: Counter() for mode in RELATION_MODES}
        self.incorrect = dict.fromkeys(RELATION_MODES, 0)


def _tally_relations(gold: _Columns, guess: _Columns, spanless: bool, modes: Sequence[str]) -> _RelationTally:
    """Identical relations first (they match in every mode), then each mode on the leftovers.

    Reading paired the identical relations of documents of the common shape already, so
    ``relations`` of both sides hold only what is left of those and every relation of the
    others. A relation with an argument lacking a span can only match in ``relaxed``, so such
    relations skip the identity pass.
    """
    tally = _RelationTally()
    tally.gold.update(gold.relation_counts)
    tally.pred.update(guess.relation_counts)
    golds, preds = gold.relations, guess.relations
    gold_loose: list[ScoredRelation] = []
    pred_loose: list[ScoredRelation] = []
    if spanless:
        gold_loose, golds = _split_spanless(golds)
        pred_loose, preds = _split_spanless(preds)
    left_golds, left_preds = _multiset_match(golds, preds)
    # matched = every relation with spans minus those left over
    spanned = tally.gold - Counter(map(_KEY_TYPE, gold_loose)) if gold_loose else tally.gold
    hit_types = spanned - Counter(map(_KEY_TYPE, left_golds))
    left_golds += gold_loose
    left_preds += pred_loose
    for mode in modes:
        matched, tally.incorrect[mode] = _bag_match(
            _relation_keys(left_golds, mode), _relation_keys(left_preds, mode), _RELATION_LOOSE[mode]
        )
        tally.correct[mode].update(hit_types)
        tally.correct[mode].update(matched)
    return tally


def _split_spanless(relations: list[ScoredRelation]) -> tuple[list[ScoredRelation], list[ScoredRelation]]:
    """(relations with an argument without a span, the others)."""
    loose = [r for r in relations if r[2][1] is None or r[3][1] is None]
    return loose, [r for r in relations if r[2][1] is not None and r[3][1] is not None]


# --------------------------------------------------------------------------- results


def prf(correct: float, actual: int, possible: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from matched credit, prediction count and gold count.

    The empty convention lives here so that no front door can produce NaN: nothing expected and
    nothing predicted is a perfect 1.0; any other zero denominator gives 0.0.
    """
    if actual == 0 and possible == 0:
        return 1.0, 1.0, 1.0
    precision = correct / actual if actual else 0.0
    recall = correct / possible if possible else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _result(gold: int, pred: int, correct: int, incorrect: int = 0, partial: int = 0) -> dict[str, Any]:
    missed = gold - correct - incorrect - partial
    spurious = pred - correct - incorrect - partial
    precision, recall, f1 = prf(correct + 0.5 * partial, pred, gold)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": gold,
        "correct": correct,
        "incorrect": incorrect,
        "partial": partial,
        "missed": missed,
        "spurious": spurious,
        "possible": gold,
        "actual": pred,
    }


def _macro(per_type: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    if not per_type:
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    n = len(per_type)
    return {name: sum(r[name] for r in per_type.values()) / n for name in ("precision", "recall", "f1")}


def _entity_results(tally: _EntityTally, modes: Sequence[str]) -> dict[str, Any]:
    t = tally
    gold, pred, exact = t.gold, t.pred, t.same_span_type
    n_gold, n_pred, n_exact = gold.total(), pred.total(), exact.total()
    micro = {
        "strict": (n_exact, t.strict_overlap, 0),
        "exact": (t.same_span, t.span_overlap, 0),
        "partial": (t.same_span, 0, t.span_overlap),
        "ent_type": (n_exact + t.ent_type_same, t.ent_type_other, 0),
        "type": (t.bag.total(), t.bag_other_type, 0),
    }
    per_type: dict[str, Callable[[str], tuple[int, int, int]]] = {
        "strict": lambda k: (exact[k], t.type_first[k], 0),
        "exact": lambda k: (exact[k], t.type_first[k], 0),
        "partial": lambda k: (exact[k], 0, t.type_first[k]),
        "ent_type": lambda k: (exact[k] + t.type_closest[k], 0, 0),
        "type": lambda k: (t.bag[k], 0, 0),
    }
    kinds = sorted(set(gold) | set(pred))
    results = {}
    for mode in modes:
        rows = {k: _result(gold[k], pred[k], *per_type[mode](k)) for k in kinds}
        results[mode] = {
            "micro": _result(n_gold, n_pred, *micro[mode]),
            "macro": _macro(rows),
            "per_type": rows,
        }
    return results


def _relation_results(tally: _RelationTally, modes: Sequence[str]) -> dict[str, Any]:
    gold, pred = tally.gold, tally.pred
    kinds = sorted(set(gold) | set(pred))
    results = {}
    for mode in modes:
        correct = tally.correct[mode]
        rows = {k: _result(gold[k], pred[k], correct[k]) for k in kinds}
        micro = _result(gold.total(), pred.total(), correct.total(), tally.incorrect[mode])
        results[mode] = {"micro": micro, "macro": _macro(rows), "per_type": rows}
    return results


def _check_modes(modes: Sequence[str], valid: tuple[str, ...], what: str) -> None:
    for mode in modes:
        if mode not in valid:
            raise UserInputError(f"unknown {what} mode {mode!r}: valid modes are {', '.join(valid)}")


def score_documents(
    predictions: Iterable[Any],
    references: Iterable[Any],
    *,
    align_text: bool = False,
    entity_labels: Sequence[str] | None = None,
    relation_labels: Sequence[str] | None = None,
    entity_modes: Sequence[str] = ENTITY_MODES,
    relation_modes: Sequence[str] = RELATION_MODES,
) -> dict[str, Any]:
    """Score predicted documents against references, paired by position.

    Documents are dicts (``{"id"?, "text"?, "entities": [...], "relations": [...]}``),
    :class:`~odin_medical_ner_re.schema.Document` objects or ``datasets`` rows; integer types are
    ``ClassLabel`` indices into ``entity_labels`` / ``relation_labels`` (default: the schema's
    label order, which is the dataset builder's). A prediction without ``text`` uses its
    reference's text. Relation arguments are entity ids or inline entities (the seed's shape).
    Returns a JSON-ready report: ``{"documents", "aligned", "unaligned", "ner": {mode: {"micro",
    "macro", "per_type"}}, "re": {...}}``; see the module docstring for the definitions.
    ``unaligned`` counts predicted entities left without a span (after alignment when
    ``align_text``), which no span mode can match.
    """
    entity_modes = [entity_modes] if isinstance(entity_modes, str) else list(entity_modes)
    relation_modes = [relation_modes] if isinstance(relation_modes, str) else list(relation_modes)
    _check_modes(entity_modes, ENTITY_MODES, "entity")
    _check_modes(relation_modes, RELATION_MODES, "relation")
    with gc_paused():
        return _score(
            predictions,
            references,
            align_text,
            entity_labels if entity_labels is not None else ENTITY_TYPES,
            relation_labels if relation_labels is not None else RELATION_TYPES,
            entity_modes,
            relation_modes,
        )


def _score(
    predictions: Iterable[Any],
    references: Iterable[Any],
    align_text: bool,
    entity_labels: Sequence[str],
    relation_labels: Sequence[str],
    entity_modes: list[str],
    relation_modes: list[str],
) -> dict[str, Any]:
    """The report of :func:`score_documents`; its columns die on return, before the collector resumes."""
    guess, gold = _read_pairs(
        predictions,
        references,
        align_text,
        entity_labels,
        relation_labels,
        with_relations=bool(relation_modes),
    )
    spanless = bool(guess.spanless or gold.spanless)
    entities = _tally_entities(gold, guess, spanless, entity_modes)
    loose = spanless or guess.spanless_arguments or gold.spanless_arguments
    relations = _tally_relations(gold, guess, loose, relation_modes)
    return {
        "documents": len(gold.ids),
        "aligned": guess.aligned,
        "unaligned": guess.spanless,
        "ner": _entity_results(entities, entity_modes),
        "re": _relation_results(relations, relation_modes),
    }


def flatten(report: Mapping[str, Any]) -> dict[str, float | int]:
    """The headline numbers as flat keys (``ner_strict_f1``, ``re_boundaries_macro_f1``, ...).

    Flat scalars are what trainers log and what ``evaluate`` users index; the nested report
    keeps the per-type detail.
    """
    flat: dict[str, float | int] = {}
    for task in ("ner", "re"):
        for mode, result in report.get(task, {}).items():
            for name in ("precision", "recall", "f1"):
                flat[f"{task}_{mode}_{name}"] = result["micro"][name]
            for name in ("precision", "recall", "f1"):
                flat[f"{task}_{mode}_macro_{name}"] = result["macro"][name]
    flat["unaligned"] = report.get("unaligned", 0)
    return flat


# --------------------------------------------------------------------------- table


_HEADER = f"{'':<16}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}{'COR':>7}{'INC':>6}{'PAR':>6}{'MIS':>6}{'SPU':>6}"


def _line(name: str, result: Mapping[str, Any]) -> str:
    scores = f"{name:<16}{result['precision']:>10.4f}{result['recall']:>8.4f}{result['f1']:>8.4f}"
    if "support" not in result:  # macro rows have no counts
        return scores
    r = result
    counts = f"{r['correct']:>7}{r['incorrect']:>6}{r['partial']:>6}{r['missed']:>6}{r['spurious']:>6}"
    return f"{scores}{r['support']:>9}{counts}"


def format_mode(title: str, result: Mapping[str, Any]) -> str:
    """One mode as a table: a row per type, then micro and macro."""
    lines = [title, _HEADER]
    lines += [_line(kind, row) for kind, row in result["per_type"].items()]
    lines.append(_line("micro", result["micro"]))
    lines.append(_line("macro", result["macro"]))
    return "\n".join(lines)


def format_report(report: Mapping[str, Any]) -> str:
    """The whole report as readable text: a summary of every mode, then one table per mode.

    Shared by the CLI and the training/evaluation scripts so a number reads the same everywhere.
    """
    lines = [
        f"documents: {report['documents']}   aligned mentions: {report.get('aligned', 0)}   "
        f"predicted entities without a span: {report.get('unaligned', 0)}",
        "",
        f"{'summary':<16}{'micro P':>10}{'micro R':>9}{'micro F1':>10}{'macro F1':>10}",
    ]
    for task in ("ner", "re"):
        for mode, result in report.get(task, {}).items():
            micro = result["micro"]
            lines.append(
                f"{task + ' ' + mode:<16}{micro['precision']:>10.4f}{micro['recall']:>9.4f}"
                f"{micro['f1']:>10.4f}{result['macro']['f1']:>10.4f}"
            )
    for task, label in (("ner", "entities"), ("re", "relations")):
        for mode, result in report.get(task, {}).items():
            lines += ["", format_mode(f"{label}, {mode}", result)]
    return "\n".join(lines)
