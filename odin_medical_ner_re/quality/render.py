"""The report as Markdown and HTML blocks."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..schema import ENTITY_TYPES, RELATION_TYPES
from .measures import in_label_order
from .plots import Figure


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


def report_value(report: Mapping[str, Any], path: str, *, scalar: bool = False) -> Any:
    """The value at a dotted ``path`` of a report (``"diversity.self_bleu"``), None where absent.

    Reports of other versions or of other datasets lack some measures, so a missing key is a
    blank cell, not an error. ``scalar`` also gives None for a table (dict or list), for readers
    that want figures only (the model and dataset cards).
    """
    value: Any = report
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return None if scalar and isinstance(value, (dict, list)) else value


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
    labels = in_label_order({t for r in reports for t in r["types"][key]["by_type"]}, ENTITY_TYPES + RELATION_TYPES)
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
    for t in in_label_order({t for r in reports for t in r["coverage"]["distinct_mentions_by_type"]}, ENTITY_TYPES):
        cells = []
        for r in reports:
            distinct = r["coverage"]["distinct_mentions_by_type"].get(t, 0)
            kb = report_value(r, f"coverage.kb_concepts_used_by_type.{t}")
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


def report_blocks(reports: Sequence[Mapping[str, Any]], figures: Mapping[str, Figure]) -> list[_Block]:
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
            rows=[[label, *(fmt(report_value(r, path)) for r in reports)] for label, path, fmt in _SUMMARY_ROWS],
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
