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
predictions and gold entities are sorted by (start, end) (input order breaks ties); first every
prediction takes an identical gold item (same span, and same type where the mode needs it), then
the remaining predictions, in that order, take the first remaining overlapping gold entity (for
``ent_type``: the closest same-type one, else the first other-type one). Where predictions do not
overlap each other this is exactly nervaluate's algorithm on sorted input; the exact-first phase
keeps an overlapping prediction from stealing the gold entity that a later prediction matches
exactly. Overlap means at least one shared character (nervaluate's default 1 % threshold agrees
for gold spans up to 100 characters). Candidates are found by a sorted sweep (bisect on starts and
on a running maximum of ends), so work grows with the number of overlaps, not with all pairs.

Counts follow nervaluate: COR, INC, PAR, MIS, SPU; ``possible = COR + INC + PAR + MIS`` (the gold
count, reported as ``support``), ``actual = COR + INC + PAR + SPU`` (the prediction count),
``precision = (COR + 0.5 PAR) / actual`` and ``recall = (COR + 0.5 PAR) / possible``, so both stay
in [0, 1]. Per-type results score each type on its own (gold and predictions filtered to that
type, as nervaluate and seqeval do); ``micro`` is the pooled count over all documents (for
``partial`` and ``ent_type`` it includes cross-type overlaps); ``macro`` is the unweighted mean of
the per-type precision, recall and F1 over the types present in the gold or the predictions.

Empty-input convention (never NaN): when there is nothing to find and nothing was predicted
(``possible == actual == 0``) precision, recall and F1 are 1.0; otherwise a zero denominator gives
0.0 (no prediction: precision 0; no gold: recall 0); F1 is 0.0 when precision + recall is 0; and
macro averages over no type at all are 1.0.

Unknown labels in predictions are scored (as spurious), never rejected. Predicted entities that
carry no offsets are spurious in every span mode but still count in ``type`` and ``relaxed``;
:func:`align_mentions` (``align_text=True``) gives them the first unused occurrence of their text.
"""

from __future__ import annotations

import bisect
import itertools
import numbers
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from .errors import UserInputError
from .schema import ENTITY_TYPES, RELATION_TYPES

ENTITY_MODES: tuple[str, ...] = ("strict", "exact", "partial", "ent_type", "type")
RELATION_MODES: tuple[str, ...] = ("strict", "boundaries", "relaxed")
COUNT_FIELDS: tuple[str, ...] = ("correct", "incorrect", "partial", "missed", "spurious")

#: An entity as scored: (start, end, type, normalized text); start/end are None when unknown.
ScoredEntity = tuple[Any, Any, str, str]

_SPAN = itemgetter(0, 1)
_SPAN_TYPE = itemgetter(0, 1, 2)
_TYPE_TEXT = itemgetter(2, 3)

# Slots of the per-document tallies (plain lists: the hot loop only adds integers).
_G, _P = 0, 1
# entity rows: per type -> [gold, pred, exact-with-type, first-overlap, closest-overlap, type-bag]
_E_EXACT, _E_FIRST, _E_CLOSEST, _E_BAG = 2, 3, 4, 5
# entity overall row adds: exact span only, its overlaps, strict overlaps, ent_type same/other, bag inc
_O_EXACT_T, _O_EXACT_U, _O_FIRST_U, _O_FIRST_T, _O_ENT_SAME, _O_ENT_OTHER, _O_BAG, _O_BAG_INC = range(2, 10)
# relation rows: [gold, pred, cor strict, cor boundaries, cor relaxed] (+ inc x3 for overall)
_R_COR = {"strict": 2, "boundaries": 3, "relaxed": 4}
_R_INC = {"strict": 5, "boundaries": 6, "relaxed": 7}


# --------------------------------------------------------------------------- public helpers


def normalize_text(text: str) -> str:
    """Comparable form of a mention: NFKC, case-folded, whitespace collapsed.

    ``type`` and ``relaxed`` modes compare texts, and a model writing "Type 2  Diabetes" has
    found "type 2 diabetes"; anything beyond case and spacing is a real difference.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


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


@dataclass
class _Side:
    """How to read one side (predictions or references) and name it in errors."""

    name: str
    entity_labels: Sequence[str]
    relation_labels: Sequence[str]


@dataclass
class _ParsedDoc:
    id: Any
    text: str | None
    entities: list[ScoredEntity]
    relations: list[tuple[str, ScoredEntity, ScoredEntity]]
    aligned: int = 0
    spanless: int = 0


