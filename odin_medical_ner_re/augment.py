"""Augmentation that keeps every annotation exact and every relation a knowledge-base fact.

Four strategies, each applied to a copy of a document:

``paraphrase``
    Relation-free sentences (intro, denials, medication lists, pending labs, ...) are
    re-rendered with another line of the same kind from the template file; section headers
    swap for another header of the same section; rule-based rewrites (``history of`` ->
    ``hx of``, ``consistent with`` -> ``c/w``, ...) touch only text *between* entities.
``substitute``
    Entities are replaced by a synonym of the same concept, or by another concept of the
    same type such that every relation the entity takes part in is still a knowledge-base
    edge (with the same lab qualifier); doses after a replaced drug follow the new drug.
``reword``
    A sentence that states a star of relations (one head and its tails, or one tail and its
    heads) is re-rendered with another template line of the same fact kind.
``expand``
    Clinically plausible context sentences with distractor entities (denied symptoms,
    normal or pending labs, past procedures, follow-up advice) are inserted at a section
    boundary; distractors are concepts with no knowledge-base edge to the note's concepts.

Why it is built this way: a document becomes a list of text *pieces* (entity pieces carry
their entity id). Strategies only replace or insert pieces, and the output text and every
offset are rebuilt by concatenation, so offsets are never patched by hand and cannot drift.
Nothing depends on how the generator assembled a note: sentences are found in the text and
the structure a strategy needs (which entities form a relation star, which line of the
template file a sentence matches) is checked before anything is rewritten, so the same code
works on generated notes, older dataset versions, LLM output and hand-written notes. All
randomness comes from one ``random.Random`` per output document, derived from the seed.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import UserInputError
from .generator import capitalize, load_templates
from .generator.steps import ALTERNATION, PRONOUNS, SLOT
from .knowledge import Concept, KnowledgeBase
from .schema import Document, Entity, Relation, validate
from .seeds import stable_int

STRATEGIES: tuple[str, ...] = ("paraphrase", "substitute", "reword", "expand")

_MASK = "\x00"  # one character stands for a whole entity in the masked text of a sentence
_ENTITY_SLOTS = frozenset({"E", "H", "T"})
_LIST_SEPARATOR = re.compile(r"^(?:, and |, | and |, or | or )$")
_SENTENCE_END = re.compile(r"(?<=[.!?]) +")
_VACCINE_WORDS = ("vaccine", "toxoid", "immunization", "immunisation", "immune globulin")

#: Rewrites of the text between entities: (pattern, replacements). Each keeps the meaning.
_REWRITES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), replacements)
    for pattern, replacements in (
        (r"-year-old\b", (" y/o", " yo", "-yr-old")),
        (r"\bhistory of\b", ("hx of", "h/o")),
        (r"\bHistory of\b", ("Hx of", "H/o")),
        (r"\bpatient\b", ("pt",)),
        (r"\bPatient\b", ("Pt",)),
        (r"\bwithout\b", ("w/o",)),
        (r"\bsecondary to\b", ("2/2", "due to")),
        (r"\bconsistent with\b", ("c/w", "compatible with", "in keeping with")),
        (r"\bcomplaining of\b", ("c/o",)),
        (r"\bdiagnosis\b", ("dx",)),
        (r"\bFollow up\b", ("F/u", "Follow-up")),
        (r"\bevaluation\b", ("eval", "workup")),
        (r"\bsuggestive of\b", ("concerning for", "suspicious for")),
        (r"\battributed to\b", ("related to",)),
        (r"\breports\b", ("endorses", "notes")),
        (r"\bdenies\b", ("reports no",)),
        (r"\bto prevent\b", ("to reduce the risk of", "for prevention of")),
        (r"\brecommended\b", ("advised",)),
        (r"\bStart\b", ("Initiate", "Begin")),
        (r"\bwithin normal limits\b", ("WNL", "normal")),
        (r"\bpresenting with\b", ("presents with", "who presents with")),
    )
)


# --------------------------------------------------------------------------- small helpers


def _decapitalize(text: str) -> str:
    return text[0].lower() + text[1:] if text[:1].isupper() else text


def _choice(rng: random.Random, items: Sequence[Any]) -> Any:
    return items[rng.randrange(len(items))]


# --------------------------------------------------------------------------- template lines


@dataclass(frozen=True)
class _Line:
    """One line of the template file, usable both to recognise and to write a sentence."""

    id: str
    kind: str
    section: str | None
    text: str
    slots: frozenset[str]  # slot names as written ("T+", "H", "q", ...)
    pattern: re.Pattern[str] | None  # matches the masked sentence; None when a slot is unknown

    def entity_slots(self) -> dict[str, bool]:
        """Entity slot base -> whether it takes a list."""
        out: dict[str, bool] = {}
        for slot in self.slots:
            base = slot.rstrip("+")
            if base in _ENTITY_SLOTS:
                out[base] = out.get(base, False) or slot.endswith("+")
        return out


@dataclass
class Lexicon:
    """What augmentation reads from the template file: lines, headers, word lists."""

    facts: dict[str, dict[str, list[_Line]]]
    mentions: dict[str, list[_Line]]
    intros: dict[str, list[_Line]]
    headers: dict[str, list[str]]
    qualifiers: dict[str, list[str]]
    durations: tuple[str, ...]
    onsets: tuple[str, ...]
    sex_words: dict[str, list[str]]
    exam_findings: frozenset[str]
    demographics: dict[str, list[str]]
    header_pattern: re.Pattern[str] | None = None
    section_of_header: dict[str, str] = field(default_factory=dict)
    qualifier_class: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.section_of_header = {h: s for s, headers in self.headers.items() for h in headers}
        ordered = sorted(self.section_of_header, key=len, reverse=True)
        self.header_pattern = (
            re.compile("^(?:" + "|".join(map(re.escape, ordered)) + ") ") if ordered else None
        )
        self.qualifier_class = {w.casefold(): cls for cls, words in self.qualifiers.items() for w in words}

    def fact_lines(self, kind: str) -> list[_Line]:
        return [line for lines in self.facts.get(kind, {}).values() for line in lines]


def _word_patterns(patient: dict[str, Any], qualifiers: dict[str, list[str]]) -> dict[str, str]:
    sex_words = [w for key in ("female", "male") for w in patient[key]]

    def alternation(words: Iterable[str]) -> str:
        unique = sorted({w for w in words if w}, key=len, reverse=True)
        return "(?:" + "|".join(map(re.escape, unique)) + ")" if unique else r"[^\x00]+?"

    return {
        "age": r"\d{1,3}",
        "an_age": r"an? \d{1,3}",
        "sex": alternation(sex_words),
        "sx": r"[FM]",
        "Pronoun": "(?:She|He)",
        "pronoun": "(?:she|he)",
        "possessive": "(?:her|his)",
        "Possessive": "(?:Her|His)",
        "object": "(?:her|him)",
        "q": alternation(w for words in qualifiers.values() for w in words),
        "q_cap": alternation(w for words in qualifiers.values() for w in words),
        "duration": r"[^\x00.,;:]+?",
        "onset": r"[^\x00.,;:]+?",
    }


class _RegexBuilder:
    """Turns a template line (with ``[a|b]`` alternatives) into a regex over masked sentences."""

    def __init__(self, words: dict[str, str]):
        self.words = words

    def build(self, text: str, kind: str) -> re.Pattern[str] | None:
        self.counter = itertools.count()
        self.kind = kind
        try:
            body = self._sequence(text)
        except KeyError:
            return None  # a slot this module does not know: the line is never matched or written
        return re.compile(body, re.IGNORECASE)

    def _sequence(self, text: str) -> str:
        out = []
        for i, chunk in enumerate(ALTERNATION.split(text)):
            if i % 2:
                out.append("(?:" + "|".join(self._plain(option) for option in chunk.split("|")) + ")")
            else:
                out.append(self._plain(chunk))
        return "".join(out)

    def _plain(self, text: str) -> str:
        out = []
        position = 0
        for match in SLOT.finditer(text):
            out.append(self._literal(text[position : match.start()]))
            out.append(self._slot(match.group(1)))
            position = match.end()
        out.append(self._literal(text[position:]))
        return "".join(out)

    @staticmethod
    def _literal(text: str) -> str:
        # The generator collapses the spaces left by empty alternatives: allow any count.
        return " *".join(re.escape(part) for part in text.split(" "))

    def _slot(self, name: str) -> str:
        base = name.rstrip("+")
        group = f"g{next(self.counter)}_{base}"
        if base in _ENTITY_SLOTS:
            item = _MASK + r"(?: [^\x00]*?)?" if self.kind == "mention.medication" else _MASK
            return f"(?P<{group}>{item}(?:(?:, and |, | and |, or | or ){item})*)"
        return f"(?P<{group}>{self.words[base]})"


def _slots(text: str) -> frozenset[str]:
    return frozenset(SLOT.findall(text))


@functools.lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> Lexicon:
    """What augmentation needs of the template file, read and checked by the generator's reader.

    One reader for both means a line augmentation writes is a line the generator accepts,
    and a broken file is one ``error:`` line whichever command reads it first.
    """
    bank = load_templates(path)
    raw, patient = bank.raw, bank.patient
    qualifiers = {k: list(v) for k, v in bank.qualifiers.items()}
    builder = _RegexBuilder(_word_patterns(patient, qualifiers))

    def line(line_id: str, kind: str, section: str | None, text: str) -> _Line:
        return _Line(line_id, kind, section, text, _slots(text), builder.build(text, kind))

    facts = {
        kind: {
            section: [line(f"{kind}.{section}.{i}", kind, section, t) for i, t in enumerate(texts)]
            for section, texts in by_section.items()
        }
        for kind, by_section in raw["facts"].items()
    }
    mentions = {
        kind: [line(f"mention.{kind}.{i}", f"mention.{kind}", None, t) for i, t in enumerate(texts)]
        for kind, texts in raw["mentions"].items()
    }
    intros = {
        key: [line(f"{key}.{i}", key, "hpi", t) for i, t in enumerate(patient[key])]
        for key in ("intro", "intro_with_history")
    }
    return Lexicon(
        facts=facts,
        mentions=mentions,
        intros=intros,
        headers={k: list(v) for k, v in bank.sections.items()},
        qualifiers=qualifiers,
        durations=bank.durations,
        onsets=tuple(raw["time"]["onsets"]["fixed"]),
        sex_words={k: list(patient[k]) for k in ("female", "male")},
        exam_findings=frozenset(x.casefold() for x in bank.exam_findings),
        demographics={k: [w.casefold() for w in v or ()] for k, v in bank.demographics.items()},
    )


# --------------------------------------------------------------------------- the note as pieces


@dataclass(eq=False)
class _Piece:
    """A run of text; ``entity`` is the entity id when the run is an entity mention."""

    text: str
    entity: str | None = None


@dataclass(eq=False)
class _Segment:
    """A sentence, a section header or the whitespace between them."""

    kind: str  # "sentence", "header", "space"
    pieces: list[_Piece]
    section: str | None = None

    def masked(self) -> str:
        return "".join(_MASK if p.entity else p.text for p in self.pieces)

    def entity_ids(self) -> list[str]:
        return [p.entity for p in self.pieces if p.entity]


def _split(pieces: Sequence[_Piece], bounds: Sequence[int]) -> list[list[_Piece]]:
    """Pieces cut at the masked positions ``bounds`` (sorted, first 0, last the length), in one pass."""
    chunks: list[list[_Piece]] = [[] for _ in range(len(bounds) - 1)]
    last = len(chunks) - 1
    index, position = 0, 0
    for piece in pieces:
        end = position + (1 if piece.entity else len(piece.text))
        cursor = position
        while cursor < end:
            while index < last and bounds[index + 1] <= cursor:
                index += 1
            stop = min(end, bounds[index + 1])
            chunks[index].append(
                piece if piece.entity else _Piece(piece.text[cursor - position : stop - position])
            )
            cursor = stop
        position = end
    return chunks


def _slice(pieces: Sequence[_Piece], start: int, end: int) -> list[_Piece]:
    """Pieces covering masked positions [start, end): entity pieces are kept (shared), text is cut."""
    out: list[_Piece] = []
    position = 0
    for piece in pieces:
        width = 1 if piece.entity else len(piece.text)
        low, high = max(start, position), min(end, position + width)
        if low < high:
            out.append(piece if piece.entity else _Piece(piece.text[low - position : high - position]))
        position += width
    return out


@dataclass
class _Patient:
    sex: str | None = None
    age: int | None = None
    sex_word: str | None = None


class _Note:
    """A document as segments of pieces, plus what the strategies need to know about it."""

    def __init__(self, doc: Document, lexicon: Lexicon):
        if validate(doc):
            raise _Skip("invalid input document")
        self.doc = doc
        self.lexicon = lexicon
        self.info = {e.id: (e.type, e.negated) for e in doc.entities}
        self.entity_piece: dict[str, _Piece] = {}
        self.segments = self._segment(self._pieces(doc))
        self.relations = list(doc.relations)
        self.patient = _find_patient(doc.text, lexicon)
        self.log: list[str] = []
        self._new_ids = (f"X{i}" for i in itertools.count(1))
        self.kb_concept: Callable[[str], Concept | None] | None = None
        self.kb_forms: Callable[[str], set[str]] | None = None

    def _pieces(self, doc: Document) -> list[_Piece]:
        pieces: list[_Piece] = []
        position = 0
        for entity in sorted(doc.entities, key=lambda e: (e.start, e.end)):
            if entity.start < position:
                raise _Skip("overlapping entities")
            if entity.start > position:
                pieces.append(_Piece(doc.text[position : entity.start]))
            piece = _Piece(doc.text[entity.start : entity.end], entity.id)
            self.entity_piece[entity.id] = piece
            pieces.append(piece)
            position = entity.end
        if position < len(doc.text):
            pieces.append(_Piece(doc.text[position:]))
        return pieces

    def _segment(self, pieces: list[_Piece]) -> list[_Segment]:
        """Sentences end at ``.!?`` + spaces or at a newline, never inside an entity."""
        whole = _Segment("sentence", pieces).masked()
        bounds = [0]
        for match in re.finditer(r"\n+[ \t]*|(?<=[.!?]) +", whole):
            bounds += [match.start(), match.end()]
        bounds.append(len(whole))
        segments: list[_Segment] = []
        section = None
        for index, chunk in enumerate(_split(pieces, bounds)):
            if not chunk:
                continue
            if index % 2:
                segments.append(_Segment("space", chunk))
            else:
                section = self._add_sentence(segments, chunk, section)
        return segments

    def _add_sentence(
        self, segments: list[_Segment], pieces: list[_Piece], section: str | None
    ) -> str | None:
        masked = _Segment("sentence", pieces).masked()
        header = self.lexicon.header_pattern.match(masked) if self.lexicon.header_pattern else None
        if header and header.end() < len(masked):
            name = header.group()[:-1]
            section = self.lexicon.section_of_header[name]
            segments.append(_Segment("header", _slice(pieces, 0, len(name)), section))
            segments.append(_Segment("space", [_Piece(" ")]))
            pieces = _slice(pieces, header.end(), len(masked))
        segments.append(_Segment("sentence", pieces, section))
        return section

    # -- queries

    def sentences(self) -> list[_Segment]:
        return [s for s in self.segments if s.kind == "sentence"]

    def relations_touching(self, ids: Iterable[str]) -> list[Relation]:
        wanted = set(ids)
        return [r for r in self.relations if r.head in wanted or r.tail in wanted]

    def new_entity(self, text: str, entity_type: str, negated: bool = False) -> _Piece:
        entity_id = next(self._new_ids)
        while entity_id in self.info:
            entity_id = next(self._new_ids)
        self.info[entity_id] = (entity_type, negated)
        piece = _Piece(text, entity_id)
        self.entity_piece[entity_id] = piece
        return piece

    # -- output

    def to_document(self, doc_id: str, metadata: dict[str, Any]) -> Document:
        """Concatenate the pieces; offsets come from the running length, ids are renumbered in text order."""
        text_parts: list[str] = []
        spans: list[tuple[str, str, int, int]] = []
        position = 0
        for segment in self.segments:
            for piece in segment.pieces:
                if piece.entity:
                    spans.append((piece.entity, piece.text, position, position + len(piece.text)))
                text_parts.append(piece.text)
                position += len(piece.text)
        renumber = {old: f"T{i}" for i, (old, _, _, _) in enumerate(spans, start=1)}
        entities = [
            Entity(renumber[old], text, self.info[old][0], start, end, self.info[old][1])
            for old, text, start, end in spans
        ]
        relations = [Relation(r.id, r.type, renumber[r.head], renumber[r.tail]) for r in self.relations]
        return Document(doc_id, "".join(text_parts), entities, relations, metadata)


class _Skip(Exception):
    """This document cannot be augmented safely (it is left as it is)."""


def _find_patient(text: str, lexicon: Lexicon) -> _Patient:
    """Sex and age as the note states them (pronouns, "55-year-old woman", "67F")."""
    patient = _Patient()
    female = len(re.findall(r"\b(?:She|she|her|Her)\b", text))
    male = len(re.findall(r"\b(?:He|he|his|His|him)\b", text))
    age = re.search(r"\b(\d{1,3}) ?(?:-year-old|-yr-old|y/o|yo|y\.o\.|[FM]\b)", text)
    if age:
        patient.age = int(age.group(1))
    for sex in ("female", "male"):
        words = sorted(lexicon.sex_words.get(sex) or (), key=len, reverse=True)
        found = (
            re.search(r"(?:-year-old|y/o|yo|y\.o\.|\d) ?(" + "|".join(map(re.escape, words)) + r")\b", text)
            if words
            else None
        )
        if found:
            patient.sex, patient.sex_word = sex, found.group(1)
            return patient
    if female != male:
        patient.sex = "female" if female > male else "male"
    return patient


# --------------------------------------------------------------------------- knowledge-base view


class _KBView:
    """Indexes over the knowledge base for constrained substitution (built once per KB)."""

    def __init__(self, kb: KnowledgeBase, lexicon: Lexicon):
        self.kb = kb
        self.qualifier = {(e.relation, e.head, e.tail): e.qualifier for e in kb.edges}
        self.heads: dict[tuple[str, str], set[str]] = {}
        self.tails: dict[tuple[str, str], set[str]] = {}
        self.neighbours: dict[str, set[tuple[str, str]]] = {}
        for edge in kb.edges:
            self.heads.setdefault((edge.relation, edge.tail), set()).add(edge.head)
            self.tails.setdefault((edge.relation, edge.head), set()).add(edge.tail)
            self.neighbours.setdefault(edge.head, set()).add((edge.relation, edge.tail))
            self.neighbours.setdefault(edge.tail, set()).add((edge.relation, edge.head))
        self.by_type = {t: sorted(c.name for c in concepts) for t, concepts in kb.by_type.items()}
        self.demographics = lexicon.demographics
        self._flag_cache: dict[str, frozenset[str]] = {}

    def concept(self, text: str, entity_type: str) -> Concept | None:
        concept = self.kb.lookup(text)
        return concept if concept is not None and concept.type == entity_type else None

    def linked(self, name: str, others: Iterable[str]) -> set[str]:
        """Relations that link concept ``name`` to any of ``others`` in the knowledge base."""
        wanted = set(others)
        return {relation for relation, other in self.neighbours.get(name, ()) if other in wanted}

    def _flags(self, name: str) -> frozenset[str]:
        """Demographic keys (female, older_adult, ...) whose words occur in a concept name."""
        flags = self._flag_cache.get(name)
        if flags is None:
            lowered = name.casefold()
            flags = frozenset(k for k, words in self.demographics.items() if any(w in lowered for w in words))
            self._flag_cache[name] = flags
        return flags

    def compatible(self, concept: Concept, patient: _Patient) -> bool:
        """Sex- or age-specific concepts only for a patient the note shows to fit them."""
        flags = self._flags(concept.name)
        if not flags:
            return True

        def has(key: str) -> bool:
            return key in flags

        if has("fetal") or has("excluded") or has("pediatric"):
            return False
        for sex in ("female", "male"):
            if has(sex) and patient.sex != sex:
                return False
        for key, (low, high) in (
            ("reproductive_age", (18, 44)),
            ("young_adult", (18, 30)),
            ("older_adult", (50, 92)),
        ):
            if has(key) and (patient.age is None or not low <= patient.age <= high):
                return False
        return True


def is_vaccine(name: str) -> bool:
    """Vaccines are written as given once ("administered"), so they only replace each other."""
    lowered = name.casefold()
    return any(word in lowered for word in _VACCINE_WORDS)


# --------------------------------------------------------------------------- rendering


@dataclass
class _Values:
    """What a sentence needs besides its template: entity blocks and words."""

    blocks: dict[str, list[_Piece]]
    words: dict[str, str] = field(default_factory=dict)


def _expand_line(text: str, rng: random.Random) -> str:
    """Pick one phrasing of ``[a|b]`` alternatives and tidy spaces the way the generator does."""
    chosen = ALTERNATION.sub(lambda m: _choice(rng, m.group(1).split("|")), text)
    chosen = re.sub(r" {2,}", " ", chosen).strip().replace(" .", ".").replace(" ,", ",")
    return chosen[:1].upper() + chosen[1:]


def _article_age(age: str) -> str:
    number = int(age)
    return f"an {age}" if str(number).startswith("8") or number in (11, 18) else f"a {age}"


def _word(name: str, values: _Values, note: _Note, rng: random.Random) -> str | None:
    """The text of a word slot, or None when the note cannot supply it truthfully."""
    words, patient, lexicon = values.words, note.patient, note.lexicon
    if name in PRONOUNS["female"]:
        return PRONOUNS[patient.sex][name] if patient.sex else None
    if name in ("q", "q_cap"):
        word = words.get("q")
        return None if word is None else (capitalize(word) if name == "q_cap" else word)
    if name in ("duration", "onset"):
        return words.get(name) or _choice(rng, lexicon.durations if name == "duration" else lexicon.onsets)
    if name in ("age", "an_age"):
        age = words.get("age") or (str(patient.age) if patient.age else None)
        return None if age is None else (age if name == "age" else _article_age(age))
    if name == "sex":
        if words.get("sex"):
            return words["sex"]
        return (
            _choice(rng, note.lexicon.sex_words[patient.sex])
            if patient.sex and lexicon.sex_words.get(patient.sex)
            else None
        )
    if name == "sx":
        return {"female": "F", "male": "M"}.get(patient.sex or "")
    return None


def _fillable(line: _Line, values: _Values, note: _Note) -> bool:
    """Whether ``line`` can be written with exactly these entity blocks and truthful words."""
    if line.pattern is None:
        return False
    slots = line.entity_slots()
    if set(slots) != set(values.blocks):
        return False
    for base, is_list in slots.items():
        if not is_list and sum(1 for p in values.blocks[base] if p.entity) > 1:
            return False
    probe = random.Random(0)
    return all(
        _word(name, values, note, probe) is not None
        for name in (s.rstrip("+") for s in line.slots)
        if name not in _ENTITY_SLOTS
    )


def _render(line: _Line, values: _Values, note: _Note, rng: random.Random) -> list[_Piece]:
    """Write ``line`` with the given blocks; entity pieces are reused so their ids stay."""
    text = _expand_line(line.text, rng)
    pieces: list[_Piece] = []
    position = 0
    for match in SLOT.finditer(text):
        if match.start() > position:
            pieces.append(_Piece(text[position : match.start()]))
        initial = match.start() == 0
        base = match.group(1).rstrip("+")
        if base in _ENTITY_SLOTS:
            block = values.blocks[base]
            _set_case(block, initial, note)
            pieces.extend(block)
        else:
            word = _word(base, values, note, rng) or ""
            pieces.append(_Piece(capitalize(word) if initial else word))
        position = match.end()
    if position < len(text):
        pieces.append(_Piece(text[position:]))
    return pieces


def _set_case(block: list[_Piece], initial: bool, note: _Note) -> None:
    """Capitalise a block's first entity at the start of a sentence; undo it elsewhere when safe."""
    first = next((p for p in block if p.entity), None)
    if first is None:
        return
    if initial:
        first.text = capitalize(first.text)
        return
    lowered = _decapitalize(first.text)
    if lowered != first.text and note.kb_forms is not None:
        forms = note.kb_forms(first.text)
        if lowered in forms and first.text not in forms:
            first.text = lowered


