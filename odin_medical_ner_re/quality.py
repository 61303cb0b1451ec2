"""Dataset quality report: the seed's checklist turned into measured, plotted numbers.

Why these measures:

* **Distributions** (entity/relation types, entities, relations and tokens per document)
  show whether a model will see enough of every label and whether notes are realistic
  in length; side by side with a real corpus they show the domain gap.
* **Diversity**: distinct-n (distinct n-grams / all n-grams) is what collapsed to ~0.01
  in the seed generator; zlib compression ratio and self-BLEU catch template repetition
  that distinct-n misses. Template usage counts show which templates dominate.
* **Coverage**: distinct mentions per type and the share of knowledge-base concepts used
  say how much of the vocabulary a model can learn from the data.
* **Factual consistency**: the share of relations that are knowledge-base edges (the
  promise of DESIGN §3), schema violations (``validate``) and offset errors.
* **Leakage**: exact text and surface-form overlap between ``train`` and the other
  splits; ``test_unseen`` must have zero surface-form overlap by construction.

Everything here is pure Python over :class:`~odin_medical_ner_re.schema.Document` lists,
so synthetic files, saved datasets, builder configs and real benchmarks go through the
same code. Plots use matplotlib's headless ``Agg`` backend.
"""

from __future__ import annotations

import html
import json
import math
import os
import random
import re
import statistics
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .errors import UserInputError
from .files import atomic_write_text, check_output_dir, prepare_output_dir, temporary_path
from .knowledge import KnowledgeBase, load_knowledge_base
from .schema import ENTITY_TYPES, RELATION_TYPES, Document, load_documents, validate
from .tokenize import TOKEN_PATTERN

#: Names accepted by the benchmark adapters (``odin_medical_ner_re.benchmarks``).
BENCHMARK_NAMES: tuple[str, ...] = ("biored", "bc5cdr", "ade", "ncbi_disease")
DEFAULT_BLEU_SAMPLE = 200
_SELF_BLEU_MAX_N = 4

# --------------------------------------------------------------------------- atomic output


# --------------------------------------------------------------------------- loading


@dataclass
class Corpus:
    """Documents of one dataset, by split (``"all"`` when the source has no splits)."""

    name: str
    splits: dict[str, list[Document]]
    source: str = ""

    @property
    def documents(self) -> list[Document]:
        return [doc for docs in self.splits.values() for doc in docs]


def dataset_documents(dataset: Any) -> list[Document]:
    """Rows of a ``datasets.Dataset`` (synthetic or benchmark) as documents.

    Label names come from the dataset's own ``ClassLabel`` features, so native benchmark
    labels survive; template ids are kept in the metadata (the builder's converter drops
    them) because the report counts template usage.
    """
    from .builder import row_to_document

    features = dataset.features
    entity_names = _label_names(features, "entities")
    relation_names = _label_names(features, "relations")
    documents = []
    for row in dataset:
        doc = row_to_document(row, entity_names, relation_names)
        templates = (row.get("metadata") or {}).get("templates")
        if templates:
            doc.metadata["templates"] = list(templates)
        documents.append(doc)
    return documents


def _label_names(features: Any, column: str) -> list[str] | None:
    try:
        return list(features[column].feature["type"].names)
    except (KeyError, AttributeError, TypeError):
        return None


def _group_by_split(documents: list[Document]) -> dict[str, list[Document]]:
    """Split a flat document list by ``metadata["split"]`` when every document has one."""
    names = [doc.metadata.get("split") for doc in documents]
    if documents and all(isinstance(n, str) and n for n in names):
        grouped: dict[str, list[Document]] = {}
        for name, doc in zip(names, documents, strict=True):
            grouped.setdefault(str(name), []).append(doc)
        return grouped
    return {"all": documents}


def _from_dataset_object(data: Any) -> dict[str, list[Document]]:
    import datasets

    if isinstance(data, datasets.DatasetDict):
        return {name: dataset_documents(split) for name, split in data.items()}
    return {"all": dataset_documents(data)}


