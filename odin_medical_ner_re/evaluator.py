"""The seed's evaluation API, kept so that its callers keep working; every number comes from :mod:`.scoring`.

The seed compared flat lists of predictions, so the document an entity belongs to is its
``doc_id``: entities are grouped by it and only match inside their own document (entities
without a ``doc_id`` form one document). The seed's modes map onto the protocol like this:

==================  =========================================  ============================
``matching_mode``   entities                                   relations
==================  =========================================  ============================
``"exact"``         ``strict``: same span and same type         ``strict``
``"partial"``       ``partial``: overlap earns 0.5, any type    ``boundaries``
``"type"``          ``type``: bag of (type, normalized text)    ``relaxed``
``"strict"``        same as ``"exact"``                        ``strict``
``"ent_type"``      ``ent_type``: overlap and same type         ``strict``
==================  =========================================  ============================

``"exact"`` keeps its seed meaning (a right span with a wrong type was never a hit), which is the
protocol's ``strict``; the protocol's type-blind ``exact`` is available from :mod:`.scoring`.
Counts follow from the protocol's: ``tp = correct + 0.5 * partial``, ``fp = predicted - tp``,
``fn = support - tp``, so ``precision = tp / (tp + fp)`` and ``recall = tp / (tp + fn)`` exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import UserInputError
from .scoring import score_documents

#: matching_mode -> (entity mode, relation mode) of the protocol.
MATCHING_MODES: dict[str, tuple[str, str]] = {
    "exact": ("strict", "strict"),
    "partial": ("partial", "boundaries"),
    "type": ("type", "relaxed"),
    "strict": ("strict", "strict"),
    "ent_type": ("ent_type", "strict"),
}


@dataclass(frozen=True)
class EntityPrediction:
    """A predicted or gold mention; ``start``/``end`` are half-open and may be None (text only)."""

    text: str
    type: str
    start: int | None = None
    end: int | None = None
    doc_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "type": self.type, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class RelationPrediction:
    """A directed relation between two mentions of the same document (the head's ``doc_id``)."""

    type: str
    head: EntityPrediction
    tail: EntityPrediction

    @property
    def doc_id(self) -> str | None:
        return self.head.doc_id

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "head": self.head.to_dict(), "tail": self.tail.to_dict()}


class NERREvaluator:
    """Scores flat lists of entity and relation predictions under one ``matching_mode``."""

    def __init__(self, matching_mode: str = "exact") -> None:
        if matching_mode not in MATCHING_MODES:
            raise UserInputError(
                f"unknown matching_mode {matching_mode!r}: valid modes are {', '.join(MATCHING_MODES)}"
            )
        self.matching_mode = matching_mode
        self.entity_mode, self.relation_mode = MATCHING_MODES[matching_mode]

    def evaluate_entities(
        self, predictions: Iterable[EntityPrediction], gold: Iterable[EntityPrediction]
    ) -> dict[str, Any]:
        """``{precision, recall, f1, tp, fp, fn, support}`` over all documents (micro)."""
        return _seed_counts(self._entity_result(predictions, gold)["micro"])

    def evaluate_entities_per_type(
        self, predictions: Iterable[EntityPrediction], gold: Iterable[EntityPrediction]
    ) -> dict[str, Any]:
        """``{per_type: {type: counts}, macro: {precision, recall, f1}, micro: counts}``."""
        return _seed_per_type(self._entity_result(predictions, gold))

    def evaluate_relations(
        self, predictions: Iterable[RelationPrediction], gold: Iterable[RelationPrediction]
    ) -> dict[str, Any]:
        """Relation scores, the same shape as :meth:`evaluate_entities`."""
        return _seed_counts(self._relation_result(predictions, gold)["micro"])

    def evaluate_relations_per_type(
        self, predictions: Iterable[RelationPrediction], gold: Iterable[RelationPrediction]
    ) -> dict[str, Any]:
        """Relation scores, the same shape as :meth:`evaluate_entities_per_type`."""
        return _seed_per_type(self._relation_result(predictions, gold))

    @staticmethod
    def print_results(results: Mapping[str, Any], title: str = "Results") -> None:
        """Print a result of any ``evaluate_*`` method as a small table."""
        print(format_results(results, title))

    def _entity_result(
        self, predictions: Iterable[EntityPrediction], gold: Iterable[EntityPrediction]
    ) -> dict[str, Any]:
        guesses, references = _documents(
            _checked(predictions, EntityPrediction, "predictions"),
            _checked(gold, EntityPrediction, "gold"),
            "entities",
        )
        report = score_documents(guesses, references, entity_modes=[self.entity_mode], relation_modes=[])
        return report["ner"][self.entity_mode]

    def _relation_result(
        self, predictions: Iterable[RelationPrediction], gold: Iterable[RelationPrediction]
    ) -> dict[str, Any]:
        guesses, references = _documents(
            _checked(predictions, RelationPrediction, "predictions"),
            _checked(gold, RelationPrediction, "gold"),
            "relations",
        )
        report = score_documents(guesses, references, entity_modes=[], relation_modes=[self.relation_mode])
        return report["re"][self.relation_mode]