@dataclass
class _Where:
    """Lazily formatted location, so the hot path never builds error strings."""

    side: str
    index: int
    doc_id: Any

    def __str__(self) -> str:
        ident = f" (id {self.doc_id!r})" if self.doc_id is not None else ""
        return f"{self.side} document {self.index}{ident}"


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
        if not keys:
            return []
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
    return item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)


def _read_entity(
    item: Any, position: int, text: str | None, side: _Side, where: _Where
) -> tuple[Any, Any, Any, str, str | None]:
    """(id, start, end, type, raw text) of one entity, offsets checked against ``text``."""
    if isinstance(item, Mapping):
        eid, start, end, kind, mention = (
            item.get("id"),
            item.get("start"),
            item.get("end"),
            item.get("type"),
            item.get("text"),
        )
    else:
        eid, start, end, kind, mention = (_get(item, key) for key in ("id", "start", "end", "type", "text"))
    if eid is None:
        eid = f"T{position + 1}"
    label = f"entity {position} (id {eid!r})"
    kind = kind if type(kind) is str else _label(kind, side.entity_labels, where, label)
    if mention is not None and not isinstance(mention, str):
        raise UserInputError(f"{where}: {label} has a non-string text {mention!r}")
    if start is None and end is None:
        return eid, None, None, kind, mention
    if start is None or end is None:
        raise UserInputError(f"{where}: {label} has only one of start/end ({start!r}, {end!r})")
    if type(start) is not int or type(end) is not int:
        start, end = _offset(start, where, label, "start"), _offset(end, where, label, "end")
    if not 0 <= start < end or (text is not None and end > len(text)):
        bound = f" of length {len(text)}" if text is not None else ""
        raise UserInputError(
            f"{where}: {label} offsets [{start}, {end}) are empty or outside the text{bound}"
        )
    return eid, start, end, kind, mention


def _parse_document(raw: Any, index: int, side: _Side, fallback_text: str | None, align: bool) -> _ParsedDoc:
    where = _Where(side.name, index, None)
    doc = _as_mapping(raw, where)
    where.doc_id = doc.get("id")
    text = doc.get("text")
    if text is not None and not isinstance(text, str):
        raise UserInputError(f"{where}: 'text' must be a string")
    text = text if text is not None else fallback_text
    fields = [
        _read_entity(item, i, text, side, where)
        for i, item in enumerate(_rows(doc.get("entities"), where, "entities"))
    ]
    aligned = _align_fields(fields, text) if align else 0
    entities: list[ScoredEntity] = []
    spanless = 0
    for _eid, start, end, kind, mention in fields:
        if mention is None:
            mention = text[start:end] if text is not None and start is not None else ""
        if start is None:
            spanless += 1
        entities.append((start, end, kind, normalize_text(mention)))
    raw_relations = _rows(doc.get("relations"), where, "relations")
    relations = _read_relations(raw_relations, fields, entities, text, side, where) if raw_relations else []
    return _ParsedDoc(doc.get("id"), text, entities, relations, aligned, spanless)


def _align_fields(fields: list[tuple[Any, Any, Any, str, str | None]], text: str | None) -> int:
    """Place text-only entities in ``text`` (in place); returns how many were placed."""
    pending = [i for i, f in enumerate(fields) if f[1] is None and f[4]]
    if not pending or text is None:
        return 0
    taken = [(f[1], f[2]) for f in fields if f[1] is not None]
    spans = align_mentions(text, [fields[i][4] or "" for i in pending], taken)
    placed = 0
    for i, span in zip(pending, spans, strict=True):
        if span is not None:
            eid, _, _, kind, mention = fields[i]
            fields[i] = (eid, span[0], span[1], kind, mention)
            placed += 1
    return placed


def _read_relations(
    raw_relations: list[Any],
    fields: list[tuple[Any, Any, Any, str, str | None]],
    entities: list[ScoredEntity],
    text: str | None,
    side: _Side,
    where: _Where,
) -> list[tuple[str, ScoredEntity, ScoredEntity]]:
    by_id: dict[Any, int] = {}
    ambiguous: set[Any] = set()
    for position, f in enumerate(fields):
        eid = str(f[0])
        if eid in by_id:
            ambiguous.add(eid)
        by_id[eid] = position
    relations = []
    for position, item in enumerate(raw_relations):
        label = f"relation {position}"
        kind = _label(_get(item, "type"), side.relation_labels, where, label)
        head = _argument(_get(item, "head"), by_id, ambiguous, entities, text, side, where, f"{label} head")
        tail = _argument(_get(item, "tail"), by_id, ambiguous, entities, text, side, where, f"{label} tail")
        relations.append((kind, head, tail))
    return relations