def _match(line: _Line, segment: _Segment) -> _Values | None:
    """Blocks and words of ``segment`` if it is an instance of ``line`` (every entity inside a slot)."""
    if line.pattern is None:
        return None
    masked = segment.masked()
    found = line.pattern.fullmatch(masked)
    if not found:
        return None
    values = _Values({})
    covered = 0
    for group, text in found.groupdict().items():
        if text is None:
            continue
        base = group.split("_", 1)[1]
        if base in _ENTITY_SLOTS:
            if base in values.blocks:
                return None
            block = _slice(segment.pieces, found.start(group), found.end(group))
            values.blocks[base] = block
            covered += sum(1 for p in block if p.entity)
        elif base in ("q", "q_cap"):
            values.words["q"] = text.lower()
        elif base not in PRONOUNS["female"]:
            values.words.setdefault(base, text)
    if covered != masked.count(_MASK):
        return None
    if "an_age" in values.words and "age" not in values.words:
        values.words["age"] = values.words["an_age"].split()[-1]
    return values


# --------------------------------------------------------------------------- strategies


@dataclass
class _Context:
    lexicon: Lexicon
    kb: _KBView | None
    keep_form: Callable[[str], bool]
    rate: float = 0.5


def _replace(note: _Note, segment: _Segment, pieces: list[_Piece], log: str) -> None:
    segment.pieces = pieces
    note.log.append(log)


