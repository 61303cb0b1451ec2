"""Text helpers of the protocol: the comparable form of a mention, placing mentions in a text, IOB2 spans."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Sequence


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
