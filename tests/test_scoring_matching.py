"""The matchings under every scoring mode, against their plain definitions."""

from __future__ import annotations

import random
from collections import Counter

from odin_medical_ner_re.scoring import matching


def test_multiset_matching_equals_counter_arithmetic():
    """The set-algebra matcher against the obvious multiset definition, repeats included."""
    for case in range(200):
        rng = random.Random(case)
        gold = [(rng.randrange(3), rng.choice("ab"), rng.randrange(4)) for _ in range(rng.randint(0, 12))]
        pred = [(rng.randrange(3), rng.choice("ab"), rng.randrange(4)) for _ in range(rng.randint(0, 12))]
        left_gold, left_pred = matching.multiset_match(gold, pred)
        common = Counter(gold) & Counter(pred)
        assert Counter(left_gold) == Counter(gold) - common
        assert Counter(left_pred) == Counter(pred) - common


def _random_spans(rng: random.Random) -> list[tuple[int, int]]:
    starts = [rng.randrange(60) for _ in range(rng.randint(0, 15))]
    return sorted((start, start + rng.randint(1, 9)) for start in starts)


def test_sweep_is_the_greedy_first_overlap_matching():
    """The bisect-and-stop sweep against a scan of every gold item, on sorted random spans."""
    for case in range(200):
        rng = random.Random(case)
        golds, preds = _random_spans(rng), _random_spans(rng)
        used = [False] * len(golds)
        expected = 0
        for start, end in preds:
            for position, (gold_start, gold_end) in enumerate(golds):
                if not used[position] and gold_start < end and start < gold_end:
                    used[position] = True
                    expected += 1
                    break
        assert matching.sweep(golds, preds) == expected