def _pick_some(rng: random.Random, items: list[Any], rate: float) -> list[Any]:
    """Each item with probability ``rate``, and at least one when there are any."""
    chosen = [item for item in items if rng.random() < rate]
    return chosen or ([_choice(rng, items)] if items else [])


def paraphrase(note: _Note, rng: random.Random, ctx: _Context) -> int:
    """Other lines for relation-free sentences, other headers, then rewrites between entities."""
    changed = 0
    for segment in _pick_some(rng, [s for s in note.segments if s.kind == "header"], ctx.rate):
        headers = [
            h for h in ctx.lexicon.headers.get(segment.section or "", []) if h != segment.pieces[0].text
        ]
        if headers:
            _replace(note, segment, [_Piece(_choice(rng, headers))], f"paraphrase:header.{segment.section}")
            changed += 1
    candidates = []
    for segment in note.sentences():
        if note.relations_touching(segment.entity_ids()):
            continue
        lines = _mention_lines(segment, ctx.lexicon)
        if lines:
            candidates.append((segment, lines))
    for segment, (matched, values, pool) in _pick_some(rng, candidates, ctx.rate):
        options = [line for line in pool if line.id != matched.id and _fillable(line, values, note)]
        if options:
            line = _choice(rng, options)
            _replace(note, segment, _render(line, values, note, rng), f"paraphrase:{line.id}")
            changed += 1
    for segment in note.sentences():
        changed += _rewrite(segment, rng, ctx.rate / 2, note)
    return changed


