"""The word tokenization behind the ``tokens``/``ner_tags`` columns (and the BIO views).

A token is a run of word characters (``\\w+``) or one other non-space character, so
"HbA1c 9.1%" gives ``HbA1c``, ``9``, ``.``, ``1``, ``%``. Entity boundaries in
generated notes always fall on such boundaries, so BIO tags describe spans exactly.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")
#: Two word characters in a row: a cut between them would split a ``\w+`` token.
_INSIDE_WORD = re.compile(r"\w\w")


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """(token, start, end) triples with half-open character offsets."""
    return [(m.group(), m.start(), m.end()) for m in TOKEN_PATTERN.finditer(text)]


def bio_tags(tokens: Sequence[tuple[str, int, int]], spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """IOB2 tags for ``tokens`` given entity ``spans`` (start, end, type).

    A token takes the type of the span that contains it; the first token of each span
    gets ``B-``. Overlapping spans keep the earlier-starting (then longer) span.
    """
    tags = ["O"] * len(tokens)
    starts = [start for _, start, _ in tokens]
    for start, end, label in sorted(spans, key=lambda s: (s[0], -s[1])):
        first = bisect.bisect_left(starts, start)
        inside = False
        for index in range(first, len(tokens)):
            _, token_start, token_end = tokens[index]
            if token_start >= end:
                break
            if tags[index] != "O":
                break
            tags[index] = ("I-" if inside else "B-") + label
            inside = True
    return tags


def tokens_and_tags(
    text: str,
    spans: Sequence[tuple[int, int, str]],
    codes: Mapping[str, tuple[Any, Any]] | None = None,
    outside: Any = "O",
) -> tuple[list[str], list[Any]]:
    """Token strings and IOB2 tags in one pass: ``tokenize`` then ``bio_tags``, without offsets.

    Tags are strings by default; ``codes`` maps each entity type to the (``B-``, ``I-``) values
    to store instead and ``outside`` is the ``O`` value (the builder passes ``ClassLabel``
    indices). The builder calls this for every note, so the common case avoids a Python object
    per token: when spans are sorted, disjoint and cut the text only between tokens, the text
    between spans is all ``O`` and each span's tokens are one ``B-`` and ``I-``s, so each piece
    is tokenized on its own by ``findall`` (which works in C). Any other case (overlaps, a span
    boundary inside a word) takes :func:`tokenize` and :func:`bio_tags`, so the result is
    always theirs.
    """
    findall, inside_word = TOKEN_PATTERN.findall, _INSIDE_WORD.match
    tokens: list[str] = []
    tags: list[Any] = []
    position = 0
    for start, end, label in spans:
        if (
            start < position
            or end <= start
            or (start and inside_word(text, start - 1))
            or inside_word(text, end - 1)
        ):
            return _slow_tokens_and_tags(text, spans, codes, outside)
        gap = findall(text, position, start)
        inside = findall(text, start, end)
        tokens += gap
        tokens += inside
        tags += [outside] * len(gap)
        if inside:
            begin, continuing = codes[label] if codes is not None else ("B-" + label, "I-" + label)
            tags.append(begin)
            tags += [continuing] * (len(inside) - 1)
        position = end
    gap = findall(text, position)
    tokens += gap
    tags += [outside] * len(gap)
    return tokens, tags


def _slow_tokens_and_tags(
    text: str,
    spans: Sequence[tuple[int, int, str]],
    codes: Mapping[str, tuple[Any, Any]] | None,
    outside: Any,
) -> tuple[list[str], list[Any]]:
    tokens = tokenize(text)
    tags: list[Any] = bio_tags(tokens, spans)
    if codes is not None:
        tags = [outside if tag == "O" else codes[tag[2:]][tag[0] == "I"] for tag in tags]
    return [token for token, _, _ in tokens], tags


def spans_from_bio(tokens: Sequence[tuple[str, int, int]], tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Inverse of :func:`bio_tags` (IOB2, strict: an ``I-`` of another type starts nothing)."""
    spans: list[tuple[int, int, str]] = []
    current: list[int | str] | None = None
    for (_, start, end), tag in zip(tokens, tags, strict=True):
        if tag.startswith("B-") or (tag.startswith("I-") and (current is None or current[2] != tag[2:])):
            if current is not None:
                spans.append((int(current[0]), int(current[1]), str(current[2])))
            current = [start, end, tag[2:]] if tag.startswith("B-") else None
        elif tag.startswith("I-") and current is not None:
            current[1] = end
        else:
            if current is not None:
                spans.append((int(current[0]), int(current[1]), str(current[2])))
            current = None
    if current is not None:
        spans.append((int(current[0]), int(current[1]), str(current[2])))
    return spans
