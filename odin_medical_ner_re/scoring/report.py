"""From tallies to the report: every mode's counts and scores, per type, micro and macro."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from ..errors import UserInputError
from ..gcpause import gc_paused
from ..schema import ENTITY_TYPES, RELATION_TYPES
from .modes import (
    ENTITY_MODE_TABLE,
    ENTITY_MODES,
    RELATION_MODE_TABLE,
    RELATION_MODES,
    EntityMode,
    RelationMode,
)
from .reading import read_pairs
from .tally import EntityTally, RelationTally, tally_entities, tally_relations

T = TypeVar("T")

COUNT_FIELDS: tuple[str, ...] = ("correct", "incorrect", "partial", "missed", "spurious")


def prf(correct: float, actual: int, possible: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from matched credit, prediction count and gold count.

    The empty convention lives here so that no front door can produce NaN: nothing expected and
    nothing predicted is a perfect 1.0; any other zero denominator gives 0.0.
    """
    if actual == 0 and possible == 0:
        return 1.0, 1.0, 1.0
    precision = correct / actual if actual else 0.0
    recall = correct / possible if possible else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _result(gold: int, pred: int, correct: int, incorrect: int = 0, partial: int = 0) -> dict[str, Any]:
    missed = gold - correct - incorrect - partial
    spurious = pred - correct - incorrect - partial
    precision, recall, f1 = prf(correct + 0.5 * partial, pred, gold)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": gold,
        "correct": correct,
        "incorrect": incorrect,
        "partial": partial,
        "missed": missed,
        "spurious": spurious,
        "possible": gold,
        "actual": pred,
    }


def _macro(per_type: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    if not per_type:
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    n = len(per_type)
    return {name: sum(r[name] for r in per_type.values()) / n for name in ("precision", "recall", "f1")}


def _entity_results(tally: EntityTally, modes: Sequence[EntityMode]) -> dict[str, Any]:
    gold, pred = tally.gold, tally.pred
    n_gold, n_pred = gold.total(), pred.total()
    kinds = sorted(set(gold) | set(pred))
    results = {}
    for mode in modes:
        rows = {k: _result(gold[k], pred[k], *mode.per_type(tally, k)) for k in kinds}
        results[mode.name] = {
            "micro": _result(n_gold, n_pred, *mode.micro(tally)),
            "macro": _macro(rows),
            "per_type": rows,
        }
    return results


def _relation_results(tally: RelationTally, modes: Sequence[RelationMode]) -> dict[str, Any]:
    gold, pred = tally.gold, tally.pred
    kinds = sorted(set(gold) | set(pred))
    results = {}
    for mode in modes:
        correct = tally.correct[mode.name]
        rows = {k: _result(gold[k], pred[k], correct[k]) for k in kinds}
        micro = _result(gold.total(), pred.total(), correct.total(), tally.incorrect[mode.name])
        results[mode.name] = {"micro": micro, "macro": _macro(rows), "per_type": rows}
    return results


def _modes(names: Sequence[str] | str, table: Mapping[str, T], what: str) -> list[T]:
    """The registered modes of ``names`` (one name or several), in the caller's order."""
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        if name not in table:
            raise UserInputError(f"unknown {what} mode {name!r}: valid modes are {', '.join(table)}")
    return [table[name] for name in names]


def score_documents(
    predictions: Iterable[Any],
    references: Iterable[Any],
    *,
    align_text: bool = False,
    entity_labels: Sequence[str] | None = None,
    relation_labels: Sequence[str] | None = None,
    entity_modes: Sequence[str] = ENTITY_MODES,
    relation_modes: Sequence[str] = RELATION_MODES,
) -> dict[str, Any]:
    """Score predicted documents against references, paired by position.

    Documents are dicts (``{"id"?, "text"?, "entities": [...], "relations": [...]}``),
    :class:`~odin_medical_ner_re.schema.Document` objects or ``datasets`` rows; integer types are
    ``ClassLabel`` indices into ``entity_labels`` / ``relation_labels`` (default: the schema's
    label order, which is the dataset builder's). A prediction without ``text`` uses its
    reference's text. Relation arguments are entity ids or inline entities (the seed's shape).
    Returns a JSON-ready report: ``{"documents", "aligned", "unaligned", "ner": {mode: {"micro",
    "macro", "per_type"}}, "re": {...}}``; see the package docstring for the definitions and
    :mod:`.modes` for each mode's rule.
    ``unaligned`` counts predicted entities left without a span (after alignment when
    ``align_text``), which no span mode can match.
    """
    entity = _modes(entity_modes, ENTITY_MODE_TABLE, "entity")
    relation = _modes(relation_modes, RELATION_MODE_TABLE, "relation")
    with gc_paused():
        return _score(
            predictions,
            references,
            align_text,
            entity_labels if entity_labels is not None else ENTITY_TYPES,
            relation_labels if relation_labels is not None else RELATION_TYPES,
            entity,
            relation,
        )


def _score(
    predictions: Iterable[Any],
    references: Iterable[Any],
    align_text: bool,
    entity_labels: Sequence[str],
    relation_labels: Sequence[str],
    entity_modes: list[EntityMode],
    relation_modes: list[RelationMode],
) -> dict[str, Any]:
    """The report of :func:`score_documents`; its columns die on return, before the collector resumes."""
    guess, gold = read_pairs(
        predictions,
        references,
        align_text,
        entity_labels,
        relation_labels,
        with_relations=bool(relation_modes),
    )
    spanless = bool(guess.spanless or gold.spanless)
    entities = tally_entities(gold, guess, spanless, entity_modes)
    loose = spanless or guess.spanless_arguments or gold.spanless_arguments
    relations = tally_relations(gold, guess, loose, relation_modes)
    return {
        "documents": len(gold.ids),
        "aligned": guess.aligned,
        "unaligned": guess.spanless,
        "ner": _entity_results(entities, entity_modes),
        "re": _relation_results(relations, relation_modes),
    }


def flatten(report: Mapping[str, Any]) -> dict[str, float | int]:
    """The headline numbers as flat keys (``ner_strict_f1``, ``re_boundaries_macro_f1``, ...).

    Flat scalars are what trainers log and what ``evaluate`` users index; the nested report
    keeps the per-type detail.
    """
    flat: dict[str, float | int] = {}
    for task in ("ner", "re"):
        for mode, result in report.get(task, {}).items():
            for name in ("precision", "recall", "f1"):
                flat[f"{task}_{mode}_{name}"] = result["micro"][name]
            for name in ("precision", "recall", "f1"):
                flat[f"{task}_{mode}_macro_{name}"] = result["macro"][name]
    flat["unaligned"] = report.get("unaligned", 0)
    return flat