def _mention_lines(segment: _Segment, lexicon: Lexicon) -> tuple[_Line, _Values, list[_Line]] | None:
    """The relation-free line a sentence instantiates, its values and the lines of its kind."""
    pools = [*lexicon.mentions.values(), *lexicon.intros.values()]
    for pool in pools:
        for line in pool:
            values = _match(line, segment)
            if values is not None:
                return line, values, pool
    return None


def _rewrite(segment: _Segment, rng: random.Random, rate: float, note: _Note) -> int:
    """Rule-based rewrites of the text between entities (entities are never touched)."""
    changed = 0
    for piece in segment.pieces:
        if piece.entity or not piece.text.strip():
            continue
        for pattern, replacements in _REWRITES:
            if pattern.search(piece.text) and rng.random() < rate:
                piece.text = pattern.sub(lambda _m, r=replacements: _choice(rng, r), piece.text, count=1)
                note.log.append(f"paraphrase:rewrite.{pattern.pattern}")
                changed += 1
    return changed


def _star(note: _Note, segment: _Segment) -> tuple[str, list[_Piece], list[_Piece], list[Relation]] | None:
    """(relation type, head block, tail block, relations) when the sentence states one relation star."""
    ids = segment.entity_ids()
    relations = note.relations_touching(ids)
    inside = set(ids)
    if not relations or any(r.head not in inside or r.tail not in inside for r in relations):
        return None
    if len({r.type for r in relations}) != 1:
        return None
    heads = list(dict.fromkeys(r.head for r in relations))
    tails = list(dict.fromkeys(r.tail for r in relations))
    if set(heads) & set(tails) or set(heads) | set(tails) != inside:
        return None
    if (len(heads) > 1 and len(tails) > 1) or len(relations) != len(heads) * len(tails):
        return None
    head_block, tail_block = _block(segment, heads), _block(segment, tails)
    if head_block is None or tail_block is None:
        return None
    return relations[0].type, head_block, tail_block, relations


