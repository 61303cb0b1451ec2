"""Human expert review: a stratified sample to judge, and the score of the judged sheet.

Automatic checks prove that offsets are exact and relations are knowledge-base edges; only a
clinician can say whether a note reads like medicine and whether each annotation is right in
context. This module makes that review cheap and its result a number with an uncertainty:

* ``review-sample`` picks documents so that every relation type and every template family is
  seen (the rarest stratum is served first), writes ``review.html`` (the notes with entities
  highlighted by type and relations listed; plain HTML + inline CSS, no JavaScript, so it
  opens anywhere, offline) and ``review.csv`` (one row per entity and per relation with
  empty ``verdict`` and ``comment`` columns for the reviewer).
* ``review-score`` reads the filled sheet back and reports, per type, the share judged
  correct with a 95% Wilson score interval (sound for small samples and shares near 0 or 1,
  unlike the normal approximation).
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserInputError
from .files import atomic_write_text, check_output_dir, prepare_output_dir, refuse_filled_sheet
from .quality import load_split_documents, template_family
from .reading import read_text
from .schema import Document, Entity

CSV_COLUMNS: tuple[str, ...] = ("doc_id", "item_id", "item", "type", "text", "context", "verdict", "comment")

#: Accepted verdicts (case-insensitive, surrounding spaces ignored) -> canonical verdict.
VERDICTS: dict[str, str] = {
    **dict.fromkeys(("correct", "c", "yes", "y", "ok", "true", "1", "✓"), "correct"),
    **dict.fromkeys(("incorrect", "i", "wrong", "no", "n", "false", "0", "x", "✗"), "incorrect"),
    **dict.fromkeys(("unsure", "u", "?", "unknown", "skip", "n/a"), "unsure"),
}
Z_95 = 1.959963984540054

_TYPE_COLORS = {
    "Disease": "#ffc9c9",
    "Symptom": "#ffec99",
    "Drug": "#b2f2bb",
    "Procedure": "#a5d8ff",
    "Lab_Test": "#d0bfff",
}
_OTHER_COLORS = ("#ffd8a8", "#c3fae8", "#eebefa", "#dee2e6", "#e9fac8")


# --------------------------------------------------------------------------- sampling


def strata(doc: Document) -> set[str]:
    """Relation types and template families (ids without their numbers) a document shows."""
    keys = {f"relation:{r.type}" for r in doc.relations}
    keys.update(f"template:{template_family(t)}" for t in doc.metadata.get("templates") or ())
    return keys or {"none"}


def stratified_sample(documents: Sequence[Document], n: int, seed: int) -> list[Document]:
    """``n`` documents covering the strata evenly: repeatedly serve the least-sampled stratum.

    Each step takes the stratum with the fewest sampled documents so far (ties broken by a
    seeded shuffle) and adds a random unsampled document that has it, so a relation type in
    1% of the notes is still reviewed. Deterministic for a seed; order of the result is the
    order of selection.
    """
    if n < 1:
        raise UserInputError(f"--n must be at least 1, got {n}")
    rng = random.Random(seed)
    by_stratum: dict[str, list[int]] = {}
    for index, doc in enumerate(documents):
        for key in strata(doc):
            by_stratum.setdefault(key, []).append(index)
    order = sorted(by_stratum)
    rng.shuffle(order)
    seen: Counter[str] = Counter()
    chosen: list[int] = []
    taken: set[int] = set()
    while len(chosen) < min(n, len(documents)):
        open_strata = [k for k in order if any(i not in taken for i in by_stratum[k])]
        key = min(open_strata, key=lambda k: seen[k])
        candidates = [i for i in by_stratum[key] if i not in taken]
        index = candidates[rng.randrange(len(candidates))]
        chosen.append(index)
        taken.add(index)
        seen.update(strata(documents[index]))
    return [documents[i] for i in chosen]


# --------------------------------------------------------------------------- the review sheet


def _flat(text: str) -> str:
    return " ".join(text.split())


def _context(doc: Document, spans: Sequence[tuple[int, int]], margin: int = 60) -> str:
    """The text around ``spans`` with each span in [brackets] (one line, for a spreadsheet cell)."""
    start = max(0, min(s for s, _ in spans) - margin)
    end = min(len(doc.text), max(e for _, e in spans) + margin)
    out, position = [], start
    for s, e in sorted(spans):
        if s < position:
            continue
        out += [doc.text[position:s], "[", doc.text[s:e], "]"]
        position = e
    out.append(doc.text[position:end])
    prefix = "..." if start > 0 else ""
    suffix = "..." if end < len(doc.text) else ""
    return prefix + _flat("".join(out)) + suffix


def _in_text(doc: Document, entity: Entity) -> bool:
    return 0 <= entity.start < entity.end <= len(doc.text)


def sheet_rows(documents: Iterable[Document]) -> list[dict[str, str]]:
    """One row per entity and per relation, verdict and comment left empty."""
    rows = []
    for doc in documents:
        by_id = doc.entity_by_id()
        for entity in doc.entities:
            label = entity.type + (" (negated)" if entity.negated else "")
            context = _context(doc, [(entity.start, entity.end)]) if _in_text(doc, entity) else ""
            rows.append(_row(doc.id, entity.id, "entity", label, entity.text, context))
        for relation in doc.relations:
            head, tail = by_id.get(relation.head), by_id.get(relation.tail)
            if head is None or tail is None:
                continue
            spans = [(e.start, e.end) for e in (head, tail) if _in_text(doc, e)]
            text = f"{head.text} -> {tail.text}"
            rows.append(
                _row(
                    doc.id,
                    relation.id,
                    "relation",
                    relation.type,
                    text,
                    _context(doc, spans) if spans else "",
                )
            )
    return rows


def _row(doc_id: str, item_id: str, item: str, item_type: str, text: str, context: str) -> dict[str, str]:
    return {
        "doc_id": doc_id,
        "item_id": item_id,
        "item": item,
        "type": item_type,
        "text": text,
        "context": context,
        "verdict": "",
        "comment": "",
    }


def render_csv(rows: Sequence[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _color(entity_type: str, palette: dict[str, str]) -> str:
    if entity_type not in palette:
        palette[entity_type] = _OTHER_COLORS[(len(palette) - len(_TYPE_COLORS)) % len(_OTHER_COLORS)]
    return palette[entity_type]


def _highlighted(doc: Document, palette: dict[str, str]) -> str:
    """The note as HTML with one <mark> per entity (overlapping ones are listed, not nested)."""
    out, position = [], 0
    for entity in sorted(doc.entities, key=lambda e: (e.start, -e.end)):
        if not _in_text(doc, entity) or entity.start < position:
            continue
        style = f"background:{_color(entity.type, palette)}"
        if entity.negated:
            style += ";text-decoration:line-through dotted"
        title = f"{entity.id} {entity.type}" + (" negated" if entity.negated else "")
        out.append(html.escape(doc.text[position : entity.start]))
        out.append(
            f'<mark style="{style}" title="{html.escape(title)}">{html.escape(doc.text[entity.start : entity.end])}'
            f"<sup>{html.escape(entity.id)}</sup></mark>"
        )
        position = entity.end
    out.append(html.escape(doc.text[position:]))
    return "".join(out).replace("\n", "<br>\n")


_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; max-width: 960px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.6; }
.note { border: 1px solid #ddd; border-radius: 6px; padding: 0.8em 1em; margin: 1.2em 0; }
.text { font-size: 1.02em; }
mark { padding: 0 2px; border-radius: 3px; }
sup { font-size: 0.65em; color: #555; margin-left: 1px; }
.meta { color: #666; font-size: 0.85em; }
.legend mark { margin-right: 0.6em; }
ul.relations { margin: 0.4em 0 0; }
"""


