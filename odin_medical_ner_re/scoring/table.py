"""The report as readable text, shared by the CLI and the training/evaluation scripts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_HEADER = f"{'':<16}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}{'COR':>7}{'INC':>6}{'PAR':>6}{'MIS':>6}{'SPU':>6}"


def _line(name: str, result: Mapping[str, Any]) -> str:
    scores = f"{name:<16}{result['precision']:>10.4f}{result['recall']:>8.4f}{result['f1']:>8.4f}"
    if "support" not in result:  # macro rows have no counts
        return scores
    r = result
    counts = f"{r['correct']:>7}{r['incorrect']:>6}{r['partial']:>6}{r['missed']:>6}{r['spurious']:>6}"
    return f"{scores}{r['support']:>9}{counts}"


def format_mode(title: str, result: Mapping[str, Any]) -> str:
    """One mode as a table: a row per type, then micro and macro."""
    lines = [title, _HEADER]
    lines += [_line(kind, row) for kind, row in result["per_type"].items()]
    lines.append(_line("micro", result["micro"]))
    lines.append(_line("macro", result["macro"]))
    return "\n".join(lines)


def format_report(report: Mapping[str, Any]) -> str:
    """The whole report as readable text: a summary of every mode, then one table per mode.

    Shared by the CLI and the training/evaluation scripts so a number reads the same everywhere.
    """
    lines = [
        f"documents: {report['documents']}   aligned mentions: {report.get('aligned', 0)}   "
        f"predicted entities without a span: {report.get('unaligned', 0)}",
        "",
        f"{'summary':<16}{'micro P':>10}{'micro R':>9}{'micro F1':>10}{'macro F1':>10}",
    ]
    for task in ("ner", "re"):
        for mode, result in report.get(task, {}).items():
            micro = result["micro"]
            lines.append(
                f"{task + ' ' + mode:<16}{micro['precision']:>10.4f}{micro['recall']:>9.4f}"
                f"{micro['f1']:>10.4f}{result['macro']['f1']:>10.4f}"
            )
    for task, label in (("ner", "entities"), ("re", "relations")):
        for mode, result in report.get(task, {}).items():
            lines += ["", format_mode(f"{label}, {mode}", result)]
    return "\n".join(lines)
