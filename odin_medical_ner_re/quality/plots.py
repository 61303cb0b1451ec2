"""The report's PNG plots (matplotlib, headless ``Agg`` backend)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..files import temporary_path
from ..schema import ENTITY_TYPES, RELATION_TYPES
from .measures import in_label_order

_COLORS = ("#1f77b4", "#ff7f0e")


@dataclass
class Figure:
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
    labels = in_label_order({t for r in reports for t in r["types"][key]["by_type"]}, ENTITY_TYPES + RELATION_TYPES)
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


def plot_types(reports: Sequence[Mapping[str, Any]], directory: Path) -> list[Figure]:
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
        figures.append(Figure(name, f"{title}: share of all {key}, with counts."))
    return figures


def _expand(histogram: Mapping[str, int]) -> list[int]:
    return [int(value) for value, count in histogram.items() for _ in range(count)]


def plot_per_document(reports: Sequence[Mapping[str, Any]], directory: Path) -> Figure:
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
    return Figure(
        _save(fig, directory, "per_document.png", legend_ax=axes[0]),
        "Entities, relations and tokens per document.",
    )


def _bins(top: int, key: str) -> Any:
    if key != "tokens" and top <= 40:
        return [x - 0.5 for x in range(top + 2)]
    return 30


def plot_coverage(reports: Sequence[Mapping[str, Any]], directory: Path) -> Figure:
    plt = _pyplot()
    with_kb = [r for r in reports if "kb_concepts_used_by_type" in r["coverage"]]
    fig, axes = plt.subplots(1, 2 if with_kb else 1, figsize=(12 if with_kb else 7, 4), squeeze=False)
    labels = in_label_order({t for r in reports for t in r["coverage"]["distinct_mentions_by_type"]}, ENTITY_TYPES)
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
    return Figure(
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


def plot_diversity(reports: Sequence[Mapping[str, Any]], directory: Path) -> Figure:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), gridspec_kw={"width_ratios": [3, 1.4, 1.4]})
    panels = (  # labels, diversity keys, value format, title, top of the y axis (None: automatic)
        (["distinct-1", "distinct-2", "distinct-3"], ["distinct_1", "distinct_2", "distinct_3"], "{:.3f}",
         "Distinct n-grams / all n-grams\n(higher = more varied)", 1.05),
        (["self-BLEU-4"], ["self_bleu"], "{:.3f}", "Self-BLEU on a sample\n(lower = more varied)", 1.05),
        (["zlib ratio"], ["compression_ratio"], "{:.2f}", "Compression ratio\n(lower = more varied)", None),
    )  # fmt: skip
    for ax, (labels, keys, fmt, title, top) in zip(axes, panels, strict=True):
        _bar_series(ax, labels, [(r["name"], [r["diversity"][k] or 0.0 for k in keys]) for r in reports], fmt)
        ax.set_title(title)
        if top is not None:
            ax.set_ylim(0, top)
    return Figure(
        _save(fig, directory, "diversity.png", legend_ax=axes[0]),
        "Text diversity: distinct-n over all documents, self-BLEU-4 on a sample, zlib compression ratio.",
    )


def plot_templates(reports: Sequence[Mapping[str, Any]], directory: Path, top: int = 40) -> Figure | None:
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
    return Figure(
        _save(fig, directory, "templates.png"),
        f"Template usage per family (kind.section; the {top} most used families).",
    )


def plot_leakage(reports: Sequence[Mapping[str, Any]], directory: Path) -> Figure | None:
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
    return Figure(_save(fig, directory, "leakage.png"), "Split leakage: overlap of each split with train.")


def write_plots(reports: Sequence[Mapping[str, Any]], directory: Path) -> dict[str, Figure]:
    figures: dict[str, Figure | None] = {}
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