def render_html(documents: Sequence[Document], rows_per_doc: dict[str, int]) -> str:
    palette = dict(_TYPE_COLORS)
    notes = []
    for number, doc in enumerate(documents, start=1):
        notes.append(_note_html(number, doc, palette, rows_per_doc.get(doc.id, 0)))
    legend = " ".join(
        f'<mark style="background:{color}">{html.escape(name)}</mark>' for name, color in palette.items()
    )
    verdicts = ", ".join(sorted({v for v in VERDICTS.values()}))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Annotation review</title>'
        f"<style>{_CSS}</style></head><body>\n<h1>Annotation review: {len(documents)} notes</h1>\n"
        "<p>For every entity and relation, fill the <code>verdict</code> column of <code>review.csv</code> "
        f"({html.escape(verdicts)}; see <code>odin-ner-re review-score --help</code> for the accepted spellings) "
        "and, where useful, <code>comment</code>. Superscripts are the item ids of the sheet; "
        "struck-through entities are negated mentions.</p>\n"
        f'<p class="legend">{legend}</p>\n' + "\n".join(notes) + "\n</body></html>\n"
    )


def _note_html(number: int, doc: Document, palette: dict[str, str], rows: int) -> str:
    by_id = doc.entity_by_id()
    relations = []
    for relation in doc.relations:
        head, tail = by_id.get(relation.head), by_id.get(relation.tail)
        if head is None or tail is None:
            continue
        relations.append(
            f"<li><sup>{html.escape(relation.id)}</sup> <strong>{html.escape(relation.type)}</strong>: "
            f"{html.escape(head.text)} <sup>{html.escape(head.id)}</sup> &rarr; "
            f"{html.escape(tail.text)} <sup>{html.escape(tail.id)}</sup></li>"
        )
    listing = (
        f'<ul class="relations">{"".join(relations)}</ul>' if relations else "<p><em>no relations</em></p>"
    )
    keys = ", ".join(sorted(strata(doc)))
    return (
        f'<div class="note" id="{html.escape(doc.id)}"><h2>{number}. {html.escape(doc.id)}</h2>'
        f'<p class="meta">{rows} sheet rows; strata: {html.escape(keys)}</p>'
        f'<p class="text">{_highlighted(doc, palette)}</p><h3>Relations</h3>{listing}</div>'
    )