def _checked(items: Any, kind: type, name: str) -> list[Any]:
    """``items`` as a list of ``kind``; anything else is a TypeError saying what to pass."""
    hint = f"build each with {kind.__name__}(...) from odin_medical_ner_re.evaluator"
    if items is None or isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise TypeError(f"{name} must be an iterable of {kind.__name__}, got {type(items).__name__}; {hint}")
    listed = list(items)
    for position, item in enumerate(listed):
        if not isinstance(item, kind):
            raise TypeError(f"{name}[{position}] is a {type(item).__name__}, expected {kind.__name__}; {hint}")
    return listed


def _documents(
    predictions: list[Any], gold: list[Any], field: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Group items into aligned prediction/reference documents by ``doc_id``.

    Relations carry their arguments inline (the seed's shape), so no entity list is needed.
    """
    doc_ids = list(dict.fromkeys(item.doc_id for item in [*gold, *predictions]))
    sides = []
    for items in (predictions, gold):
        grouped: dict[Any, list[dict[str, Any]]] = {doc_id: [] for doc_id in doc_ids}
        for item in items:
            grouped[item.doc_id].append(item.to_dict())
        sides.append([{field: grouped[doc_id]} for doc_id in doc_ids])
    return sides[0], sides[1]


def _seed_counts(result: Mapping[str, Any]) -> dict[str, Any]:
    credit = result["correct"] + result["partial"] / 2 if result["partial"] else result["correct"]
    return {
        "precision": result["precision"],
        "recall": result["recall"],
        "f1": result["f1"],
        "tp": credit,
        "fp": result["actual"] - credit,
        "fn": result["possible"] - credit,
        "support": result["support"],
    }


def _seed_per_type(result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "per_type": {kind: _seed_counts(row) for kind, row in result["per_type"].items()},
        "macro": dict(result["macro"]),
        "micro": _seed_counts(result["micro"]),
    }


def format_results(results: Mapping[str, Any], title: str = "Results") -> str:
    """A result of any ``evaluate_*`` method as text: one row per type, then micro and macro."""
    header = f"{'':<14}{'precision':>10}{'recall':>8}{'f1':>8}{'tp':>8}{'fp':>8}{'fn':>8}{'support':>9}"
    rows = dict(results["per_type"]) if "per_type" in results else {}
    rows["micro" if "per_type" in results else "all"] = results.get("micro", results)
    if "macro" in results:
        rows["macro"] = results["macro"]
    lines = [title, header]
    for name, row in rows.items():
        line = f"{name:<14}{row['precision']:>10.4f}{row['recall']:>8.4f}{row['f1']:>8.4f}"
        if "tp" in row:
            line += f"{row['tp']:>8g}{row['fp']:>8g}{row['fn']:>8g}{row['support']:>9}"
        lines.append(line)
    return "\n".join(lines)