def _block(segment: _Segment, ids: list[str]) -> list[_Piece] | None:
    """The contiguous list holding exactly ``ids`` (items joined by ", " / " and "), or None."""
    positions = [i for i, p in enumerate(segment.pieces) if p.entity in ids]
    if len(positions) != len(ids):
        return None
    block = segment.pieces[positions[0] : positions[-1] + 1]
    for piece in block:
        if not piece.entity and not _LIST_SEPARATOR.match(piece.text):
            return None
    return list(block)


def _fact_kind(
    relation: str, heads: list[_Piece], tails: list[_Piece], note: _Note, ctx: _Context
) -> str | None:
    head_type = note.info[next(p.entity for p in heads if p.entity)][0]
    symptoms = [p.text for p in (tails if relation == "causes" else heads) if p.entity]
    exam = bool(ctx.lexicon.exam_findings) and all(
        _canonical(s, note).casefold() in ctx.lexicon.exam_findings for s in symptoms
    )
    if relation == "causes":
        kind = "causes_exam" if exam else "causes"
    elif relation == "indicates":
        kind = (
            "indicates_lab"
            if head_type == "Lab_Test"
            else ("indicates_exam" if exam else "indicates_symptom")
        )
    elif relation == "prevents":
        if head_type == "Procedure":
            kind = "prevents_procedure"
        else:
            names = [_canonical(p.text, note) for p in heads if p.entity]
            kind = "prevents_vaccine" if all(is_vaccine(n) for n in names) else "prevents_drug"
    else:
        kind = relation
    return kind if kind in ctx.lexicon.facts else None