#: The files :func:`write_review_sample` writes into its folder.
REVIEW_FILES: tuple[str, ...] = ("review.csv", "review.html", "documents.jsonl")


def write_review_sample(
    dataset: str,
    output: str | os.PathLike[str],
    *,
    n: int = 50,
    seed: int = 0,
    split: str | None = None,
    overwrite: bool = False,
) -> tuple[Path, list[Document], int]:
    """Sample, then write review.html, review.csv and the sampled documents (documents.jsonl).

    A review.csv already holding verdicts is a reviewer's work: it is replaced only with
    ``overwrite``. The folder may not hold the input (``DIR/documents.jsonl`` as DATASET).
    """
    check_output_dir(output, writes=REVIEW_FILES, inputs=(dataset,))
    refuse_filled_sheet(Path(output) / "review.csv", overwrite)
    corpus = load_split_documents(dataset, split=split)
    sample = stratified_sample(corpus.documents, n, seed)
    rows = sheet_rows(sample)
    directory = prepare_output_dir(output, writes=REVIEW_FILES, inputs=(dataset,))
    per_doc = Counter(row["doc_id"] for row in rows)
    atomic_write_text(directory / "review.csv", render_csv(rows))
    atomic_write_text(directory / "review.html", render_html(sample, per_doc))
    atomic_write_text(
        directory / "documents.jsonl",
        "".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in sample),
    )
    return directory, sample, len(rows)


# --------------------------------------------------------------------------- scoring


