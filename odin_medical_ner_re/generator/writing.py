"""Writing a planned note: surface forms, lists, layout, and exact offsets summed once at the end.

Text is appended piece by piece to a :class:`Note`; an entity is one piece, so its offsets
are the sums of the lengths before it, computed once when the note is finished, never by
searching the text. This is the hot path of generation: the loops here run for every slot
of every sentence, which is why sentences and compiled steps stay plain tuples (indexing and
unpacking an exact tuple are the interpreter's fast paths) and helpers are bound locally.
"""

from __future__ import annotations

import itertools
import random
from bisect import bisect
from collections.abc import Sequence
from typing import Any

from ..schema import Document, Entity, Relation
from .draws import Draws
from .options import NoteOptions
from .planning import CC_OP, CROSS_OP, TEMPLATE_OP, Sentence
from .steps import CHOICE, HEAD, TAIL, WORD, Step
from .templates import SECTION_INDEX, SECTION_ORDER, SexBank, TemplateBank
from .terms import Term, capitalize

#: Sections written as one item per line in an itemized note.
_ITEMIZED_SECTIONS = frozenset(
    SECTION_INDEX[s] for s in ("history", "medications", "labs", "assessment", "plan", "discharge")
)
_VITALS_SECTION = SECTION_INDEX["vitals"]
_ASSESSMENT_SECTION, _PLAN_SECTION, _DISCHARGE_SECTION = (
    SECTION_INDEX[s] for s in ("assessment", "plan", "discharge")
)
_NEXT = (1).__add__
_ENTITY_IDS: list[str] = [f"T{i}" for i in range(1, 129)]
_RELATION_IDS: list[str] = [f"R{i}" for i in range(1, 65)]


def _ids(table: list[str], prefix: str, n: int) -> list[str]:
    while len(table) < n:
        table.append(f"{prefix}{len(table) + 1}")
    return table


class Note:
    """Accumulates text pieces; entity offsets are computed once, when the note is finished.

    Not tracking a running offset on every append keeps the hot path to a list append.
    """

    __slots__ = ("pieces", "marks", "links", "template_ids", "words", "bank")

    def __init__(self, words: dict[str, str], bank: SexBank) -> None:
        self.pieces: list[str] = []
        self.marks: list[tuple[int, str, bool]] = []  # (piece index, type, negated)
        self.links: list[tuple[str, int, int]] = []  # (relation type, head mark, tail mark)
        self.template_ids: list[str] = []
        self.words = words
        self.bank = bank

    def finish(self, doc_id: str, metadata: dict[str, Any]) -> Document:
        """Build the document; entities and relations are built by ``map`` (no Python loop)."""
        pieces = self.pieces
        offsets = [0, *itertools.accumulate(map(len, pieces))]
        entity_ids = _ids(_ENTITY_IDS, "T", len(self.marks))
        entities: list[Entity] = []
        if self.marks:
            at, types, negated = zip(*self.marks, strict=True)
            starts = map(offsets.__getitem__, at)
            ends = map(offsets.__getitem__, map(_NEXT, at))
            texts = map(pieces.__getitem__, at)
            entities = list(map(Entity, entity_ids, texts, types, starts, ends, negated))
        relations: list[Relation] = []
        if self.links:
            kinds, heads, tails = zip(*self.links, strict=True)
            relation_ids = _ids(_RELATION_IDS, "R", len(self.links))
            head_ids = map(entity_ids.__getitem__, heads)
            tail_ids = map(entity_ids.__getitem__, tails)
            relations = list(map(Relation, relation_ids, kinds, head_ids, tail_ids))
        return Document(doc_id, "".join(pieces), entities, relations, metadata)


