"""The one-pass tally: every matching the requested modes need, run once, as primitive counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, TypeVar

from . import matching
from .reading import Columns, ScoredEntity, ScoredRelation
from .text import normalize_text

if TYPE_CHECKING:
    from .modes import EntityMode, RelationMode

_TYPE = itemgetter(3)  # of a (doc, start, end, type, ...) entity
_KEY_TYPE = itemgetter(1)  # of a relation or a (doc, type, ...) bag key
_END = itemgetter(2)
T = TypeVar("T")
_TEXT_KEY_LOOSE = itemgetter(0, 2)  # a (doc, type, text) bag key without its type


class EntityTally:
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


def tally_entities(
    gold: Columns, guess: Columns, spanless: bool, modes: Sequence[EntityMode]
) -> EntityTally:
    """Run the matchings that the requested ``modes`` need (:attr:`EntityMode.matching`).

    Identical entities (document, span, type and text) are paired first: that pairing refines
    every mode's key, and per key a one-to-one matching pairs min(gold, predicted) copies, so
    each mode only has to match the (few) leftovers. Reading already paired the identical
    entities of documents of the common shape, so ``entities`` of both sides hold only what
    is left of those and every entity of the others. Entities without a span only take part
    in the ``type`` bag.
    """
    tally = EntityTally()
    tally.gold.update(gold.type_counts)
    tally.pred.update(guess.type_counts)
    golds, preds = gold.entities, guess.entities
    gold_loose: list[ScoredEntity] = []
    pred_loose: list[ScoredEntity] = []
    if spanless:
        golds, gold_loose = _split_by_span(golds, _entity_has_span)
        preds, pred_loose = _split_by_span(preds, _entity_has_span)
    ordered = gold.in_order and guess.in_order
    if ordered:  # every document was read on the common path: its identical entities are paired
        left_golds, left_preds = golds, preds
    else:
        left_golds, left_preds = matching.multiset_match(golds, preds)
    # matched = every gold entity with a span minus those left over
    spanned = tally.gold - Counter(map(_TYPE, gold_loose)) if gold_loose else tally.gold
    hit_types = spanned - Counter(map(_TYPE, left_golds))
    if any(mode.matching == "bag" for mode in modes):
        norm = normalize_text
        matched, tally.bag_other_type = matching.bag_match(
            [(d, kind, norm(mention)) for d, _, _, kind, mention in left_golds + gold_loose],
            [(d, kind, norm(mention)) for d, _, _, kind, mention in left_preds + pred_loose],
            _TEXT_KEY_LOOSE,
        )
        tally.bag.update(hit_types)
        tally.bag.update(matched)
    if any(mode.matching == "spans" for mode in modes):
        tally.same_span_type.update(hit_types)
        tally.same_span = hit_types.total()
        _tally_spans(left_golds, left_preds, tally, ordered)
    return tally


def _tally_spans(golds: list[tuple], preds: list[tuple], tally: EntityTally, ordered: bool = False) -> None:
    """Span modes from ``(doc, start, end, type, ...)`` entities: identical pairs first, then overlaps.

    Everything runs on sorted ``(position, position[, type])`` items (see :func:`matching.positions`;
    ``ordered`` keys are sorted already), so identical pairs are found by merging.
    """
    if not golds or not preds:
        return
    width = 1 + max(max(map(_END, golds)), max(map(_END, preds)))
    gold_items, pred_items, matched = matching.merge(
        matching.positions(golds, width, ordered), matching.positions(preds, width, ordered)
    )
    tally.same_span_type.update(Counter(map(_TYPE_OF_ITEM, matched)))
    tally.same_span += len(matched)
    if not gold_items or not pred_items:
        return
    matching.overlaps(gold_items, pred_items, tally)
    # Per span, span-only matching pairs min(gold, predicted) copies, and the same-type pairs
    # already made are among them, so only the leftovers need matching again.
    gold_spans, pred_spans, matched = matching.merge(
        list(map(_SPAN_OF_ITEM, gold_items)), list(map(_SPAN_OF_ITEM, pred_items))
    )
    tally.same_span += len(matched)
    if gold_spans and pred_spans:
        tally.span_overlap += matching.sweep(gold_spans, pred_spans)


_TYPE_OF_ITEM = itemgetter(2)
_SPAN_OF_ITEM = itemgetter(0, 1)


class RelationTally:
    """Per type, every relation of both sides; per mode, its matches per type and its incorrect count."""

    def __init__(self, modes: Sequence[RelationMode]) -> None:
        self.gold: Counter[str] = Counter()
        self.pred: Counter[str] = Counter()
        self.correct: dict[str, Counter[str]] = {mode.name: Counter() for mode in modes}
        self.incorrect = {mode.name: 0 for mode in modes}


def tally_relations(
    gold: Columns, guess: Columns, spanless: bool, modes: Sequence[RelationMode]
) -> RelationTally:
    """Identical relations first (they match in every mode), then each mode on the leftovers.

    Reading paired the identical relations of documents of the common shape already, so
    ``relations`` of both sides hold only what is left of those and every relation of the
    others. A relation with an argument lacking a span can only match in ``relaxed``, so such
    relations skip the identity pass.
    """
    tally = RelationTally(modes)
    tally.gold.update(gold.relation_counts)
    tally.pred.update(guess.relation_counts)
    golds, preds = gold.relations, guess.relations
    gold_loose: list[ScoredRelation] = []
    pred_loose: list[ScoredRelation] = []
    if spanless:
        golds, gold_loose = _split_by_span(golds, _relation_has_spans)
        preds, pred_loose = _split_by_span(preds, _relation_has_spans)
    left_golds, left_preds = matching.multiset_match(golds, preds)
    # matched = every relation with spans minus those left over
    spanned = tally.gold - Counter(map(_KEY_TYPE, gold_loose)) if gold_loose else tally.gold
    hit_types = spanned - Counter(map(_KEY_TYPE, left_golds))
    left_golds += gold_loose
    left_preds += pred_loose
    for mode in modes:
        matched, tally.incorrect[mode.name] = matching.bag_match(
            mode.keys(left_golds), mode.keys(left_preds), mode.loose
        )
        tally.correct[mode.name].update(hit_types)
        tally.correct[mode.name].update(matched)
    return tally


def _split_by_span(items: list[T], has_span: Callable[[T], bool]) -> tuple[list[T], list[T]]:
    """(items with a span, items without): only the first can match in a span mode."""
    return [item for item in items if has_span(item)], [item for item in items if not has_span(item)]


def _entity_has_span(entity: ScoredEntity) -> bool:
    return entity[1] is not None


def _relation_has_spans(relation: ScoredRelation) -> bool:
    return relation[2][1] is not None and relation[3][1] is not None