def load_corpus(spec: str, *, split: str | None = None, label_set: str = "odin") -> Corpus:
    """Documents from a JSON/JSONL file, a saved dataset folder, a builder config or a benchmark.

    ``split`` keeps only that split (an unknown split is a user error naming the valid ones).
    Documents are read without validation: invalid ones are what the report counts.
    """
    path = Path(spec)
    if path.is_file():
        splits, source = _group_by_split(load_documents(path, check=False)), f"file {path}"
    elif path.is_dir():
        import datasets

        try:
            data = datasets.load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as err:
            raise UserInputError(f"{path}: not a saved dataset folder ({err})") from None
        splits, source = _from_dataset_object(data), f"saved dataset {path}"
    else:
        splits, source = _load_named(spec, label_set)
    if split is not None:
        if split not in splits:
            raise UserInputError(f"{spec}: no split {split!r}; available: {', '.join(splits)}")
        splits = {split: splits[split]}
    if not any(splits.values()):
        raise UserInputError(f"{spec}: no documents")
    return Corpus(name=_display_name(spec), splits=splits, source=source)


def _load_named(name: str, label_set: str) -> tuple[dict[str, list[Document]], str]:
    from .builder import config_names, load_dataset

    if name in config_names():
        return _from_dataset_object(load_dataset(name)), f"builder config {name}"
    benchmarks = _benchmark_module()
    known = set(BENCHMARK_NAMES)
    if benchmarks is not None:
        known |= set(getattr(benchmarks, "CORPORA", {})) | set(getattr(benchmarks, "ALIASES", {}))
    if name.lower() in known:
        if benchmarks is None:
            raise UserInputError(
                f"{name}: the benchmark adapters (odin_medical_ner_re.benchmarks) are not installed in this build"
            )
        if hasattr(benchmarks, "load_benchmark_documents"):
            splits = benchmarks.load_benchmark_documents(name, label_set=label_set)
        else:
            splits = _from_dataset_object(benchmarks.load_benchmark(name, label_set=label_set))
        return dict(splits), f"benchmark {name} ({label_set} labels)"
    raise UserInputError(
        f"{name}: not a file, a saved dataset folder, a builder config ({', '.join(config_names())}) "
        f"or a benchmark ({', '.join(sorted(known))})"
    )


def _benchmark_module() -> Any:
    """The real-corpus adapters, imported only when asked for (they are optional here)."""
    try:
        from . import benchmarks
    except ImportError as err:
        if err.name and err.name.endswith("benchmarks"):
            return None
        raise
    return benchmarks


def _display_name(spec: str) -> str:
    path = Path(spec)
    return path.name if path.exists() else spec


def load_kb_or_none() -> tuple[KnowledgeBase | None, str | None]:
    """The knowledge base, or ``None`` and the reason: a report must not die with the KB."""
    try:
        return load_knowledge_base(), None
    except UserInputError as err:
        return None, str(err).splitlines()[0]


# --------------------------------------------------------------------------- text measures


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


# --------------------------------------------------------------------------- document measures


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
        "distinct_mentions_by_type": {t: len(forms[t]) for t in _ordered(forms, ENTITY_TYPES)},
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


def _ordered(keys: Iterable[str], known: Sequence[str]) -> list[str]:
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
    corpus: Corpus,
    kb: KnowledgeBase | None,
    *,
    kb_problem: str | None = None,
    bleu_sample: int = DEFAULT_BLEU_SAMPLE,
    seed: int = 0,
) -> dict[str, Any]:
    """Every measure of the report for one corpus, as JSON-ready data."""
    documents = corpus.documents
    return {
        "name": corpus.name,
        "source": corpus.source,
        "splits": {name: len(docs) for name, docs in corpus.splits.items()},
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
        "leakage": split_leakage(corpus.splits),
    }


# --------------------------------------------------------------------------- plots

_COLORS = ("#1f77b4", "#ff7f0e")


@dataclass
class _Figure:
    """A saved plot: file name and the caption the report puts under it."""

    file: str
    caption: str


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {"font.size": 10, "axes.titlesize": 11, "axes.spines.top": False, "axes.spines.right": False}
    )
    return plt


def _save(fig: Any, directory: Path, name: str, legend_ax: Any = None) -> str:
    """Save atomically; with two corpora their legend goes above the panels, clear of the bars."""
    handles, labels = legend_ax.get_legend_handles_labels() if legend_ax is not None else ([], [])
    if len(labels) > 1:
        fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False, fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.91))
    else:
        fig.tight_layout()
    try:
        with temporary_path(directory / name, suffix=".png") as tmp_name:
            fig.savefig(tmp_name, dpi=110, format="png")
    finally:
        fig.clear()
        _pyplot().close(fig)
    return name


