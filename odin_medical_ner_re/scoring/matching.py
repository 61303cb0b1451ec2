"""The matchings behind every mode: identical keys, sorted merges, overlap sweeps and bags.

All run on tuples that start with the document index (or on positions that fold it in), so one
call matches every document at once; see the package docstring for the greedy order.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tally import EntityTally

_KEY_TYPE = itemgetter(1)  # of a (doc, type, ...) bag key


def multiset_match(gold_keys: list[tuple], pred_keys: list[tuple]) -> tuple[list[tuple], list[tuple]]:
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


def positions(entities: list[tuple], width: int, ordered: bool = False) -> list[tuple]:
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


def sweep(golds: Sequence[tuple], preds: list[tuple]) -> int:
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


def overlaps(golds: Sequence[tuple], preds: list[tuple], tally: EntityTally) -> None:
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


def bag_match(
    gold_keys: list[tuple], pred_keys: list[tuple], loose: Callable[[tuple], tuple]
) -> tuple[Counter[str], int]:
    """Multiset matching of ``(doc, type, ...)`` keys: (matches per type, incorrect count).

    A leftover prediction whose ``loose`` key (everything but the type) equals a leftover gold
    item's is *incorrect*; the rest of the leftovers are spurious or missed.
    """
    left_gold, left_pred = multiset_match(gold_keys, pred_keys)
    matched = _matched_types(gold_keys, left_gold, _KEY_TYPE)
    if not left_gold or not left_pred:
        return matched, 0
    loose_gold = list(map(loose, left_gold))
    still_missed = multiset_match(loose_gold, list(map(loose, left_pred)))[0]
    return matched, len(loose_gold) - len(still_missed)


def merge(golds: list[tuple], preds: list[tuple]) -> tuple[list[tuple], list[tuple], list[tuple]]:
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

