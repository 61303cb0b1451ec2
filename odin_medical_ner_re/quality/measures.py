"""Document measures: distributions, coverage, consistency, validity, templates, leakage."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..knowledge import KnowledgeBase
from ..schema import ENTITY_TYPES, RELATION_TYPES, Document, validate
from ..tokenize import TOKEN_PATTERN
from .loading import SplitDocuments
from .text import DEFAULT_BLEU_SAMPLE, compression_ratio, distinct_n, self_bleu, word_tokens


def _summary(values: Sequence[int]) -> dict[str, float | int | None]:
    if not values:
        return {"mean": None, "median": None, "min": None, "max": None}
    return {
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def _histogram(values: Sequence[int]) -> dict[str, int]:
    """Value -> number of documents, keys as strings so the JSON round-trips."""
    return {str(k): v for k, v in sorted(Counter(values).items())}


def per_document(documents: Sequence[Document]) -> dict[str, Any]:
    """Entities, relations and tokens per document: summary statistics and histograms."""
    columns = {
        "entities": [len(d.entities) for d in documents],
        "relations": [len(d.relations) for d in documents],
        "tokens": [len(TOKEN_PATTERN.findall(d.text)) for d in documents],
    }
    return {name: {**_summary(values), "histogram": _histogram(values)} for name, values in columns.items()}


def type_distribution(documents: Sequence[Document]) -> dict[str, Any]:
    """Counts and shares of entity and relation types (known types first, then others)."""
    entities = Counter(e.type for d in documents for e in d.entities)
    relations = Counter(r.type for d in documents for r in d.relations)
    return {
        "entities": _shares(entities, ENTITY_TYPES),
        "relations": _shares(relations, RELATION_TYPES),
    }


def _shares(counts: Counter[str], known: Sequence[str]) -> dict[str, Any]:
    total = sum(counts.values())
    order = [t for t in known if t in counts] + sorted(set(counts) - set(known))
    return {
        "total": total,
        "by_type": {t: counts[t] for t in order},
        "share": {t: counts[t] / total for t in order} if total else {},
    }


def surface_coverage(documents: Sequence[Document], kb: KnowledgeBase | None) -> dict[str, Any]:
    """Distinct mentions per type and the share of knowledge-base concepts the data uses."""
    forms: dict[str, set[str]] = {}
    for doc in documents:
        for entity in doc.entities:
            forms.setdefault(entity.type, set()).add(entity.text.casefold())
    out: dict[str, Any] = {
        "distinct_mentions": len({(t, f) for t, fs in forms.items() for f in fs}),
        "distinct_mentions_by_type": {t: len(forms[t]) for t in in_label_order(forms, ENTITY_TYPES)},
    }
    if kb is None:
        return out
    used: dict[str, set[str]] = {}
    unmatched = 0
    for mentions in forms.values():
        for form in mentions:
            concept = kb.lookup(form)
            if concept is None:
                unmatched += 1
            else:
                used.setdefault(concept.type, set()).add(concept.name)
    out["kb_concepts_used_by_type"] = {
        t: {
            "used": len(used.get(t, ())),
            "total": len(kb.by_type.get(t, ())),
            "share": len(used.get(t, ())) / len(kb.by_type[t]) if kb.by_type.get(t) else None,
        }
        for t in ENTITY_TYPES
    }
    total_used = sum(len(v) for v in used.values())
    out["kb_concepts_used"] = total_used
    out["kb_concepts_used_share"] = total_used / len(kb.concepts) if kb.concepts else None
    out["distinct_mentions_not_in_kb"] = unmatched
    return out


def in_label_order(keys: Iterable[str], known: Sequence[str]) -> list[str]:
    present = set(keys)
    return [k for k in known if k in present] + sorted(present - set(known))


def factual_consistency(documents: Sequence[Document], kb: KnowledgeBase | None) -> dict[str, Any]:
    """Share of relations whose (type, head text, tail text) is a knowledge-base edge.

    Relations whose arguments are not entity ids of the document cannot be checked and
    are counted apart (they are schema violations). ``unknown_arguments`` counts relations
    with an argument text the knowledge base does not know; ``not_an_edge`` those whose
    two arguments are known concepts that the knowledge base does not link.
    """
    checked = edges = unknown = 0
    dangling = 0
    examples: list[str] = []
    for doc in documents:
        by_id = doc.entity_by_id()
        for relation in doc.relations:
            head, tail = by_id.get(relation.head), by_id.get(relation.tail)
            if head is None or tail is None:
                dangling += 1
                continue
            checked += 1
            if kb is None:
                continue
            if kb.is_edge(relation.type, head.text, tail.text):
                edges += 1
            elif kb.lookup(head.text) is None or kb.lookup(tail.text) is None:
                unknown += 1
            elif len(examples) < 5:
                examples.append(f"{doc.id}: {relation.type}({head.text!r}, {tail.text!r})")
    out: dict[str, Any] = {"relations_checked": checked, "relations_with_dangling_arguments": dangling}
    if kb is not None:
        out.update(
            kb_edges=edges,
            kb_edge_share=edges / checked if checked else None,
            unknown_arguments=unknown,
            not_an_edge=checked - edges - unknown,
            not_an_edge_examples=examples,
        )
    return out


_OFFSET_PROBLEM = re.compile(r"^entity .*: (offsets \[|text ['\"])")
_PROBLEM_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("unknown entity type", re.compile(r"^entity .*unknown type")),
    ("unknown relation type", re.compile(r"^relation .*unknown type")),
    ("invalid argument types", re.compile(r"cannot link")),
    ("dangling argument", re.compile(r"is not an entity id")),
    ("duplicate", re.compile(r"duplicate")),
)


def schema_and_offsets(documents: Sequence[Document]) -> dict[str, Any]:
    """Problems found by :func:`~odin_medical_ner_re.schema.validate`, offsets apart from the rest."""
    offset_errors = offset_docs = violations = violation_docs = 0
    kinds: Counter[str] = Counter()
    offset_examples: list[str] = []
    violation_examples: list[str] = []
    for doc in documents:
        problems = validate(doc)
        offsets = [p for p in problems if _OFFSET_PROBLEM.match(p)]
        others = [p for p in problems if not _OFFSET_PROBLEM.match(p)]
        offset_errors += len(offsets)
        offset_docs += bool(offsets)
        violations += len(others)
        violation_docs += bool(others)
        kinds.update(_problem_kind(p) for p in others)
        offset_examples += [f"{doc.id}: {p}" for p in offsets[: max(0, 5 - len(offset_examples))]]
        violation_examples += [f"{doc.id}: {p}" for p in others[: max(0, 5 - len(violation_examples))]]
    return {
        "offset_errors": offset_errors,
        "documents_with_offset_errors": offset_docs,
        "offset_error_examples": offset_examples,
        "schema_violations": violations,
        "documents_with_schema_violations": violation_docs,
        "schema_violations_by_kind": dict(sorted(kinds.items())),
        "schema_violation_examples": violation_examples,
    }


def _problem_kind(problem: str) -> str:
    return next((name for name, pattern in _PROBLEM_KINDS if pattern.search(problem)), "other")


def template_family(template_id: str) -> str:
    """``causes.hpi.3.1`` -> ``causes.hpi``: a template line's kind and section, without its numbers."""
    return ".".join(part for part in str(template_id).split(".") if not part.rstrip("ab").isdigit()) or str(
        template_id
    )


