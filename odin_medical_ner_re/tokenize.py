"""The word tokenization behind the ``tokens``/``ner_tags`` columns (and the BIO views).

A token is a run of word characters (``\\w+``) or one other non-space character, so
"HbA1c 9.1%" gives ``HbA1c``, ``9``, ``.``, ``1``, ``%``. Entity boundaries in
generated notes always fall on such boundaries, so BIO tags describe spans exactly.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence

TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")


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