def _canonical(text: str, note: _Note) -> str:
    if note.kb_concept is not None:
        concept = note.kb_concept(text)
        if concept is not None:
            return concept.name
    return text


def _qualifier(segment: _Segment, relations: list[Relation], note: _Note, ctx: _Context) -> str | None:
    """The qualifier word of a lab sentence, consistent with the knowledge-base edge when known."""
    words = re.findall(r"[A-Za-z]+", " ".join(p.text for p in segment.pieces if not p.entity))
    found = next((w.lower() for w in words if w.casefold() in ctx.lexicon.qualifier_class), None)
    if ctx.kb is not None:
        r = relations[0]
        head, tail = note.entity_piece[r.head].text, note.entity_piece[r.tail].text
        hc, tc = ctx.kb.kb.lookup(head), ctx.kb.kb.lookup(tail)
        expected = ctx.kb.qualifier.get((r.type, hc.name, tc.name)) if hc and tc else None
        if expected and (found is None or ctx.lexicon.qualifier_class.get(found) != expected):
            words_for = ctx.lexicon.qualifiers.get(expected)
            return words_for[0] if words_for else None
    return found


def reword(note: _Note, rng: random.Random, ctx: _Context) -> int:
    """Another template line of the same fact kind for sentences that state one relation star."""
    candidates = []
    for segment in note.sentences():
        star = _star(note, segment)
        if star is None:
            continue
        relation, heads, tails, relations = star
        kind = _fact_kind(relation, heads, tails, note, ctx)
        if kind is not None:
            candidates.append((segment, kind, heads, tails, relations))
    changed = 0
    for segment, kind, heads, tails, relations in _pick_some(rng, candidates, ctx.rate):
        values = _Values({"H": heads, "T": tails})
        matched = None
        for line in ctx.lexicon.fact_lines(kind):
            found = _match(line, segment)
            if found is not None:
                matched = line
                values.words.update({k: v for k, v in found.words.items() if k in ("duration", "onset")})
                break
        if kind == "indicates_lab":
            q = _qualifier(segment, relations, note, ctx)
            if q is None:
                continue
            values.words["q"] = q
        section = matched.section if matched else segment.section
        pool = ctx.lexicon.facts[kind].get(section or "", []) if section else []
        options = [line for line in pool if line is not matched and _fillable(line, values, note)]
        if not options:
            options = [
                line
                for line in ctx.lexicon.fact_lines(kind)
                if line is not matched and _fillable(line, values, note)
            ]
        if options:
            line = _choice(rng, options)
            _replace(note, segment, _render(line, values, note, rng), f"reword:{line.id}")
            changed += 1
    return changed


def substitute(note: _Note, rng: random.Random, ctx: _Context) -> int:
    """Synonyms, or other concepts that keep every relation a knowledge-base edge."""
    kb = ctx.kb
    if kb is None:
        return 0
    mentions: dict[str, list[str]] = {}
    for entity_id, piece in note.entity_piece.items():
        concept = kb.concept(piece.text, note.info[entity_id][0])
        if concept is not None:
            mentions.setdefault(concept.name, []).append(entity_id)
    in_note = set(mentions)
    current = {eid: name for name, ids in mentions.items() for eid in ids}
    changed = 0
    for name in _pick_some(rng, sorted(mentions), ctx.rate):
        concept = kb.kb.concepts[name]
        target = (
            None
            if rng.random() < 0.4
            else _replacement(concept, mentions[name], note, current, in_note, rng, kb, ctx)
        )
        if target is None:
            changed += _use_synonyms(concept, mentions[name], note, rng, ctx)
            continue
        for entity_id in mentions[name]:
            _set_form(note, entity_id, concept, target, rng, ctx)
            current[entity_id] = target.name
        in_note.add(target.name)
        note.log.append(f"substitute:{concept.type}")
        changed += 1
    return changed


def _use_synonyms(concept: Concept, ids: list[str], note: _Note, rng: random.Random, ctx: _Context) -> int:
    changed = 0
    for entity_id in ids:
        piece = note.entity_piece[entity_id]
        forms = [
            f for f in concept.surface_forms if ctx.keep_form(f) and f.casefold() != piece.text.casefold()
        ]
        if forms:
            piece.text = _styled(piece.text, _choice(rng, forms), concept)
            note.log.append(f"substitute:synonym.{concept.type}")
            changed += 1
    return changed


def _styled(old_text: str, form: str, concept: Concept) -> str:
    """Keep a sentence-initial capital the old mention had."""
    was_capitalized = old_text[:1].isupper() and old_text not in concept.surface_forms
    return capitalize(form) if was_capitalized else form


def _set_form(
    note: _Note, entity_id: str, old: Concept, new: Concept, rng: random.Random, ctx: _Context
) -> None:
    piece = note.entity_piece[entity_id]
    forms = [f for f in new.surface_forms if ctx.keep_form(f)]
    piece.text = _styled(piece.text, _choice(rng, forms), old)
    if old.dose:
        _fix_dose(note, piece, old.dose, new.dose)


def _fix_dose(note: _Note, piece: _Piece, old_dose: str, new_dose: str | None) -> None:
    """A dose written after the old drug is replaced by the new drug's usual dose (or removed)."""
    for segment in note.segments:
        for i, candidate in enumerate(segment.pieces):
            if candidate is piece and i + 1 < len(segment.pieces):
                following = segment.pieces[i + 1]
                if not following.entity and following.text.startswith(f" {old_dose}"):
                    rest = following.text[len(old_dose) + 1 :]
                    following.text = (f" {new_dose}" if new_dose else "") + rest
                return


