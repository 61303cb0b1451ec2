"""Measuring one or two datasets and writing the report folder."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..files import atomic_write_text, check_output_dir, prepare_output_dir
from ..knowledge import KnowledgeBase
from .loading import load_kb_or_none, load_split_documents
from .measures import compute_report
from .plots import write_plots
from .render import render_html, render_markdown, report_blocks
from .text import DEFAULT_BLEU_SAMPLE

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
    loaded = [load_split_documents(dataset, split=split, label_set=label_set)]
    if compare is not None:
        loaded.append(load_split_documents(compare, split=compare_split, label_set=label_set))
        if loaded[1].name == loaded[0].name:
            loaded[1].name += " (compared)"
    reports = [
        compute_report(c, kb, kb_problem=kb_problem, bleu_sample=bleu_sample, seed=seed) for c in loaded
    ]
    return write_report(reports, output), reports