def _grouped_bars(ax: Any, reports: Sequence[Mapping[str, Any]], key: str) -> None:
    """Bars of type shares (so corpora of different sizes compare), counts written on the bars."""
    labels = _ordered({t for r in reports for t in r["types"][key]["by_type"]}, ENTITY_TYPES + RELATION_TYPES)
    width = 0.8 / len(reports)
    for i, report in enumerate(reports):
        dist = report["types"][key]
        shares = [100 * dist["share"].get(t, 0.0) for t in labels]
        xs = [x + (i - (len(reports) - 1) / 2) * width for x in range(len(labels))]
        bars = ax.bar(xs, shares, width, color=_COLORS[i], label=report["name"])
        for bar, t in zip(bars, labels, strict=True):
            ax.annotate(
                f"{dist['by_type'].get(t, 0):,}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.set_xticks(
        range(len(labels)), [t.replace("_", " ") for t in labels], rotation=20 if len(labels) > 6 else 0
    )
    ax.set_ylabel("share (%)")
    ax.margins(y=0.15)
    if not labels:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)


def plot_types(reports: Sequence[Mapping[str, Any]], directory: Path) -> list[_Figure]:
    plt = _pyplot()
    figures = []
    for key, title, file in (
        ("entities", "Entity types", "entity_types.png"),
        ("relations", "Relation types", "relation_types.png"),
    ):
        fig, ax = plt.subplots(figsize=(7, 4))
        _grouped_bars(ax, reports, key)
        ax.set_title(f"{title} (share of all {key}; counts on the bars)")
        name = _save(fig, directory, file, legend_ax=ax)
        figures.append(_Figure(name, f"{title}: share of all {key}, with counts."))
    return figures


def _expand(histogram: Mapping[str, int]) -> list[int]:
    return [int(value) for value, count in histogram.items() for _ in range(count)]