def _replacement(
    concept: Concept,
    ids: list[str],
    note: _Note,
    current: dict[str, str],
    in_note: set[str],
    rng: random.Random,
    kb: _KBView,
    ctx: _Context,
) -> Concept | None:
    """Another concept of the same type for which every relation of ``ids`` is still an edge."""
    relations = note.relations_touching(ids)
    mine = set(ids)
    allowed: set[str] | None = None
    for relation in relations:
        other_id = relation.tail if relation.head in mine else relation.head
        other = current.get(other_id)
        if other is None or other_id in mine:
            return None
        as_head = relation.head in mine
        key = (relation.type, concept.name, other) if as_head else (relation.type, other, concept.name)
        if key not in kb.qualifier:
            return None  # the original is not a known fact: nothing to keep true
        pool = (
            kb.heads.get((relation.type, other), set())
            if as_head
            else kb.tails.get((relation.type, other), set())
        )
        pool = {
            c
            for c in pool
            if kb.qualifier.get((relation.type, c, other) if as_head else (relation.type, other, c))
            == kb.qualifier[key]
        }
        allowed = pool if allowed is None else allowed & pool
    if allowed is not None:
        names = sorted(allowed)
        rng.shuffle(names)
    else:
        names = rng.sample(kb.by_type.get(concept.type, []), min(60, len(kb.by_type.get(concept.type, []))))
    original_links = kb.linked(concept.name, in_note - {concept.name})
    for name in names:
        candidate = kb.kb.concepts[name]
        if name in in_note or not _acceptable(candidate, concept, note, kb, ctx):
            continue
        if relations:
            return candidate
        links = kb.linked(name, in_note - {concept.name})
        if (links and links & original_links) or (not links and not original_links):
            return candidate
    return None


def _acceptable(candidate: Concept, original: Concept, note: _Note, kb: _KBView, ctx: _Context) -> bool:
    if candidate.type != original.type or not any(ctx.keep_form(f) for f in candidate.surface_forms):
        return False
    if candidate.type == "Drug" and is_vaccine(candidate.name) != is_vaccine(original.name):
        return False
    exam = ctx.lexicon.exam_findings
    if (
        exam
        and candidate.type == "Symptom"
        and (candidate.name.casefold() in exam) != (original.name.casefold() in exam)
    ):
        return False
    return kb.compatible(candidate, note.patient)


#: Distractor sentence kinds of the template file: (entity type, negated, section, list size).
_EXPANSIONS: dict[str, tuple[str | None, bool, str, int]] = {
    "negated_symptom": ("Symptom", True, "hpi", 3),
    "negated_exam": ("Symptom", True, "exam", 2),
    "negated_disease": ("Disease", True, "assessment", 1),
    "normal_lab": ("Lab_Test", False, "labs", 3),
    "pending": ("Lab_Test", False, "labs", 2),
    "procedure_history": ("Procedure", False, "hpi", 1),
    "followup": (None, False, "plan", 0),
}
_EARLY_SECTIONS = frozenset({"chief_complaint", "hpi", "history"})


def expand(note: _Note, rng: random.Random, ctx: _Context) -> int:
    """Insert one or two distractor sentences where the note's sections expect them."""
    kinds = [
        k
        for k in _EXPANSIONS
        if ctx.lexicon.mentions.get(k) and (ctx.kb is not None or _EXPANSIONS[k][0] is None)
    ]
    added = 0
    for kind in rng.sample(kinds, min(len(kinds), 1 + (rng.random() < 0.4))):
        entity_type, negated, section, size = _EXPANSIONS[kind]
        concepts = (
            _distractors(note, entity_type, size, rng, ctx, exam=kind == "negated_exam")
            if entity_type
            else []
        )
        if entity_type and not concepts:
            continue
        values = _Values(
            {"E": _list_block(note, concepts, entity_type, negated, rng, ctx)} if concepts else {}
        )
        options = [line for line in ctx.lexicon.mentions[kind] if _fillable(line, values, note)]
        if not options:
            continue
        line = _choice(rng, options)
        _insert(note, _Segment("sentence", _render(line, values, note, rng), section), rng)
        note.log.append(f"expand:{line.id}")
        added += 1
    return added


def _distractors(
    note: _Note, entity_type: str, size: int, rng: random.Random, ctx: _Context, exam: bool
) -> list[Concept]:
    """Concepts absent from the note and with no knowledge-base edge to anything in it."""
    kb = ctx.kb
    assert kb is not None
    in_note = {c.name for p in note.entity_piece.values() if (c := kb.kb.lookup(p.text)) is not None}
    pool = kb.by_type.get(entity_type, [])
    wanted = rng.randint(1, size)
    picked: list[Concept] = []
    for name in rng.sample(pool, min(len(pool), 40)):
        concept = kb.kb.concepts[name]
        if name in in_note or kb.linked(name, in_note) or not kb.compatible(concept, note.patient):
            continue
        if (
            entity_type == "Symptom"
            and ctx.lexicon.exam_findings
            and (name.casefold() in ctx.lexicon.exam_findings) != exam
        ):
            continue
        if not any(ctx.keep_form(f) for f in concept.surface_forms):
            continue
        picked.append(concept)
        in_note.add(name)
        if len(picked) == wanted:
            break
    return picked


def _list_block(
    note: _Note, concepts: list[Concept], entity_type: str, negated: bool, rng: random.Random, ctx: _Context
) -> list[_Piece]:
    block: list[_Piece] = []
    for i, concept in enumerate(concepts):
        if i:
            block.append(_Piece(" and " if i == len(concepts) - 1 else ", "))
        form = _choice(rng, [f for f in concept.surface_forms if ctx.keep_form(f)])
        block.append(note.new_entity(form, entity_type, negated))
    return block


