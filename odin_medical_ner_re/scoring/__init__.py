"""The NER/RE scoring protocol: one implementation behind the metric, the evaluator and the CLI.

Scores are the product's currency, so every number here has one written definition and the
same code computes it whichever front door is used.

Modes, one class each in :mod:`.modes` (its docstring is its definition; nervaluate's
``strategies.py`` is the model): entity modes ``strict``, ``exact``, ``partial``, ``ent_type`` and
``type`` (``ENTITY_MODES``), entities matching only inside their own document; relation modes
``strict``, ``boundaries`` and ``relaxed`` (``RELATION_MODES``), directed (swapping head and tail
breaks a match). A relation whose arguments match but whose type differs is *incorrect*.
Normalization is NFKC, case folding and collapsed whitespace (:func:`normalize_text`).

Matching is one-to-one: every prediction and every gold item is used at most once, so a
duplicate prediction is spurious. The greedy order is documented because it decides ties:
predictions and gold entities are sorted by (start, end, type), so the input order never
matters; first every prediction takes an identical gold item (same span, and same type where the
mode needs it), then the remaining predictions, in that order, take the first remaining
overlapping gold entity (for ``ent_type``: the closest same-type one, the first on ties, else the
first other-type one). Relations and the ``type`` bags match identical keys only. Where
predictions do not overlap each other this is exactly nervaluate's algorithm on sorted input; the
exact-first phase keeps an overlapping prediction from stealing the gold entity that a later
prediction matches exactly. Overlap means at least one shared character (nervaluate's default 1 % threshold agrees
for gold spans up to 100 characters). Candidates are found by a sorted sweep (a bisect on the
running maximum of the gold ends, a stop at the first gold start past the prediction), so work
grows with the number of overlaps, not with all pairs.

Counts follow nervaluate: COR, INC, PAR, MIS, SPU; ``possible = COR + INC + PAR + MIS`` (the gold
count, reported as ``support``), ``actual = COR + INC + PAR + SPU`` (the prediction count),
``precision = (COR + 0.5 PAR) / actual`` and ``recall = (COR + 0.5 PAR) / possible``, so both stay
in [0, 1]. Per-type results score each type on its own (gold and predictions filtered to that
type, as nervaluate and seqeval do); ``micro`` is the pooled count over all documents (for
``partial`` and ``ent_type`` it includes cross-type overlaps, so a right span with a wrong type is
*incorrect* in ``micro`` but *missed* plus *spurious* in the per-type rows); ``macro`` is the
unweighted mean of the per-type precision, recall and F1 over the types present in the gold or
the predictions.

Empty-input convention (never NaN): when there is nothing to find and nothing was predicted
(``possible == actual == 0``) precision, recall and F1 are 1.0; otherwise a zero denominator gives
0.0 (no prediction: precision 0; no gold: recall 0); F1 is 0.0 when precision + recall is 0; and
macro averages over no type at all are 1.0.

Unknown labels in predictions are scored like any other label (never correct where the type
counts, with a per-type row of their own), never rejected. Predicted entities that
carry no offsets are spurious in every span mode but still count in ``type`` and ``relaxed``;
:func:`align_mentions` (``align_text=True``) gives them the first unused occurrence of their text.

The package reads top-down: :mod:`.text` (mention helpers), :mod:`.reading` (documents into
columns), :mod:`.matching` (the matchings), :mod:`.tally` (the one pass that runs them),
:mod:`.modes` (what each mode counts), :mod:`.report` (scores) and :mod:`.table` (text).
"""

from .modes import ENTITY_MODES, RELATION_MODES
from .reading import RawEntity, ScoredEntity, ScoredRelation
from .report import COUNT_FIELDS, flatten, prf, score_documents
from .table import format_mode, format_report
from .text import align_mentions, bio_to_spans, normalize_text

__all__ = [
    "COUNT_FIELDS",
    "ENTITY_MODES",
    "RELATION_MODES",
    "RawEntity",
    "ScoredEntity",
    "ScoredRelation",
    "align_mentions",
    "bio_to_spans",
    "flatten",
    "format_mode",
    "format_report",
    "normalize_text",
    "prf",
    "score_documents",
]
