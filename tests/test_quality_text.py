"""The report's text measures (distinct-n, compression ratio, BLEU) against hand-computed values."""

from __future__ import annotations

import math
import random
import zlib

import pytest

from odin_medical_ner_re.quality.text import compression_ratio, self_bleu, sentence_bleu, word_tokens


def test_tokens_are_lowercased_words_and_punctuation():
    assert word_tokens("Start metformin for T2DM.") == ["start", "metformin", "for", "t2dm", "."]


def test_compression_ratio_definition_and_direction():
    texts = ["Start metformin for T2DM.", "Aspirin for flu."]
    raw = "\n".join(texts).encode()
    assert compression_ratio(texts) == pytest.approx(len(raw) / len(zlib.compress(raw, 9)))
    varied = [" ".join(random.Random(i).choice("abcdefghij") * 3 for _ in range(40)) for i in range(20)]
    assert compression_ratio(["the same note again."] * 200) > compression_ratio(varied)
    assert compression_ratio([]) is None


def test_sentence_bleu_by_hand():
    hyp = ["the", "cat", "sat", "on", "the", "mat"]
    ref = ["the", "cat", "is", "on", "the", "mat"]
    # p1 5/6, p2 3/5, p3 1/4, p4 no match -> 0.1/3 (smoothing); equal lengths: no brevity penalty
    expected = (5 / 6 * 3 / 5 * 1 / 4 * 0.1 / 3) ** 0.25
    assert sentence_bleu(hyp, [ref]) == pytest.approx(expected)
    assert sentence_bleu(ref, [ref]) == pytest.approx(1.0)
    # brevity: hypothesis of 3 tokens against a reference of 6
    assert sentence_bleu(["the", "cat", "is"], [ref]) == pytest.approx(math.exp(1 - 6 / 3) * 1.0)


def test_self_bleu_by_hand():
    docs = [list("abcd"), list("abcd"), list("efgh")]
    third = (0.1 / 4 * 0.1 / 3 * 0.1 / 2 * 0.1 / 1) ** 0.25
    score, used = self_bleu(docs)
    assert used == 3
    assert score == pytest.approx((1 + 1 + third) / 3)
    assert self_bleu([list("abcd")]) == (None, 1)


def test_self_bleu_matches_brute_force():
    rng = random.Random(3)
    docs = [[rng.choice("abcde") for _ in range(rng.randint(3, 12))] for _ in range(25)]
    brute = sum(sentence_bleu(d, docs[:i] + docs[i + 1 :]) for i, d in enumerate(docs)) / len(docs)
    assert self_bleu(docs)[0] == pytest.approx(brute)