class NoteWriter(Draws):
    """Writes planned notes from one random stream (the generator's, shared with its planner)."""

    def __init__(self, rng: random.Random, options: NoteOptions, templates: TemplateBank) -> None:
        super().__init__(rng)
        self.options = options
        self.templates = templates
        #: header variants per section, ending with " " (inline items) or a newline (listed items)
        self._headers = {
            name: (tuple(h + " " for h in headers), tuple(h + "\n" for h in headers))
            for name, headers in templates.sections.items()
        }

    def write(self, note: Note, sections: list[list[Sentence]]) -> None:
        """Write the planned sentences section by section.

        Layout varies per note like real records do: inline or headed sections, an "A/P"
        section merging assessment, plan and discharge, and in a headed note the list-like
        sections may put one item per line, often without a final period. Template choice
        and relation annotation are inlined here: this loop runs for every sentence.
        """
        r = self._random
        opts = self.options
        headers = r() < opts.section_header_rate
        merged = headers and r() < opts.combined_plan_rate
        itemized = headers and r() < opts.itemized_rate
        bare = itemized and r() < opts.unpunctuated_item_rate
        pieces, marks, links, template_ids = note.pieces, note.marks, note.links, note.template_ids
        append, emit = pieces.append, self._emit
        first = True
        if merged:  # plan and discharge items go under the assessment's "A/P" header
            sections[_ASSESSMENT_SECTION] += sections[_PLAN_SECTION] + sections[_DISCHARGE_SECTION]
            sections[_PLAN_SECTION] = sections[_DISCHARGE_SECTION] = []
        for header, sentences in enumerate(sections):
            if not sentences:
                continue
            listed = itemized and header in _ITEMIZED_SECTIONS
            self._open_section(note, header, first, headers, listed, merged)
            first = False
            for i, sentence in enumerate(sentences):
                if i:
                    append("\n" if listed else " ")
                op, table, _, _, _, _, _, relation = sentence
                if op == TEMPLATE_OP:
                    template_id, steps, closing, count = table[int(r() * len(table))]
                    template_ids.append(template_id)
                    head_marks: list[int] = []
                    tail_marks: list[int] = []
                    emit(note, steps, sentence, head_marks, tail_marks)
                    if relation:
                        links += [(relation, head, tail) for head in head_marks for tail in tail_marks]
                    if count:
                        text = closing[int(r() * count)] if count > 1 else closing[0]
                        append(text[:-1] if listed and bare and text[-1:] == "." else text)
                        continue  # the closing text ends the item: no entity to keep whole
                else:
                    self._write_special(note, sentence)
                if listed and bare:
                    last = pieces[-1]
                    if last[-1:] == "." and not (marks and marks[-1][0] == len(pieces) - 1):
                        pieces[-1] = last[:-1]  # a listed item without its period (never inside an entity)

    def _write_special(self, note: Note, sentence: Sentence) -> None:
        """Sentences that are not one template: cross-sentence facts, chief complaint, vitals."""
        op, text, heads, _, _, _, _, _ = sentence
        if op == CROSS_OP:
            self._cross_sentence(note, sentence)
        elif op == CC_OP:
            self._chief_complaint(note, heads)
        else:
            note.pieces.append(text)

    def _open_section(
        self, note: Note, index: int, first: bool, headers: bool, listed: bool, merged: bool
    ) -> None:
        append = note.pieces.append
        name = "assessment_plan" if merged and index == _ASSESSMENT_SECTION else SECTION_ORDER[index]
        if headers:
            if not first:
                append("\n\n" if self.options.full_sections else "\n")
            append(self._choice(self._headers[name][listed]))
            return
        if not first:
            append(" ")
        if index == _VITALS_SECTION:
            append(self._choice(self.templates.vitals["inline_labels"]) + " ")

    def _emit(
        self,
        note: Note,
        steps: Sequence[Step],
        sentence: Sentence,
        head_marks: list[int],
        tail_marks: list[int],
    ) -> None:
        """The hot loop: per step, a drawn text, then an entity (one inline, lists apart) or a word.

        ``sentence`` is passed whole and unpacked here: that keeps this call, made for
        every sentence, cheap.
        """
        _, _, heads, tails, qualifier, negated, dose, _ = sentence
        r = self._random
        pieces = note.pieces
        append = pieces.append
        marks = note.marks
        for texts, count, code, value, capital in steps:
            if count:
                append(texts[int(r() * count)] if count > 1 else texts[0])
            if code == HEAD:
                if len(heads) != 1:
                    self._write_list(note, heads, capital, negated, dose, head_marks)
                    continue
                term = heads[0]
                head_marks.append(len(marks))
                marks.append((len(pieces), term.type, negated))
                k = bisect(term.cumulative, r())
                append(term.capitals[k] if capital else term.forms[k])
                if dose and term.dose:
                    append(term.dose)
            elif code == TAIL:
                if len(tails) != 1:
                    self._write_list(note, tails, capital, negated, False, tail_marks)
                    continue
                term = tails[0]
                tail_marks.append(len(marks))
                marks.append((len(pieces), term.type, negated))
                k = bisect(term.cumulative, r())
                append(term.capitals[k] if capital else term.forms[k])
            elif code == CHOICE:
                self._emit(note, value[int(r() * len(value))], sentence, head_marks, tail_marks)
            elif code:
                word = note.words[value] if code == WORD else self._qualifier_word(qualifier)
                append(capitalize(word) if capital else word)

    def _qualifier_word(self, qualifier: str | None) -> str:
        return self._choice(self.templates.qualifiers[qualifier or "abnormal"])

    def _write_list(
        self, note: Note, terms: Sequence[Term], capital: bool, negated: bool, dose: bool, out: list[int]
    ) -> None:
        """Write "a, b and c" (or "a, b or c" under negation); append the marks written."""
        r = self._random
        pieces, marks = note.pieces, note.marks
        last = len(terms) - 1
        conjunction = " or " if negated else " and "
        oxford = last > 1 and r() < 0.3
        for i, term in enumerate(terms):
            if i:
                pieces.append(("," + conjunction if oxford else conjunction) if i == last else ", ")
            k = bisect(term.cumulative, r())
            out.append(len(marks))
            marks.append((len(pieces), term.type, negated))
            pieces.append(term.capitals[k] if capital and not i else term.forms[k])
            if dose and term.dose:
                pieces.append(term.dose)

    def _cross_sentence(self, note: Note, sentence: Sentence) -> None:
        """A first sentence names the tail(s); a later one names the head and refers back."""
        _, kind, _, _, _, _, _, relation = sentence
        head_marks: list[int] = []
        tail_marks: list[int] = []
        for i, line in enumerate(self._choice(note.bank.cross[kind])):
            if i:
                note.pieces.append(" ")
            template_id, steps, closing, _ = self._choice(line)
            note.template_ids.append(template_id)
            self._emit(note, steps, sentence, head_marks, tail_marks)
            if closing:
                note.pieces.append(self._choice(closing))
        note.links += [(relation, head, tail) for head in head_marks for tail in tail_marks]

    def _chief_complaint(self, note: Note, symptoms: Sequence[Term]) -> None:
        note.template_ids.append("chief_complaint")
        self._write_list(note, symptoms, True, False, False, [])
        if self._random() < 0.4:
            note.pieces.append(f" x {self._choice(self.templates.numeric_durations)}")
        note.pieces.append(".")
