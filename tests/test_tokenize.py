"""Tokens and BIO tags: the one-pass ``tokens_and_tags`` always equals ``tokenize`` + ``bio_tags``."""

from __future__ import annotations

import random

import pytest

from odin_medical_ner_re.tokenize import bio_tags, spans_from_bio, tokenize, tokens_and_tags

_PIECES = ("pain", "HbA1c", " ", "  ", "9.1", "%", ",", "-", "x", "é", "\n", "Dr", ".", "_a", "2")


def _reference(text: str, spans: list[tuple[int, int, str]]) -> tuple[list[str], list[str]]:
    tokens = tokenize(text)
    return [token for token, _, _ in tokens], bio_tags(tokens, spans)


def _random_case(rng: random.Random) -> tuple[str, list[tuple[int, int, str]]]:
    """A text of word, number, punctuation and space pieces with spans that may cut words,
    overlap, touch, be empty, be unsorted or run past the end."""
    text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 12)))
    spans = []
    for _ in range(rng.randint(0, 4)):
        start = rng.randint(0, len(text) + 1)
        spans.append((start, start + rng.randint(-1, 8), rng.choice(("Drug", "Disease"))))
    if rng.random() < 0.7:
        spans.sort()
    return text, spans


def test_equals_tokenize_and_bio_tags_on_random_texts_and_spans() -> None:
    rng = random.Random(0)
    for _ in range(5_000):
        text, spans = _random_case(rng)
        assert tokens_and_tags(text, spans) == _reference(text, spans), (text, spans)


def test_codes_replace_the_tag_strings() -> None:
    codes = {"Drug": (1, 2), "Disease": (3, 4)}
    rng = random.Random(1)
    for _ in range(2_000):
        text, spans = _random_case(rng)
        tokens, tags = _reference(text, spans)
        encoded = {"O": 0, "B-Drug": 1, "I-Drug": 2, "B-Disease": 3, "I-Disease": 4}
        assert tokens_and_tags(text, spans, codes, 0) == (tokens, [encoded[tag] for tag in tags])


@pytest.mark.parametrize(
    ("text", "spans", "tags"),
    [
        ("HbA1c 9.1% today", [(0, 5, "Lab_Test")], ["B-Lab_Test", "O", "O", "O", "O", "O"]),
        ("type 2 diabetes.", [(0, 15, "Disease")], ["B-Disease", "I-Disease", "I-Disease", "O"]),
        # a span ending inside a word tags the whole word, as bio_tags does
        ("metformin", [(0, 5, "Drug")], ["B-Drug"]),
        # overlapping spans: the earlier-starting span wins and the later one stops at its tokens
        ("a b c", [(2, 5, "Drug"), (0, 3, "Disease")], ["B-Disease", "I-Disease", "O"]),
    ],
)
def test_examples(text: str, spans: list[tuple[int, int, str]], tags: list[str]) -> None:
    tokens, found = tokens_and_tags(text, spans)
    assert tokens == [token for token, _, _ in tokenize(text)]
    assert found == tags


def test_tags_round_trip_to_the_spans() -> None:
    text = "Started metformin for type 2 diabetes; HbA1c 9.1%."
    spans = [(8, 17, "Drug"), (22, 37, "Disease"), (39, 44, "Lab_Test")]
    _, tags = tokens_and_tags(text, spans)
    assert spans_from_bio(tokenize(text), tags) == spans