def wilson_interval(correct: int, total: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (None when nothing was judged)."""
    if total <= 0:
        return None
    p = correct / total
    denominator = 1 + z * z / total
    center = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    low = 0.0 if correct == 0 else max(0.0, center - half)
    high = 1.0 if correct == total else min(1.0, center + half)  # exact bounds, not float noise
    return low, high


@dataclass
class TypeScore:
    correct: int = 0
    incorrect: int = 0
    unsure: int = 0
    blank: int = 0

    @property
    def judged(self) -> int:
        return self.correct + self.incorrect

    def as_dict(self) -> dict[str, Any]:
        interval = wilson_interval(self.correct, self.judged)
        return {
            "correct": self.correct,
            "incorrect": self.incorrect,
            "unsure": self.unsure,
            "not_reviewed": self.blank,
            "share_correct": self.correct / self.judged if self.judged else None,
            "ci95": list(interval) if interval else None,
        }


@dataclass
class ReviewScores:
    by_type: dict[str, TypeScore] = field(default_factory=dict)

    def add(self, key: str, verdict: str) -> None:
        score = self.by_type.setdefault(key, TypeScore())
        setattr(score, verdict, getattr(score, verdict) + 1)

    def totals(self) -> dict[str, TypeScore]:
        out: dict[str, TypeScore] = {}
        for key, score in self.by_type.items():
            total = out.setdefault(key.split(":", 1)[0] + ":all", TypeScore())
            for name in ("correct", "incorrect", "unsure", "blank"):
                setattr(total, name, getattr(total, name) + getattr(score, name))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "by_type": {k: v.as_dict() for k, v in sorted(self.by_type.items())},
            "overall": {k: v.as_dict() for k, v in sorted(self.totals().items())},
        }


def canonical_verdict(value: str) -> str | None:
    """``correct``/``incorrect``/``unsure``, None for an empty cell; raises KeyError when unknown."""
    cleaned = value.strip().casefold()
    if not cleaned:
        return None
    return VERDICTS[cleaned]


def score_sheet(path: str | os.PathLike[str]) -> ReviewScores:
    """Read a filled review.csv; an unknown verdict is a user error naming its row."""
    source = Path(path)
    if source.is_dir():
        source = source / "review.csv"
    if not source.is_file():
        raise UserInputError(f"{source}: no such file")
    reader = csv.DictReader(io.StringIO(read_text(source), newline=""))
    try:
        return _scores(reader, source)
    except csv.Error as err:
        raise UserInputError(
            f"{source}: line {reader.line_num + 1}: not a readable CSV row ({err})"
        ) from None


def _scores(reader: csv.DictReader, source: Path) -> ReviewScores:
    """The scores of a sheet being read (csv errors are the caller's to report)."""
    missing = [c for c in ("item", "type", "verdict") if c not in (reader.fieldnames or [])]
    if missing:
        raise UserInputError(
            f"{source}: missing column(s) {', '.join(missing)} (expected {', '.join(CSV_COLUMNS)})"
        )
    scores = ReviewScores()
    for row in reader:
        try:
            verdict = canonical_verdict(row.get("verdict") or "")
        except KeyError:
            accepted = ", ".join(sorted(VERDICTS))
            raise UserInputError(
                f"{source}: row {reader.line_num}: unknown verdict {row['verdict']!r} (accepted, any case: {accepted})"
            ) from None
        item_type = re.sub(r" \(negated\)$", "", row.get("type") or "?")
        scores.add(f"{row.get('item') or 'item'}:{item_type}", verdict or "blank")
    return scores


def format_scores(scores: ReviewScores) -> str:
    """A fixed-width table: share correct with its 95% Wilson interval, per type then overall."""
    lines = [
        f"{'item:type':<26} {'judged':>6} {'correct':>7} {'share':>7}  {'95% CI':<15} {'unsure':>6} {'blank':>6}"
    ]
    for table in (scores.by_type, scores.totals()):
        lines += [_score_line(key, score) for key, score in sorted(table.items())]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _score_line(key: str, score: TypeScore) -> str:
    interval = wilson_interval(score.correct, score.judged)
    share = f"{100 * score.correct / score.judged:6.1f}%" if score.judged else "    n/a"
    ci = f"[{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]" if interval else "n/a"
    return f"{key:<26} {score.judged:>6} {score.correct:>7} {share:>7}  {ci:<15} {score.unsure:>6} {score.blank:>6}"