def _argument(
    ref: Any,
    by_id: dict[Any, int],
    ambiguous: set[Any],
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
    _, start, end, kind, mention = _read_entity(ref, 0, text, side, where)
    if mention is None:
        mention = text[start:end] if text is not None and start is not None else ""
    return (start, end, kind, normalize_text(mention))


def _parse_pairs(
    predictions: Iterable[Any],
    references: Iterable[Any],
    align_text: bool,
    entity_labels: Sequence[str],
    relation_labels: Sequence[str],
) -> list[tuple[_ParsedDoc, _ParsedDoc]]:
    preds, refs = list(predictions), list(references)
    if len(preds) != len(refs):
        raise UserInputError(
            f"predictions have {len(preds)} documents but references have {len(refs)}; "
            "they are paired by position and must be the same length"
        )
    gold_side = _Side("reference", entity_labels, relation_labels)
    pred_side = _Side("prediction", entity_labels, relation_labels)
    pairs = []
    for index, (pred, ref) in enumerate(zip(preds, refs, strict=True)):
        gold = _parse_document(ref, index, gold_side, None, False)
        guess = _parse_document(pred, index, pred_side, gold.text, align_text)
        if gold.id is not None and guess.id is not None and str(gold.id) != str(guess.id):
            raise UserInputError(
                f"prediction document {index} has id {guess.id!r} but reference document {index} "
                f"has id {gold.id!r}; predictions must be in the same order as references"
            )
        pairs.append((guess, gold))
    return pairs


# --------------------------------------------------------------------------- matching


def _pair_identical(
    golds: list[ScoredEntity], preds: list[ScoredEntity], key: Callable[[ScoredEntity], Hashable]
) -> tuple[list[ScoredEntity], list[ScoredEntity], list[ScoredEntity]]:
    """One-to-one matching of identical keys: (unmatched gold, unmatched predictions, matched predictions)."""
    pool: dict[Hashable, list[int]] = {}
    for position, gold in enumerate(golds):
        pool.setdefault(key(gold), []).append(position)
    taken = [False] * len(golds)
    left_preds: list[ScoredEntity] = []
    hits: list[ScoredEntity] = []
    for pred in preds:
        slots = pool.get(key(pred))
        if slots:
            taken[slots.pop(0)] = True
            hits.append(pred)
        else:
            left_preds.append(pred)
    left_golds = [gold for gold, used in zip(golds, taken, strict=True) if not used] if hits else golds
    return left_golds, left_preds, hits


def _candidates(starts: list[int], reach: list[int], start: int, end: int) -> range:
    """Positions of the sorted gold entities that may overlap ``[start, end)``.

    ``starts`` is sorted and ``reach`` is the running maximum of the ends, so everything before
    the returned range ends at or before ``start`` and everything after it starts at or after
    ``end``: a sweep instead of all pairs.
    """
    return range(bisect.bisect_right(reach, start), bisect.bisect_left(starts, end))


def _sweep(golds: list[ScoredEntity], preds: list[ScoredEntity], typed: bool) -> tuple[int, int]:
    """Greedy overlap matching of sorted leftovers; returns (same-type matches, other matches).

    Untyped: each prediction takes the first unused overlapping gold entity (counted as
    "other"). Typed (``ent_type``): the unused overlapping same-type gold entity with the
    closest boundaries, else the first unused overlapping one of another type.
    """
    if not golds or not preds:
        return 0, 0
    starts = [gold[0] for gold in golds]
    reach = list(itertools.accumulate((gold[1] for gold in golds), max))
    used = [False] * len(golds)
    same = other = 0
    for pred in preds:
        start, end, kind = pred[0], pred[1], pred[2]
        best, best_distance, first = -1, 0, -1
        for position in _candidates(starts, reach, start, end):
            if used[position]:
                continue
            gold = golds[position]
            if gold[1] <= start:
                continue
            if typed and gold[2] == kind:
                distance = abs(gold[0] - start) + abs(gold[1] - end)
                if best < 0 or distance < best_distance:
                    best, best_distance = position, distance
            elif first < 0:
                first = position
                if not typed:
                    break
        if best >= 0:
            used[best] = True
            same += 1
        elif first >= 0:
            used[first] = True
            other += 1
    return same, other


def _bag_match(gold_keys: Iterable[tuple], pred_keys: Iterable[tuple]) -> tuple[Counter, int]:
    """Multiset matching of keys whose first element is the type.

    Returns the matched keys and how many leftover predictions match a leftover gold item on
    everything but the type (the *incorrect* ones).
    """
    gold_bag, pred_bag = Counter(gold_keys), Counter(pred_keys)
    common = gold_bag & pred_bag
    if common in (gold_bag, pred_bag):
        return common, 0
    gold_rest: Counter = Counter()
    pred_rest: Counter = Counter()
    for key, count in (gold_bag - pred_bag).items():
        gold_rest[key[1:]] += count
    for key, count in (pred_bag - gold_bag).items():
        pred_rest[key[1:]] += count
    return common, sum((gold_rest & pred_rest).values())


# --------------------------------------------------------------------------- tallies


@dataclass
class _Tally:
    """Primitive counts from which every mode's COR/INC/PAR/MIS/SPU is derived at the end."""

    width: int
    row_width: int
    overall: list[int] = field(default_factory=list)
    per_type: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.overall = [0] * self.width

    def row(self, kind: str) -> list[int]:
        row = self.per_type.get(kind)
        if row is None:
            row = self.per_type[kind] = [0] * self.row_width
        return row


def _tally_entities(golds: list[ScoredEntity], preds: list[ScoredEntity], tally: _Tally) -> None:
    overall = tally.overall
    overall[_G] += len(golds)
    overall[_P] += len(preds)
    for gold in golds:
        tally.row(gold[2])[_G] += 1
    for pred in preds:
        tally.row(pred[2])[_P] += 1
    _tally_spans(golds, preds, tally)
    common, incorrect = _bag_match(map(_TYPE_TEXT, golds), map(_TYPE_TEXT, preds))
    for key, count in common.items():
        tally.per_type[key[0]][_E_BAG] += count
        overall[_O_BAG] += count
    overall[_O_BAG_INC] += incorrect


def _tally_spans(golds: list[ScoredEntity], preds: list[ScoredEntity], tally: _Tally) -> None:
    golds = sorted((g for g in golds if g[0] is not None), key=_SPAN)
    preds = sorted((p for p in preds if p[0] is not None), key=_SPAN)
    if not golds or not preds:
        return
    overall = tally.overall
    left_golds, left_preds, hits = _pair_identical(golds, preds, _SPAN_TYPE)
    overall[_O_EXACT_T] += len(hits)
    for hit in hits:
        tally.per_type[hit[2]][_E_EXACT] += 1
    if left_golds and left_preds:
        overall[_O_FIRST_T] += _sweep(left_golds, left_preds, typed=False)[1]
        same, other = _sweep(left_golds, left_preds, typed=True)
        overall[_O_ENT_SAME] += same
        overall[_O_ENT_OTHER] += other
        _tally_type_overlaps(left_golds, left_preds, tally)
    if not left_golds or not left_preds:
        # Every prediction (or every gold entity) found its span and type, so span-only
        # matching finds the same number of pairs and leaves nothing to overlap.
        overall[_O_EXACT_U] += len(hits)
        return
    span_golds, span_preds, span_hits = _pair_identical(golds, preds, _SPAN)
    overall[_O_EXACT_U] += len(span_hits)
    overall[_O_FIRST_U] += _sweep(span_golds, span_preds, typed=False)[1]


def _tally_type_overlaps(golds: list[ScoredEntity], preds: list[ScoredEntity], tally: _Tally) -> None:
    """Per-type overlap matches: each type scored on its own, as nervaluate and seqeval do."""
    groups: dict[str, tuple[list[ScoredEntity], list[ScoredEntity]]] = {}
    for gold in golds:
        groups.setdefault(gold[2], ([], []))[0].append(gold)
    for pred in preds:
        group = groups.get(pred[2])
        if group is not None:
            group[1].append(pred)
    for kind, (type_golds, type_preds) in groups.items():
        if type_preds:
            row = tally.per_type[kind]
            row[_E_FIRST] += _sweep(type_golds, type_preds, typed=False)[1]
            row[_E_CLOSEST] += _sweep(type_golds, type_preds, typed=True)[0]


def _relation_keys(relations: list[tuple[str, ScoredEntity, ScoredEntity]], mode: str) -> list[tuple]:
    if mode == "relaxed":
        return [(kind, head[3], tail[3]) for kind, head, tail in relations]
    keys = []
    for kind, head, tail in relations:
        if head[0] is None or tail[0] is None:
            continue  # an argument without a span can only match in relaxed mode
        if mode == "strict":
            keys.append((kind, head[0], head[1], head[2], tail[0], tail[1], tail[2]))
        else:
            keys.append((kind, head[0], head[1], tail[0], tail[1]))
    return keys


def _tally_relations(golds: list[tuple], preds: list[tuple], tally: _Tally) -> None:
    overall = tally.overall
    overall[_G] += len(golds)
    overall[_P] += len(preds)
    for relation in golds:
        tally.row(relation[0])[_G] += 1
    for relation in preds:
        tally.row(relation[0])[_P] += 1
    if not golds or not preds:
        return
    for mode in RELATION_MODES:
        common, incorrect = _bag_match(_relation_keys(golds, mode), _relation_keys(preds, mode))
        slot = _R_COR[mode]
        for key, count in common.items():
            tally.per_type[key[0]][slot] += count
            overall[slot] += count
        overall[_R_INC[mode]] += incorrect


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


def _entity_mode_result(mode: str, tally: _Tally) -> dict[str, Any]:
    o = tally.overall
    g, p = o[_G], o[_P]
    micro = {
        "strict": lambda: _result(g, p, o[_O_EXACT_T], o[_O_FIRST_T]),
        "exact": lambda: _result(g, p, o[_O_EXACT_U], o[_O_FIRST_U]),
        "partial": lambda: _result(g, p, o[_O_EXACT_U], 0, o[_O_FIRST_U]),
        "ent_type": lambda: _result(g, p, o[_O_EXACT_T] + o[_O_ENT_SAME], o[_O_ENT_OTHER]),
        "type": lambda: _result(g, p, o[_O_BAG], o[_O_BAG_INC]),
    }[mode]()
    per_type = {kind: _entity_type_result(mode, row) for kind, row in sorted(tally.per_type.items())}
    return {"micro": micro, "macro": _macro(per_type), "per_type": per_type}


def _entity_type_result(mode: str, row: list[int]) -> dict[str, Any]:
    g, p = row[_G], row[_P]
    if mode in ("strict", "exact"):
        return _result(g, p, row[_E_EXACT], row[_E_FIRST])
    if mode == "partial":
        return _result(g, p, row[_E_EXACT], 0, row[_E_FIRST])
    if mode == "ent_type":
        return _result(g, p, row[_E_EXACT] + row[_E_CLOSEST])
    return _result(g, p, row[_E_BAG])


def _relation_mode_result(mode: str, tally: _Tally) -> dict[str, Any]:
    o = tally.overall
    micro = _result(o[_G], o[_P], o[_R_COR[mode]], o[_R_INC[mode]])
    per_type = {
        kind: _result(row[_G], row[_P], row[_R_COR[mode]]) for kind, row in sorted(tally.per_type.items())
    }
    return {"micro": micro, "macro": _macro(per_type), "per_type": per_type}


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
    reference's text. Returns a JSON-ready report: ``{"documents", "aligned", "unaligned",
    "ner": {mode: {"micro", "macro", "per_type"}}, "re": {...}}``; see the module docstring for
    the definitions.
    """
    _check_modes(entity_modes, ENTITY_MODES, "entity")
    _check_modes(relation_modes, RELATION_MODES, "relation")
    pairs = _parse_pairs(
        predictions,
        references,
        align_text,
        entity_labels if entity_labels is not None else ENTITY_TYPES,
        relation_labels if relation_labels is not None else RELATION_TYPES,
    )
    entities, relations = _Tally(10, 6), _Tally(8, 5)
    for guess, gold in pairs:
        _tally_entities(gold.entities, guess.entities, entities)
        _tally_relations(gold.relations, guess.relations, relations)
    return {
        "documents": len(pairs),
        "aligned": sum(guess.aligned for guess, _ in pairs),
        "unaligned": sum(guess.spanless for guess, _ in pairs),
        "ner": {mode: _entity_mode_result(mode, entities) for mode in entity_modes},
        "re": {mode: _relation_mode_result(mode, relations) for mode in relation_modes},
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