def template_usage(documents: Sequence[Document]) -> dict[str, Any] | None:
    """Template id -> uses, from ``metadata["templates"]`` (None when no document has them).

    ``evenness`` is the entropy of the usage divided by its maximum (1 = every template
    used equally often): a generator that leans on a few templates scores low.
    """
    counts: Counter[str] = Counter()
    for doc in documents:
        counts.update(str(t) for t in doc.metadata.get("templates") or ())
    if not counts:
        return None
    families: Counter[str] = Counter()
    for template, count in counts.items():
        families[template_family(template)] += count
    total = sum(counts.values())
    entropy = -sum(c / total * math.log(c / total) for c in counts.values())
    return {
        "distinct": len(counts),
        "uses": total,
        "evenness": entropy / math.log(len(counts)) if len(counts) > 1 else None,
        "distinct_families": len(families),
        "counts": dict(counts.most_common()),
        "families": dict(families.most_common()),
    }


def split_leakage(splits: Mapping[str, Sequence[Document]]) -> dict[str, Any] | None:
    """Overlap of every split with ``train``: identical texts and shared surface forms.

    ``surface_overlap_share`` is the share of a split's distinct (case-folded) entity
    texts that also occur in train; ``test_unseen`` is built to make it zero.
    """
    if "train" not in splits or len(splits) < 2:
        return None
    train = splits["train"]
    train_texts = {d.text for d in train}
    train_forms = {e.text.casefold() for d in train for e in d.entities}
    out = {}
    for name, docs in splits.items():
        if name == "train":
            continue
        same = sum(d.text in train_texts for d in docs)
        forms = {e.text.casefold() for d in docs for e in d.entities}
        shared = len(forms & train_forms)
        out[name] = {
            "documents": len(docs),
            "exact_text_overlap": same,
            "exact_text_overlap_share": same / len(docs) if docs else None,
            "distinct_surface_forms": len(forms),
            "surface_overlap": shared,
            "surface_overlap_share": shared / len(forms) if forms else None,
        }
    return out


def diversity(documents: Sequence[Document], bleu_sample: int, seed: int) -> dict[str, Any]:
    tokens = [word_tokens(d.text) for d in documents]
    bleu, used = self_bleu(tokens, bleu_sample, seed)
    return {
        **{f"distinct_{n}": distinct_n(tokens, n) for n in (1, 2, 3)},
        "compression_ratio": compression_ratio(d.text for d in documents),
        "self_bleu": bleu,
        "self_bleu_sample": used,
        "templates": template_usage(documents),
    }


def compute_report(
    dataset: SplitDocuments,
    kb: KnowledgeBase | None,
    *,
    kb_problem: str | None = None,
    bleu_sample: int = DEFAULT_BLEU_SAMPLE,
    seed: int = 0,
) -> dict[str, Any]:
    """Every measure of the report for one dataset, as JSON-ready data."""
    documents = dataset.documents
    return {
        "name": dataset.name,
        "source": dataset.source,
        "splits": {name: len(docs) for name, docs in dataset.splits.items()},
        "documents": len(documents),
        "knowledge_base": (
            {"available": True, "concepts": len(kb.concepts), "edges": len(kb.edges)}
            if kb is not None
            else {"available": False, "problem": kb_problem}
        ),
        "types": type_distribution(documents),
        "per_document": per_document(documents),
        "coverage": surface_coverage(documents, kb),
        "diversity": diversity(documents, bleu_sample, seed),
        "consistency": factual_consistency(documents, kb),
        "validity": schema_and_offsets(documents),
        "leakage": split_leakage(dataset.splits),
    }