def plot_per_document(reports: Sequence[Mapping[str, Any]], directory: Path) -> _Figure:
    """Three histograms; with two corpora they are overlaid as densities."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    for ax, key in zip(axes, ("entities", "relations", "tokens"), strict=True):
        series = [_expand(r["per_document"][key]["histogram"]) for r in reports]
        top = max((max(s) for s in series if s), default=0)
        bins = _bins(top, key)
        for i, (report, values) in enumerate(zip(reports, series, strict=True)):
            if not values:
                continue
            ax.hist(
                values,
                bins=bins,
                density=len(reports) > 1,
                color=_COLORS[i],
                alpha=0.55 if len(reports) > 1 else 0.9,
                label=report["name"],
                histtype="stepfilled",
                edgecolor=_COLORS[i],
            )
            mean = report["per_document"][key]["mean"]
            ax.axvline(mean, color=_COLORS[i], linestyle="--", linewidth=1)
        ax.set_title(f"{key.capitalize()} per document (dashed: mean)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(key)
        ax.set_ylabel("density" if len(reports) > 1 else "documents")
    return _Figure(
        _save(fig, directory, "per_document.png", legend_ax=axes[0]),
        "Entities, relations and tokens per document.",
    )


def _bins(top: int, key: str) -> Any:
    if key != "tokens" and top <= 40:
        return [x - 0.5 for x in range(top + 2)]
    return 30


def plot_coverage(reports: Sequence[Mapping[str, Any]], directory: Path) -> _Figure:
    plt = _pyplot()
    with_kb = [r for r in reports if "kb_concepts_used_by_type" in r["coverage"]]
    fig, axes = plt.subplots(1, 2 if with_kb else 1, figsize=(12 if with_kb else 7, 4), squeeze=False)
    labels = _ordered({t for r in reports for t in r["coverage"]["distinct_mentions_by_type"]}, ENTITY_TYPES)
    _bar_series(
        axes[0][0],
        labels,
        [
            (r["name"], [r["coverage"]["distinct_mentions_by_type"].get(t, 0) for t in labels])
            for r in reports
        ],
        "{:,.0f}",
    )
    axes[0][0].set_title("Distinct surface forms per entity type")
    axes[0][0].set_ylabel("distinct mentions (case-folded)")
    if with_kb:
        series = [
            (
                r["name"],
                [100 * (r["coverage"]["kb_concepts_used_by_type"][t]["share"] or 0) for t in ENTITY_TYPES],
            )
            for r in with_kb
        ]
        _bar_series(axes[0][1], list(ENTITY_TYPES), series, "{:.0f}%")
        axes[0][1].set_title("Knowledge-base concepts used, per type")
        axes[0][1].set_ylabel("share of KB concepts (%)")
        axes[0][1].set_ylim(0, 110)
    return _Figure(
        _save(fig, directory, "coverage.png", legend_ax=axes[0][0]),
        "Surface-form coverage and share of the knowledge base used.",
    )


def _bar_series(
    ax: Any,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    fmt: str,
) -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series):
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        bars = ax.bar(xs, values, width, color=_COLORS[i], label=name)
        for bar, value in zip(bars, values, strict=True):
            ax.annotate(
                fmt.format(value),
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.set_xticks(range(len(labels)), [label.replace("_", " ") for label in labels])
    ax.margins(y=0.15)


def plot_diversity(reports: Sequence[Mapping[str, Any]], directory: Path) -> _Figure:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), gridspec_kw={"width_ratios": [3, 1.4, 1.4]})
    keys = ["distinct_1", "distinct_2", "distinct_3"]
    _bar_series(
        axes[0],
        ["distinct-1", "distinct-2", "distinct-3"],
        [(r["name"], [r["diversity"][k] or 0.0 for k in keys]) for r in reports],
        "{:.3f}",
    )
    axes[0].set_title("Distinct n-grams / all n-grams\n(higher = more varied)")
    axes[0].set_ylim(0, 1.05)
    _bar_series(
        axes[1],
        ["self-BLEU-4"],
        [(r["name"], [r["diversity"]["self_bleu"] or 0.0]) for r in reports],
        "{:.3f}",
    )
    axes[1].set_title("Self-BLEU on a sample\n(lower = more varied)")
    axes[1].set_ylim(0, 1.05)
    _bar_series(
        axes[2],
        ["zlib ratio"],
        [(r["name"], [r["diversity"]["compression_ratio"] or 0.0]) for r in reports],
        "{:.2f}",
    )
    axes[2].set_title("Compression ratio\n(lower = more varied)")
    return _Figure(
        _save(fig, directory, "diversity.png", legend_ax=axes[0]),
        "Text diversity: distinct-n over all documents, self-BLEU-4 on a sample, zlib compression ratio.",
    )


def plot_templates(reports: Sequence[Mapping[str, Any]], directory: Path, top: int = 40) -> _Figure | None:
    """Uses per template family (kind.section): readable even with thousands of phrasings."""
    plt = _pyplot()
    with_templates = [(i, r) for i, r in enumerate(reports) if r["diversity"]["templates"]]
    if not with_templates:
        return None
    rows = max(min(top, len(r["diversity"]["templates"]["families"])) for _, r in with_templates)
    fig, axes = plt.subplots(
        1, len(with_templates), figsize=(7 * len(with_templates), 0.22 * rows + 1.6), squeeze=False
    )
    for ax, (i, report) in zip(axes[0], with_templates, strict=True):
        usage = report["diversity"]["templates"]
        items = list(usage["families"].items())[:top][::-1]
        ax.barh([k for k, _ in items], [v for _, v in items], color=_COLORS[i])
        ax.set_title(
            f"{report['name']}: {usage['distinct']:,} templates in {usage['distinct_families']} families, "
            f"{usage['uses']:,} uses",
            fontsize=10,
        )
        ax.set_xlabel("uses")
        ax.tick_params(axis="y", labelsize=8)
        ax.margins(y=0.01)
    return _Figure(
        _save(fig, directory, "templates.png"),
        f"Template usage per family (kind.section; the {top} most used families).",
    )


def plot_leakage(reports: Sequence[Mapping[str, Any]], directory: Path) -> _Figure | None:
    plt = _pyplot()
    with_splits = [r for r in reports if r["leakage"]]
    if not with_splits:
        return None
    fig, axes = plt.subplots(1, len(with_splits), figsize=(6.5 * len(with_splits), 3.8), squeeze=False)
    for ax, report in zip(axes[0], with_splits, strict=True):
        splits = list(report["leakage"])
        series = [
            (
                "identical texts",
                [100 * (report["leakage"][s]["exact_text_overlap_share"] or 0) for s in splits],
            ),
            (
                "surface forms seen in train",
                [100 * (report["leakage"][s]["surface_overlap_share"] or 0) for s in splits],
            ),
        ]
        width = 0.38
        for j, (label, values) in enumerate(series):
            xs = [x + (j - 0.5) * width for x in range(len(splits))]
            bars = ax.bar(xs, values, width, label=label, color=("#d62728", "#7f7f7f")[j])
            for bar, value in zip(bars, values, strict=True):
                ax.annotate(
                    f"{value:.1f}%",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    xytext=(0, 2),
                    textcoords="offset points",
                )
        ax.set_xticks(range(len(splits)), splits)
        ax.set_ylim(0, 115)
        ax.set_ylabel("% of the split")
        ax.set_title(f"{report['name']}: overlap with train")
        ax.legend(frameon=False, loc="upper left", fontsize=8)
    return _Figure(_save(fig, directory, "leakage.png"), "Split leakage: overlap of each split with train.")


def write_plots(reports: Sequence[Mapping[str, Any]], directory: Path) -> dict[str, _Figure]:
    figures: dict[str, _Figure | None] = {}
    entity_fig, relation_fig = plot_types(reports, directory)
    figures.update(
        entity_types=entity_fig,
        relation_types=relation_fig,
        per_document=plot_per_document(reports, directory),
        coverage=plot_coverage(reports, directory),
        diversity=plot_diversity(reports, directory),
        templates=plot_templates(reports, directory),
        leakage=plot_leakage(reports, directory),
    )
    return {k: v for k, v in figures.items() if v is not None}


# --------------------------------------------------------------------------- Markdown / HTML


@dataclass
class _Block:
    kind: str  # "h2", "p", "table", "img"
    text: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _dig(report: Mapping[str, Any], path: str) -> Any:
    value: Any = report
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


_SUMMARY_ROWS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("documents", "documents", _fmt),
    ("entities", "types.entities.total", _fmt),
    ("relations", "types.relations.total", _fmt),
    ("entities per document (mean)", "per_document.entities.mean", _fmt),
    ("relations per document (mean)", "per_document.relations.mean", _fmt),
    ("tokens per document (mean)", "per_document.tokens.mean", _fmt),
    ("distinct-1", "diversity.distinct_1", _fmt),
    ("distinct-2", "diversity.distinct_2", _fmt),
    ("distinct-3", "diversity.distinct_3", _fmt),
    ("compression ratio (zlib)", "diversity.compression_ratio", _fmt),
    ("self-BLEU-4", "diversity.self_bleu", _fmt),
    ("self-BLEU sample (documents)", "diversity.self_bleu_sample", _fmt),
    ("distinct templates", "diversity.templates.distinct", _fmt),
    ("template usage evenness (1 = uniform)", "diversity.templates.evenness", _fmt),
    ("distinct surface forms", "coverage.distinct_mentions", _fmt),
    ("KB concepts used", "coverage.kb_concepts_used_share", _pct),
    ("relations that are KB edges", "consistency.kb_edge_share", _pct),
    ("relations with an argument unknown to the KB", "consistency.unknown_arguments", _fmt),
    ("relations between known concepts that are not edges", "consistency.not_an_edge", _fmt),
    ("schema violations", "validity.schema_violations", _fmt),
    ("offset errors", "validity.offset_errors", _fmt),
)


def _columns(reports: Sequence[Mapping[str, Any]]) -> list[str]:
    return ["measure", *(r["name"] for r in reports)]


def _type_table(reports: Sequence[Mapping[str, Any]], key: str) -> _Block:
    labels = _ordered({t for r in reports for t in r["types"][key]["by_type"]}, ENTITY_TYPES + RELATION_TYPES)
    rows = [
        [
            label,
            *(
                f"{r['types'][key]['by_type'].get(label, 0):,} ({_pct(r['types'][key]['share'].get(label, 0.0))})"
                for r in reports
            ),
        ]
        for label in labels
    ]
    return _Block(
        "table",
        headers=[key[:-1] if key == "relations" else "entity", *(r["name"] for r in reports)],
        rows=rows or [["(none)", *("" for _ in reports)]],
    )


def _per_doc_table(reports: Sequence[Mapping[str, Any]]) -> _Block:
    rows = []
    for key in ("entities", "relations", "tokens"):
        for stat in ("mean", "median", "min", "max"):
            rows.append(
                [f"{key} per document: {stat}", *(_fmt(r["per_document"][key][stat]) for r in reports)]
            )
    return _Block("table", headers=_columns(reports), rows=rows)


def _coverage_table(reports: Sequence[Mapping[str, Any]]) -> _Block:
    rows = []
    for t in _ordered({t for r in reports for t in r["coverage"]["distinct_mentions_by_type"]}, ENTITY_TYPES):
        cells = []
        for r in reports:
            distinct = r["coverage"]["distinct_mentions_by_type"].get(t, 0)
            kb = _dig(r, f"coverage.kb_concepts_used_by_type.{t}")
            cells.append(
                f"{distinct:,}" + (f"; KB {kb['used']:,}/{kb['total']:,} ({_pct(kb['share'])})" if kb else "")
            )
        rows.append([t, *cells])
    return _Block(
        "table",
        headers=["type: distinct mentions; KB concepts used", *(r["name"] for r in reports)],
        rows=rows,
    )


def _leakage_blocks(reports: Sequence[Mapping[str, Any]]) -> list[_Block]:
    blocks = []
    for r in reports:
        if not r["leakage"]:
            blocks.append(
                _Block("p", f"{r['name']}: no train split next to another split, so no leakage to measure.")
            )
            continue
        rows = [
            [
                split,
                _fmt(v["documents"]),
                f"{v['exact_text_overlap']:,} ({_pct(v['exact_text_overlap_share'])})",
                f"{v['surface_overlap']:,}/{v['distinct_surface_forms']:,} ({_pct(v['surface_overlap_share'])})",
            ]
            for split, v in r["leakage"].items()
        ]
        blocks.append(_Block("p", f"**{r['name']}** (every split against train):"))
        blocks.append(
            _Block(
                "table",
                headers=["split", "documents", "identical texts in train", "surface forms seen in train"],
                rows=rows,
            )
        )
    return blocks


def _template_table(reports: Sequence[Mapping[str, Any]], top: int = 15) -> list[_Block]:
    blocks = []
    for r in reports:
        usage = r["diversity"]["templates"]
        if not usage:
            continue
        rows = [[name, f"{count:,}"] for name, count in list(usage["counts"].items())[:top]]
        blocks.append(
            _Block(
                "p",
                f"**{r['name']}**: {usage['distinct']:,} distinct templates, {usage['uses']:,} uses; most used:",
            )
        )
        blocks.append(_Block("table", headers=["template", "uses"], rows=rows))
    return blocks


def _examples(reports: Sequence[Mapping[str, Any]]) -> list[_Block]:
    blocks = []
    for r in reports:
        lines = (
            r["validity"]["offset_error_examples"]
            + r["validity"]["schema_violation_examples"]
            + (r["consistency"].get("not_an_edge_examples") or [])
        )
        if lines:
            blocks.append(_Block("p", f"**{r['name']}**, first problems found:"))
            blocks.append(_Block("table", headers=["problem"], rows=[[line] for line in lines[:15]]))
    return blocks


def report_blocks(reports: Sequence[Mapping[str, Any]], figures: Mapping[str, _Figure]) -> list[_Block]:
    """The report as a list of blocks, rendered to both Markdown and HTML."""
    title = " vs ".join(r["name"] for r in reports)
    blocks = [_Block("h1", f"Data quality report: {title}")]
    for r in reports:
        kb = r["knowledge_base"]
        kb_text = (
            f"knowledge base: {kb['concepts']:,} concepts, {kb['edges']:,} edges"
            if kb["available"]
            else f"knowledge base unavailable ({kb['problem']}): coverage and consistency left out"
        )
        splits = ", ".join(f"{name} {n:,}" for name, n in r["splits"].items())
        blocks.append(_Block("p", f"**{r['name']}**: {r['source']}; splits: {splits}; {kb_text}."))
    blocks.append(_Block("h2", "Summary"))
    blocks.append(
        _Block(
            "table",
            headers=_columns(reports),
            rows=[[label, *(fmt(_dig(r, path)) for r in reports)] for label, path, fmt in _SUMMARY_ROWS],
        )
    )

    def figure(key: str) -> None:
        if key in figures:
            blocks.append(_Block("img", figures[key].file, headers=[figures[key].caption]))

    blocks += [
        _Block("h2", "Entity and relation types"),
        _type_table(reports, "entities"),
        _type_table(reports, "relations"),
    ]
    figure("entity_types")
    figure("relation_types")
    blocks += [_Block("h2", "Per document"), _per_doc_table(reports)]
    figure("per_document")
    blocks += [_Block("h2", "Surface-form coverage"), _coverage_table(reports)]
    figure("coverage")
    blocks += [
        _Block("h2", "Text diversity"),
        _Block(
            "p",
            "distinct-n: distinct n-grams / all n-grams of lower-cased word and punctuation tokens "
            "(n-grams within a document; the value falls as a corpus grows, so compare corpora of "
            "similar size). Self-BLEU: BLEU-4 of each sampled note against the other sampled notes. "
            "Compression ratio: raw bytes / zlib bytes. For the last two, lower means more varied.",
        ),
    ]
    figure("diversity")
    blocks += _template_table(reports)
    figure("templates")
    blocks += [
        _Block("h2", "Factual consistency and validity"),
        _Block(
            "p",
            "A relation is consistent when its type, head text and tail text form an edge of the "
            "knowledge base (texts looked up by any surface form, case-insensitively).",
        ),
    ]
    blocks += _examples(reports)
    blocks.append(_Block("h2", "Split leakage"))
    blocks += _leakage_blocks(reports)
    figure("leakage")
    return blocks


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: Sequence[_Block]) -> str:
    out = []
    for block in blocks:
        if block.kind == "h1":
            out.append(f"# {block.text}")
        elif block.kind == "h2":
            out.append(f"## {block.text}")
        elif block.kind == "p":
            out.append(block.text)
        elif block.kind == "img":
            out.append(f"![{block.headers[0]}]({block.text})")
        else:
            out.append("| " + " | ".join(_md_cell(h) for h in block.headers) + " |")
            out.append("|" + "|".join("---" for _ in block.headers) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        out.append("")
    return "\n".join(out)


_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td:not(:first-child) { font-variant-numeric: tabular-nums; }
figure { margin: 1em 0 1.6em; }
img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
"""


