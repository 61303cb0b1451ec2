"""Text measures: tokens, distinct-n, compression ratio and (self-)BLEU."""

from __future__ import annotations

import math
import random
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from ..tokenize import TOKEN_PATTERN

DEFAULT_BLEU_SAMPLE = 200
_SELF_BLEU_MAX_N = 4


def word_tokens(text: str) -> list[str]:
    """Lower-cased ``\\w+|[^\\w\\s]`` tokens: the unit of distinct-n and self-BLEU."""
    return TOKEN_PATTERN.findall(text.lower())


def _ngrams(tokens: Sequence[str], n: int) -> Iterable[tuple[str, ...]]:
    return zip(*(tokens[i:] for i in range(n)), strict=False)


def distinct_n(token_lists: Iterable[Sequence[str]], n: int) -> float | None:
    """Distinct n-grams / all n-grams, n-grams taken within documents (None when there are none)."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for tokens in token_lists:
        grams = list(_ngrams(tokens, n))
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else None


def compression_ratio(texts: Iterable[str]) -> float | None:
    """Raw UTF-8 bytes / zlib (level 9) bytes of the texts joined by newlines.

    Higher means more repetitive text. zlib's 32 KiB window makes this a measure of local
    repetition that barely depends on corpus size beyond a few dozen notes.
    """
    raw = "\n".join(texts).encode("utf-8")
    return len(raw) / len(zlib.compress(raw, 9)) if raw else None


def _counts(tokens: Sequence[str], max_n: int) -> list[Counter[tuple[str, ...]]]:
    return [Counter(_ngrams(tokens, n)) for n in range(1, max_n + 1)]


def sentence_bleu(
    hypothesis: Sequence[str], references: Sequence[Sequence[str]], max_n: int = _SELF_BLEU_MAX_N
) -> float:
    """BLEU of one hypothesis against several references (uniform weights, NLTK's method1 smoothing).

    A zero n-gram match count is replaced by 0.1 so one missing 4-gram does not zero the
    score; orders the hypothesis is too short for are left out and the weights renormalised.
    """
    if not hypothesis or not references:
        return 0.0
    hyp = _counts(hypothesis, max_n)
    refs = [_counts(ref, max_n) for ref in references]
    maxima = []
    for n in range(max_n):
        best: Counter[tuple[str, ...]] = Counter()
        for ref in refs:
            best |= ref[n]
        maxima.append(best)
    ref_lengths = [len(r) for r in references]
    return _bleu_from_counts(hyp, lambda n, gram: maxima[n][gram], len(hypothesis), ref_lengths)


def _bleu_from_counts(
    hyp: list[Counter[tuple[str, ...]]],
    max_ref_count: Callable[[int, tuple[str, ...]], int],
    hyp_length: int,
    ref_lengths: Sequence[int],
) -> float:
    log_sum, orders = 0.0, 0
    for n, grams in enumerate(hyp):
        total = sum(grams.values())
        if not total:
            continue
        matched = sum(min(count, max_ref_count(n, gram)) for gram, count in grams.items())
        log_sum += math.log((matched or 0.1) / total)
        orders += 1
    if not orders:
        return 0.0
    closest = min(ref_lengths, key=lambda r: (abs(r - hyp_length), r))
    brevity = 1.0 if hyp_length > closest else math.exp(1 - closest / hyp_length)
    return brevity * math.exp(log_sum / orders)


def self_bleu(
    token_lists: Sequence[Sequence[str]], sample: int = DEFAULT_BLEU_SAMPLE, seed: int = 0
) -> tuple[float | None, int]:
    """Mean BLEU-4 of each sampled document against all other sampled documents.

    High self-BLEU means notes look alike. The per-n-gram maximum over "all others" is
    taken from the two largest counts of each n-gram, so the cost is linear in the sample
    rather than quadratic. Returns (score, sample size); None below two documents.
    """
    indices = list(range(len(token_lists)))
    if len(indices) > sample:
        indices = sorted(random.Random(seed).sample(indices, sample))
    chosen = [token_lists[i] for i in indices if token_lists[i]]
    if len(chosen) < 2:
        return None, len(chosen)
    counts = [_counts(tokens, _SELF_BLEU_MAX_N) for tokens in chosen]
    top = [_top_two(counts, n) for n in range(_SELF_BLEU_MAX_N)]
    lengths = [len(t) for t in chosen]
    scores = []
    for i, hyp in enumerate(counts):

        def best_other(n: int, gram: tuple[str, ...], i: int = i) -> int:
            first, owner, second = top[n].get(gram, (0, -1, 0))
            return second if owner == i else first

        others = lengths[:i] + lengths[i + 1 :]
        scores.append(_bleu_from_counts(hyp, best_other, lengths[i], others))
    return sum(scores) / len(scores), len(chosen)


def _top_two(
    counts: list[list[Counter[tuple[str, ...]]]], n: int
) -> dict[tuple[str, ...], tuple[int, int, int]]:
    """n-gram -> (largest count, its document, second largest count)."""
    top: dict[tuple[str, ...], tuple[int, int, int]] = {}
    for doc_index, per_order in enumerate(counts):
        for gram, count in per_order[n].items():
            first, owner, second = top.get(gram, (0, -1, 0))
            if count > first:
                top[gram] = (count, doc_index, first)
            elif count > second:
                top[gram] = (first, owner, count)
    return top