def _insert(note: _Note, sentence: _Segment, rng: random.Random) -> None:
    """After the last sentence of the target section, else early or late in the note by kind."""
    indices = [i for i, s in enumerate(note.segments) if s.kind == "sentence"]
    if not indices:
        note.segments += [_Segment("space", [_Piece(" ")]), sentence]
        return
    same = [i for i in indices if note.segments[i].section == sentence.section]
    if same:
        at = same[-1]
    elif sentence.section in _EARLY_SECTIONS:
        at = indices[0]
    else:
        at = indices[-1]
    note.segments[at + 1 : at + 1] = [_Segment("space", [_Piece(" ")]), sentence]


_STRATEGY_FUNCTIONS: dict[str, Callable[[_Note, random.Random, _Context], int]] = {
    "paraphrase": paraphrase,
    "substitute": substitute,
    "reword": reword,
    "expand": expand,
}


# --------------------------------------------------------------------------- public API


@dataclass
class AugmentStats:
    """What happened, so nothing is dropped silently."""

    inputs: int = 0
    outputs: int = 0
    variants: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    invalid: int = 0
    operations: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        ops = ", ".join(f"{k} {v}" for k, v in sorted(self.operations.items())) or "none"
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items())) or "none"
        return (
            f"{self.inputs} input documents -> {self.outputs} output documents ({self.variants} augmented); "
            f"variants identical to their source (not written): {self.unchanged}; skipped: {skipped}; "
            f"invalid (not written): {self.invalid}; operations: {ops}"
        )


def unseen_form_filter(documents: Sequence[Document], seed: int | None = None, share: float = 0.2) -> Callable[[str], bool]:
    """The builder's hold-out rule as a ``keep_form``: a surface form kept out of train must stay
    out of augmented train, or ``test_unseen`` stops measuring unseen names.

    ``seed`` defaults to the one the documents' metadata records (else 42, the builder's).
    """
    from .builder import is_held_out

    if not 0.0 < share < 1.0:
        raise UserInputError(f"unseen share must be in (0, 1), got {share}")
    if seed is None:
        seeds = {d.metadata.get("seed") for d in documents}
        seed = seeds.pop() if len(seeds) == 1 and isinstance(next(iter(seeds)), int) else 42
    return lambda form: not is_held_out(form, seed, share)


def parse_strategies(text: str | Sequence[str]) -> list[str]:
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    unknown = [s for s in names if s not in STRATEGIES]
    if unknown or not names:
        raise UserInputError(
            f"unknown strategy {', '.join(unknown) or '(none)'}; valid: {', '.join(STRATEGIES)}"
        )
    return list(dict.fromkeys(names))


class Augmenter:
    """Applies strategies to documents; one instance can serve many documents."""

    def __init__(
        self,
        strategies: Sequence[str] = STRATEGIES,
        *,
        knowledge_base: KnowledgeBase | None = None,
        keep_form: Callable[[str], bool] | None = None,
        rate: float = 0.5,
        lexicon: Lexicon | None = None,
    ):
        self.strategies = parse_strategies(strategies)
        if not 0.0 < rate <= 1.0:
            raise UserInputError(f"rate must be in (0, 1], got {rate}")
        lexicon = lexicon or load_lexicon()
        self.kb = knowledge_base
        self.ctx = _Context(
            lexicon,
            _KBView(knowledge_base, lexicon) if knowledge_base else None,
            keep_form or (lambda form: True),
            rate,
        )

    def variant(
        self, doc: Document, rng: random.Random, doc_id: str | None = None
    ) -> tuple[Document | None, list[str]]:
        """One augmented copy (None when nothing applied) and the operations performed."""
        note = _Note(doc, self.ctx.lexicon)
        note.kb_concept = self.kb.lookup if self.kb else None
        note.kb_forms = (
            (lambda text: set(c.surface_forms) if (c := self.kb.lookup(text)) else set()) if self.kb else None
        )
        for name in self.strategies:
            _STRATEGY_FUNCTIONS[name](note, rng, self.ctx)
        metadata = {k: v for k, v in doc.metadata.items() if k != "templates"}
        metadata.update(augmented_from=doc.id, augmentation=list(note.log))
        out = note.to_document(doc_id or doc.id, metadata)
        if out.text == doc.text and [(e.text, e.start) for e in out.entities] == [
            (e.text, e.start) for e in doc.entities
        ]:
            return None, note.log
        return out, note.log


def augment_documents(
    documents: Sequence[Document],
    strategies: Sequence[str] = STRATEGIES,
    *,
    factor: int = 1,
    seed: int = 0,
    knowledge_base: KnowledgeBase | None = None,
    keep_form: Callable[[str], bool] | None = None,
    include_originals: bool = True,
    rate: float = 0.5,
    show_progress: bool = False,
) -> tuple[list[Document], AugmentStats]:
    """Originals (optionally) followed by up to ``factor`` valid variants of each document.

    Variant ``k`` of document ``d`` draws from ``random.Random(stable_int(seed, d.id, k))``,
    so the output does not depend on document order or on how the input is sharded.
    Variants that fail :func:`~odin_medical_ner_re.schema.validate` are counted, never written.
    """
    if not isinstance(factor, int) or factor < 1:
        raise UserInputError(f"factor must be a positive integer, got {factor!r}")
    augmenter = Augmenter(strategies, knowledge_base=knowledge_base, keep_form=keep_form, rate=rate)
    stats = AugmentStats(inputs=len(documents))
    output: list[Document] = list(documents) if include_originals else []
    items: Iterable[Document] = documents
    if show_progress:
        from tqdm.auto import tqdm

        items = tqdm(documents, desc="augmenting", unit="doc")
    for doc in items:
        seen = {doc.text}
        for k in range(1, factor + 1):
            rng = random.Random(stable_int("augment", seed, doc.id, k))
            try:
                variant, log = augmenter.variant(doc, rng, f"{doc.id}-aug{k}")
            except _Skip as why:
                stats.skipped[str(why)] += 1
                break
            if variant is None or variant.text in seen:
                stats.unchanged += 1
                continue
            if validate(variant):
                stats.invalid += 1
                continue
            seen.add(variant.text)
            stats.operations.update(op.split(":", 1)[0] for op in log)
            output.append(variant)
            stats.variants += 1
    stats.outputs = len(output)
    return output, stats