def _inline(text: str) -> str:
    """Escape, then turn the Markdown ``**bold**`` used in paragraphs into <strong>."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))


def render_html(blocks: Sequence[_Block]) -> str:
    title = blocks[0].text if blocks else "Data quality report"
    body = []
    for block in blocks:
        if block.kind in ("h1", "h2"):
            body.append(f"<{block.kind}>{html.escape(block.text)}</{block.kind}>")
        elif block.kind == "p":
            body.append(f"<p>{_inline(block.text)}</p>")
        elif block.kind == "img":
            caption = html.escape(block.headers[0])
            body.append(
                f'<figure><img src="{html.escape(block.text)}" alt="{caption}"><figcaption>{caption}</figcaption></figure>'
            )
        else:
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in block.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


#: The files :func:`write_report` writes besides its PNG plots.
REPORT_FILES: tuple[str, ...] = ("report.md", "report.html", "report.json")


def write_report(reports: Sequence[Mapping[str, Any]], output: str | os.PathLike[str]) -> Path:
    """Plots, report.md, report.html and report.json in ``output``; returns the folder."""
    directory = prepare_output_dir(output)
    figures = write_plots(reports, directory)
    blocks = report_blocks(reports, figures)
    atomic_write_text(directory / "report.md", render_markdown(blocks))
    atomic_write_text(directory / "report.html", render_html(blocks))
    payload = {
        "generated_by": f"odin-ner-re report {__version__}",
        "datasets": list(reports),
        "plots": {key: fig.file for key, fig in figures.items()},
    }
    atomic_write_text(directory / "report.json", json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    return directory


def run_report(
    dataset: str,
    output: str | os.PathLike[str],
    *,
    compare: str | None = None,
    split: str | None = None,
    compare_split: str | None = None,
    label_set: str = "odin",
    bleu_sample: int = DEFAULT_BLEU_SAMPLE,
    seed: int = 0,
    kb: KnowledgeBase | None = None,
) -> tuple[Path, list[dict[str, Any]]]:
    """Load one or two datasets, measure them and write the report folder."""
    check_output_dir(output, writes=REPORT_FILES, inputs=(dataset, compare))
    kb_problem = None
    if kb is None:
        kb, kb_problem = load_kb_or_none()
    corpora = [load_corpus(dataset, split=split, label_set=label_set)]
    if compare is not None:
        corpora.append(load_corpus(compare, split=compare_split, label_set=label_set))
        if corpora[1].name == corpora[0].name:
            corpora[1].name += " (compared)"
    reports = [
        compute_report(c, kb, kb_problem=kb_problem, bleu_sample=bleu_sample, seed=seed) for c in corpora
    ]
    return write_report(reports, output), reports
