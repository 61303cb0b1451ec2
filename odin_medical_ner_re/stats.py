"""Dataset statistics: what a generated or loaded corpus holds, in numbers.

``odin-ner-re generate`` and ``odin-ner-re stats`` print the same figures, so one module
computes them. Documents are counted in a single pass (:class:`StatisticsAccumulator`),
which lets ``generate`` stream millions of notes to disk without keeping them in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from .schema import ENTITY_TYPES, RELATION_TYPES, Document

_BAR_WIDTH = 40


class StatisticsAccumulator:
    """Counts entities, relations and lengths document by document; :meth:`result` summarizes."""

    def __init__(self, example_index: int = 0) -> None:
        self.example_index = example_index
        self.documents = 0
        self.entity_types: Counter[str] = Counter()
        self.relation_types: Counter[str] = Counter()
        self.signatures: Counter[str] = Counter()
        self.negated = 0
        self.surface_forms: dict[str, set[str]] = {}
        self.entities_per_doc: Counter[int] = Counter()
        self.relations_per_doc: Counter[int] = Counter()
        self.characters = _Running()
        self.type_per_doc: dict[str, _Running] = {}
        self.example: Document | None = None

    def add(self, doc: Document) -> None:
        if self.documents == self.example_index:
            self.example = doc
        self.documents += 1
        self.entities_per_doc[len(doc.entities)] += 1
        self.relations_per_doc[len(doc.relations)] += 1
        self.characters.add(len(doc.text))
        counts = Counter(entity.type for entity in doc.entities)
        self.entity_types.update(counts)
        for entity_type in counts.keys() - self.type_per_doc.keys():
            # a type first seen now had zero mentions in every earlier document
            self.type_per_doc[entity_type] = _Running(zeros=self.documents - 1)
        for entity_type, running in self.type_per_doc.items():
            running.add(counts.get(entity_type, 0))
        for entity in doc.entities:
            self.negated += entity.negated
            self.surface_forms.setdefault(entity.type, set()).add(entity.text.casefold())
        by_id = doc.entity_by_id()
        for relation in doc.relations:
            self.relation_types[relation.type] += 1
            head, tail = by_id.get(relation.head), by_id.get(relation.tail)
            if head is not None and tail is not None:
                self.signatures[f"{relation.type}({head.type} -> {tail.type})"] += 1

    def result(self) -> dict[str, Any]:
        n = self.documents
        return {
            "documents": n,
            "entities": {
                "total": sum(self.entity_types.values()),
                "by_type": _ordered(self.entity_types, ENTITY_TYPES),
                "negated": self.negated,
                "distinct_surface_forms": {t: len(forms) for t, forms in sorted(self.surface_forms.items())},
            },
            "relations": {
                "total": sum(self.relation_types.values()),
                "by_type": _ordered(self.relation_types, RELATION_TYPES),
                "by_signature": dict(sorted(self.signatures.items())),
            },
            "per_document": {
                "entities": _summary_of_histogram(self.entities_per_doc, n),
                "relations": _summary_of_histogram(self.relations_per_doc, n),
                "characters": self.characters.summary(),
                "entities_by_type": {
                    t: running.summary() if running else _Running().summary()
                    for t, running in _ordered(self.type_per_doc, ENTITY_TYPES).items()
                },
            },
            "distributions": {
                "entities_per_document": dict(sorted(self.entities_per_doc.items())),
                "relations_per_document": dict(sorted(self.relations_per_doc.items())),
            },
            "example": _example(self.example),
        }


def dataset_statistics(documents: Iterable[Document], example_index: int = 0) -> dict[str, Any]:
    """Counts, per-type and per-document figures, distributions and one example document.

    The result is plain JSON-serializable data (``--json`` prints it as is); the example
    is ``documents[example_index]`` with its relations' argument texts spelled out.
    """
    accumulator = StatisticsAccumulator(example_index)
    for doc in documents:
        accumulator.add(doc)
    return accumulator.result()


def _ordered(counts: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    """Schema types first, in schema order (zero / None when absent), then any other types found."""
    missing = 0 if isinstance(counts, Counter) else None
    out = {name: counts.get(name, missing) for name in known}
    out.update({name: counts[name] for name in sorted(counts) if name not in out})
    return out


class _Running:
    """Mean, min and max of a stream of integers in constant memory."""

    def __init__(self, zeros: int = 0) -> None:
        self.count, self.total = zeros, 0
        self.low: int | None = 0 if zeros else None
        self.high: int | None = 0 if zeros else None

    def add(self, value: int) -> None:
        self.count += 1
        self.total += value
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)

    def summary(self) -> dict[str, float]:
        if not self.count:
            return {"mean": 0.0, "min": 0, "max": 0}
        return {"mean": self.total / self.count, "min": self.low or 0, "max": self.high or 0}


def _summary_of_histogram(histogram: Counter[int], n: int) -> dict[str, float]:
    if not n:
        return {"mean": 0.0, "min": 0, "max": 0}
    total = sum(value * count for value, count in histogram.items())
    return {"mean": total / n, "min": min(histogram), "max": max(histogram)}


def _example(doc: Document | None) -> dict[str, Any] | None:
    if doc is None:
        return None
    by_id = doc.entity_by_id()
    relations = []
    for relation in doc.relations:
        head, tail = by_id.get(relation.head), by_id.get(relation.tail)
        relations.append(
            {
                **relation.to_dict(),
                "head_text": head.text if head else None,
                "tail_text": tail.text if tail else None,
            }
        )
    return {**doc.to_dict(), "relations": relations}


# --------------------------------------------------------------------------- text report


def format_statistics(stats: dict[str, Any]) -> str:
    """A readable report of :func:`dataset_statistics` (what the CLI prints)."""
    n = stats["documents"]
    lines = [f"Documents: {n:,}"]
    lines += _counts_block("Entities", stats["entities"], stats["per_document"]["entities"], n)
    if stats["entities"]["total"]:
        lines.append(f"  negated: {stats['entities']['negated']:,}")
        for entity_type, summary in stats["per_document"]["entities_by_type"].items():
            lines.append(f"  {entity_type:<10} per document: {_format_summary(summary)}")
        forms = ", ".join(f"{t} {k:,}" for t, k in stats["entities"]["distinct_surface_forms"].items())
        lines.append(f"  distinct surface forms: {forms}")
    lines += _counts_block("Relations", stats["relations"], stats["per_document"]["relations"], n)
    for signature, count in stats["relations"]["by_signature"].items():
        lines.append(f"  {signature:<34} {count:>9,}")
    lines.append(f"Characters per document: {_format_summary(stats['per_document']['characters'])}")
    lines += _histogram("Entities per document", stats["distributions"]["entities_per_document"])
    lines += _histogram("Relations per document", stats["distributions"]["relations_per_document"])
    if stats["example"] is not None:
        lines += _format_example(stats["example"])
    return "\n".join(lines)


def _counts_block(title: str, counts: dict[str, Any], per_document: dict[str, float], n: int) -> list[str]:
    lines = [f"{title}: {counts['total']:,} ({_format_summary(per_document)} per document)"]
    total = counts["total"] or 1
    for name, count in counts["by_type"].items():
        lines.append(f"  {name:<10} {count:>9,}  {count / total:6.1%}  {count / (n or 1):6.2f}/doc")
    return lines


def _format_summary(summary: dict[str, float]) -> str:
    return f"mean {summary['mean']:.2f}, min {summary['min']:,}, max {summary['max']:,}"


def _histogram(title: str, distribution: dict[int, int]) -> list[str]:
    if not distribution:
        return []
    peak = max(distribution.values())
    lines = [f"{title}:"]
    for value, count in distribution.items():
        bar = "#" * max(1, round(count / peak * _BAR_WIDTH))
        lines.append(f"  {value:>4} {bar} {count:,}")
    return lines


def _format_example(example: dict[str, Any]) -> list[str]:
    lines = [f"Example document {example['id']}:"]
    lines += [f"  | {line}" for line in example["text"].splitlines() or [""]]
    lines.append("  Entities:")
    for entity in example["entities"]:
        negated = " (negated)" if entity.get("negated") else ""
        span = f"[{entity['start']}, {entity['end']})"
        lines.append(f"    {entity['id']:<4} {entity['type']:<10} {span:<12} {entity['text']!r}{negated}")
    lines.append("  Relations:")
    for relation in example["relations"] or []:
        lines.append(
            f"    {relation['id']:<4} {relation['type']:<10} {relation['head']} {relation['head_text']!r}"
            f" -> {relation['tail']} {relation['tail_text']!r}"
        )
    if not example["relations"]:
        lines.append("    (none)")
    return lines
