"""MedicalTextGenerator: knowledge-base facts + hand-written templates -> annotated notes.

Why it is built this way:

* Every relation comes from a knowledge-base edge, and only where a template states it,
  so factual consistency is 100% by construction (and tested).
* Text is assembled piece by piece and offsets are summed once at the end, so they are
  exact without searching the text afterwards.
* All randomness flows from one local :class:`random.Random`; the global RNG is never
  touched, so the same seed gives byte-identical output in any process.
* A surface-form filter lets the builder hold some names out of training and build a
  ``test_unseen`` split from them.
* Patients are coherent: sex- and age-specific concepts only appear for a patient they fit,
  exam findings are written as findings (never "denies splenomegaly"), and a vitals line
  shows a fever or a tachycardia only when the note asserts it.
* Speed matters (millions of notes for large configs): whatever depends only on the
  knowledge base, the options or the patient's sex and age band is computed once and
  cached; templates are compiled when the file is read (pronouns resolved per sex,
  literals and ``[a|b]`` alternatives folded into one drawn text before each slot);
  sentences are planned as plain tuples into per-section lists; the cyclic garbage
  collector is paused while a dataset is generated.
* Diversity comes from the template file (``templates/clinical_notes.yaml``): a line may
  hold ``[a|b|c]`` alternatives and shared word pools (``{known}``, ``{end_rx}``, ...), so
  one line of YAML yields many phrasings of one statement; the generator draws a line,
  then one alternative per group. Layout varies too (inline or headed sections, a merged
  "A/P", one item per line), as it does between real records.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import random
import re
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from pathlib import Path
from typing import Any

import yaml

from .errors import UserInputError
from .gcpause import gc_paused
from .knowledge import Concept, Edge, KnowledgeBase, load_knowledge_base
from .schema import Document, Entity, Relation, load_documents, save_documents

TEMPLATES_PATH = Path(__file__).resolve().parent / "templates" / "clinical_notes.yaml"

#: The order sections take in a note.
SECTION_ORDER: tuple[str, ...] = (
    "chief_complaint",
    "hpi",
    "history",
    "medications",
    "vitals",
    "exam",
    "labs",
    "assessment",
    "plan",
    "discharge",
)
_SECTION_INDEX = {name: i for i, name in enumerate(SECTION_ORDER)}
#: Sections written as one item per line in an itemized note.
_ITEMIZED_SECTIONS = frozenset(
    _SECTION_INDEX[s] for s in ("history", "medications", "labs", "assessment", "plan", "discharge")
)
#: Sections whose sentences keep their planned order (the intro must open the HPI); the
#: sentences of the other sections are shuffled.
_NARRATIVE_SECTIONS = frozenset(
    _SECTION_INDEX[s] for s in ("chief_complaint", "hpi", "history", "medications")
)

#: Fact kind (key of ``facts`` in the template file) -> relation type it states.
FACT_RELATION: dict[str, str] = {
    "causes": "causes",
    "causes_exam": "causes",
    "indicates_symptom": "indicates",
    "indicates_exam": "indicates",
    "indicates_lab": "indicates",
    "treats": "treats",
    "prevents_drug": "prevents",
    "prevents_vaccine": "prevents",
    "prevents_procedure": "prevents",
}
_PREVENTS_ANY = "prevents_any"
_PREVENTION_KINDS = frozenset(k for k, relation in FACT_RELATION.items() if relation == "prevents")

#: Plausible vital-sign ranges (adult, at rest). Abnormal values appear only when the note
#: asserts the matching sign (fever, tachycardia, ...), so vitals never contradict the text.
_TEMP_C = {"normal": (36.2, 37.4), "fever": (38.0, 39.6), "hyperthermia": (39.8, 41.2)}
_HEART_RATE = {"normal": (56, 99), "tachycardia": (102, 136)}
_RESP_RATE = {"normal": (12, 20), "tachypnea": (22, 32), "bradypnea": (6, 10)}
_SPO2 = {"normal": (94, 100), "bradypnea": (86, 92)}
_SYSTOLIC, _DIASTOLIC = (104, 158), (60, 96)
_ADULT = (18, 92)  # the ages a patient may have; sex- or age-specific concepts narrow it
_AGE_WORDS = [str(age) for age in range(_ADULT[1] + 1)]
_AN_AGE_WORDS = [
    f"{'an' if age in (11, 18) or 80 <= age <= 89 else 'a'} {age}" for age in range(_ADULT[1] + 1)
]
_VITAL_SIGNS = ("hyperthermia", "fever", "tachycardia", "tachypnea", "bradypnea")


@dataclass(frozen=True)
class NoteOptions:
    """How rich a note is. ``simple`` suits the 1k/10k configs, ``complex`` the complex one.

    Rates are probabilities per note: ``itemized_rate`` (a headed note writes its list-like
    sections one item per line), ``unpunctuated_item_rate`` (those items without a final
    period) and ``combined_plan_rate`` (assessment, plan and discharge under one "A/P").
    """

    min_facts: int = 2
    max_facts: int = 4
    max_list: int = 3
    comorbidities: tuple[int, int] = (0, 1)
    section_header_rate: float = 0.8
    full_sections: bool = False
    negation_rate: float = 0.4
    distractor_rate: float = 0.5
    abbreviation_rate: float = 0.2
    cross_sentence_rate: float = 0.0
    followup_rate: float = 0.15
    vitals_rate: float = 0.15
    itemized_rate: float = 0.9
    unpunctuated_item_rate: float = 0.8
    combined_plan_rate: float = 0.7

    def __post_init__(self) -> None:
        if not (1 <= self.min_facts <= self.max_facts):
            raise UserInputError(f"need 1 <= min_facts <= max_facts, got {self.min_facts}, {self.max_facts}")
        if self.max_list < 1:
            raise UserInputError("max_list must be at least 1")
        low, high = self.comorbidities
        if not 0 <= low <= high:
            raise UserInputError(
                f"comorbidities must be (low, high) with 0 <= low <= high, got {self.comorbidities}"
            )
        for name in (
            "section_header_rate",
            "negation_rate",
            "distractor_rate",
            "abbreviation_rate",
            "cross_sentence_rate",
            "followup_rate",
            "vitals_rate",
            "itemized_rate",
            "unpunctuated_item_rate",
            "combined_plan_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise UserInputError(f"{name} must be in [0, 1], got {value}")


COMPLEXITY_PRESETS: dict[str, NoteOptions] = {
    "simple": NoteOptions(),
    "complex": NoteOptions(
        min_facts=4,
        max_facts=7,
        comorbidities=(1, 2),
        section_header_rate=1.0,
        full_sections=True,
        negation_rate=0.8,
        distractor_rate=0.9,
        abbreviation_rate=0.3,
        cross_sentence_rate=0.35,
        followup_rate=0.5,
        vitals_rate=0.8,
        itemized_rate=0.7,
        unpunctuated_item_rate=0.6,
        combined_plan_rate=0.3,
    ),
}


# --------------------------------------------------------------------------- templates

# Part codes of a compiled template. A part is (code, value, capitalize).
_LITERAL = 0  # value: text
_PICK = 1  # value: tuple of texts, one drawn ("[a|b]" without slots, {duration}, {onset})
_HEAD = 2  # value: "H"; {H}, {H+}, {E}, {E+}
_TAIL = 3  # value: "T"; {T}, {T+}
_CHOICE = 4  # value: tuple of part tuples, one drawn ("[a|b]" holding slots)
_WORD = 5  # value: patient word key (age, an_age, sex, sx)
_QUALIFIER = 6  # value: "q"; the lab result word of the fact being stated
_Part = tuple[int, Any, bool]
_Template = tuple[str, tuple[Any, ...], tuple[str, ...], int]  # (template id, steps, closing texts, count)
_Line = tuple[_Template, ...]  # one YAML line; several entries only when it starts with "[...]"

_ALTERNATION = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{([^{}]+)\}")
_PRONOUNS: dict[str, dict[str, str]] = {
    "female": {"Pronoun": "She", "pronoun": "she", "possessive": "her", "Possessive": "Her", "object": "her"},
    "male": {"Pronoun": "He", "pronoun": "he", "possessive": "his", "Possessive": "His", "object": "him"},
}
_ENTITY_SLOTS = {"H": _HEAD, "E": _HEAD, "T": _TAIL}
_PATIENT_WORDS = frozenset({"age", "an_age", "sex", "sx"})


def expand_alternatives(text: str) -> list[str]:
    """Every phrasing of a template line: ``"[Start|Begin] {H}."`` -> ``["Start {H}.", "Begin {H}."]``.

    The generator never expands lines (it draws one alternative per group while writing);
    this is for checking and counting phrasings.
    """
    pieces = _ALTERNATION.split(text)
    choices = [[piece] if i % 2 == 0 else piece.split("|") for i, piece in enumerate(pieces)]
    variants = ("".join(combo) for combo in itertools.product(*choices))
    return list(dict.fromkeys(v[:1].upper() + v[1:] for v in variants))


def count_phrasings(text: str) -> int:
    """Number of phrasings of a line (product of its group sizes), without expanding it."""
    return math.prod(len(group.split("|")) for group in _ALTERNATION.findall(text))


def _compile_segment(
    template_id: str, text: str, sex: str, initial: bool, pools: dict[str, tuple[str, ...]]
) -> list[_Part]:
    """Literal and slot parts of text without groups; pronouns become literals for ``sex``."""
    parts: list[_Part] = []
    literal = ""
    position = 0
    for match in _SLOT.finditer(text):
        literal += text[position : match.start()]
        position = match.end()
        name = match.group(1)
        at_start = initial and match.start() == 0
        pronoun = _PRONOUNS[sex].get(name)
        if pronoun is not None:
            literal += pronoun[0].upper() + pronoun[1:] if at_start else pronoun
            continue
        if literal:
            parts.append((_LITERAL, literal, False))
            literal = ""
        base = name.rstrip("+")
        if base in pools:
            if at_start:
                raise UserInputError(f"template {template_id}: word pool {{{name}}} cannot open a sentence")
            parts.append((_PICK, pools[base], False))
        elif base in _ENTITY_SLOTS:
            parts.append((_ENTITY_SLOTS[base], base, at_start))
        elif base in ("q", "q_cap"):
            parts.append((_QUALIFIER, "q", at_start or base == "q_cap"))
        elif base in _PATIENT_WORDS:
            parts.append((_WORD, base, at_start))
        else:
            raise UserInputError(f"template {template_id}: unknown slot {{{name}}}")
    literal += text[position:]
    if literal:
        parts.append((_LITERAL, literal, False))
    return parts


def _compile_group(template_id: str, group: str, sex: str, pools: dict[str, tuple[str, ...]]) -> _Part:
    alternatives = [_compile_segment(template_id, alt, sex, False, pools) for alt in group.split("|")]
    if all(not alt or (len(alt) == 1 and alt[0][0] == _LITERAL) for alt in alternatives):
        return (_PICK, tuple(alt[0][1] if alt else "" for alt in alternatives), False)
    return (_CHOICE, tuple(tuple(alt) for alt in alternatives), False)


_MAX_MERGED = 512
_END = 0  # step code of text with no slot after it (the end of a sentence)
#: A compiled step: draw one of ``texts`` (``count`` of them, 0 when there is no text), then
#: write the slot ``code``/``value``. Templates alternate text and slots, so walking steps
#: takes half the iterations of walking parts.
_Step = tuple[tuple[str, ...], int, int, Any, bool]


def _to_steps(parts: Sequence[_Part]) -> tuple[_Step, ...]:
    """Fold literals and slot-free alternatives into the text drawn before each slot.

    ``"[Start|Begin]" " " {H}`` becomes one step drawing ``"Start "`` or ``"Begin "`` and
    then writing the head: fewer iterations and random draws per sentence, with the same
    distribution (a uniform draw from the product is a uniform draw per group).
    """
    steps: list[_Step] = []
    texts: list[str] = []
    for code, value, capital in parts:
        if code in (_LITERAL, _PICK):
            options = (value,) if code == _LITERAL else value
            if len(texts) * len(options) > _MAX_MERGED:
                steps.append(_step(texts, _END, None, False))
                texts = []
            texts = [a + b for a in texts or [""] for b in options]
            continue
        if code == _CHOICE:
            value = tuple(_to_steps(alternative) for alternative in value)
        steps.append(_step(texts, code, value, capital))
        texts = []
    if texts:
        steps.append(_step(texts, _END, None, False))
    return tuple(steps)


def _step(texts: list[str], code: int, value: Any, capital: bool) -> _Step:
    options = tuple(texts) if texts and texts != [""] else ()
    return (options, len(options), code, value, capital)


def _template(template_id: str, steps: tuple[_Step, ...]) -> _Template:
    """(id, steps, closing texts, their count): the closing text is written after the loop.

    Nearly every sentence ends with text after its last slot ("." or "as tolerated.");
    writing it outside the step loop saves the loop one iteration per sentence.
    """
    if steps and steps[-1][2] == _END:
        return (template_id, steps[:-1], steps[-1][0], steps[-1][1])
    return (template_id, steps, (), 0)


def _compile_line(template_id: str, text: str, sex: str, pools: dict[str, tuple[str, ...]]) -> _Line:
    """Compile one line so that every sentence it writes starts with a capital letter.

    A leading group whose alternatives may be empty or open with a slot is expanded into
    one compiled variant per alternative (the capital then falls on what follows).
    """
    segments = _ALTERNATION.split(text)
    if len(segments) > 1 and not segments[0]:
        alternatives = segments[1].split("|")
        if any(not alt or alt[0] == "{" for alt in alternatives):
            rest = "".join(s if i % 2 == 0 else f"[{s}]" for i, s in enumerate(segments[2:]))
            return tuple(
                t for alt in alternatives for t in _compile_line(template_id, alt + rest, sex, pools)
            )
        segments[1] = "|".join(alt[0].upper() + alt[1:] for alt in alternatives)
    segments[0] = segments[0][:1].upper() + segments[0][1:]
    parts = _compile_segment(template_id, segments[0], sex, True, pools)
    for i in range(1, len(segments), 2):
        parts.append(_compile_group(template_id, segments[i], sex, pools))
        parts += _compile_segment(template_id, segments[i + 1], sex, False, pools)
    return (_template(template_id, _to_steps(parts)),)


def _compile_lines(
    prefix: str, lines: Sequence[str], sex: str, pools: dict[str, tuple[str, ...]]
) -> tuple[_Line, ...]:
    return tuple(_compile_line(f"{prefix}.{i}", line, sex, pools) for i, line in enumerate(lines))


@dataclass(frozen=True)
class _SexBank:
    """Every sentence template, compiled for one sex (pronouns already substituted)."""

    facts: dict[str, dict[str, tuple[_Line, ...]]]
    cross: dict[str, tuple[tuple[_Line, _Line], ...]]
    mentions: dict[str, tuple[_Line, ...]]
    intro: tuple[_Line, ...]
    intro_history: tuple[_Line, ...]


@dataclass(frozen=True)
class TemplateBank:
    """The parsed template file: sentence templates per sex plus the word lists they use."""

    raw: dict[str, Any]
    by_sex: dict[str, _SexBank]
    sections: dict[str, list[str]]
    patient: dict[str, Any]
    qualifiers: dict[str, tuple[str, ...]]
    durations: tuple[str, ...]
    numeric_durations: tuple[str, ...]
    list_slot: dict[str, str]
    vitals: dict[str, Any]
    demographics: dict[str, list[str]]
    exam_findings: frozenset[str]

    def lines(self) -> list[tuple[str, str]]:
        """(where, text) of every sentence template line, for checks and counts."""
        raw = self.raw
        out = [
            (f"{kind}.{section}", t)
            for kind, by in raw["facts"].items()
            for section, ts in by.items()
            for t in ts
        ]
        out += [
            (f"cross.{kind}", t)
            for kind, pairs in raw["cross_sentence"].items()
            for pair in pairs
            for t in pair
        ]
        out += [(f"mention.{kind}", t) for kind, ts in raw["mentions"].items() for t in ts]
        out += [("intro", t) for t in raw["patient"]["intro"]]
        out += [("intro_history", t) for t in raw["patient"]["intro_with_history"]]
        return out

    def count(self) -> int:
        """Number of distinct phrasings over all lines (groups multiplied out; word pools not counted)."""
        return sum(count_phrasings(text) for _, text in self.lines())


def _durations(spec: dict[str, Any]) -> tuple[str, ...]:
    """Durations that read well after "for", "over the past", before "ago" and "of"."""
    out = [f"{n} {unit}" for unit, (low, high) in spec["ranges"].items() for n in range(low, high + 1)]
    return tuple(out + list(spec["words"]))


def _onsets(spec: dict[str, Any], durations: Sequence[str], numeric: Sequence[str]) -> tuple[str, ...]:
    """Clause-final time expressions: "since yesterday", "for the past 3 days", "x 5 days"."""
    out = list(spec["fixed"])
    for pattern in spec["patterns"]:
        if "{ndur}" in pattern:
            out += [pattern.format(ndur=d) for d in numeric]
        else:
            out += [pattern.format(duration=d) for d in durations]
    return tuple(out)


def _list_slots(facts: dict[str, dict[str, list[str]]]) -> dict[str, str]:
    """Which slot of each fact kind may hold a list ("T", "H" or ""); all its lines must agree."""
    slots: dict[str, str] = {}
    for kind, by_section in facts.items():
        if kind not in FACT_RELATION:
            raise UserInputError(f"templates: unknown fact kind {kind!r}; valid: {', '.join(FACT_RELATION)}")
        found = {
            "".join(sorted({s[0] for s in _SLOT.findall(text) if s in ("H+", "T+")}))
            for texts in by_section.values()
            for text in texts
        }
        if len(found) != 1 or len(next(iter(found))) > 1:
            raise UserInputError(f"templates: fact kind {kind!r} mixes list slots {sorted(found)}")
        slots[kind] = found.pop()
    return slots


def _compile_bank(raw: dict[str, Any], sex: str, pools: dict[str, tuple[str, ...]]) -> _SexBank:
    return _SexBank(
        facts={
            kind: {
                section: _compile_lines(f"{kind}.{section}", texts, sex, pools)
                for section, texts in by.items()
            }
            for kind, by in raw["facts"].items()
        },
        cross={
            kind: tuple(
                (
                    _compile_line(f"cross.{kind}.{i}a", a, sex, pools),
                    _compile_line(f"cross.{kind}.{i}b", b, sex, pools),
                )
                for i, (a, b) in enumerate(pairs)
            )
            for kind, pairs in raw["cross_sentence"].items()
        },
        mentions={
            kind: _compile_lines(f"mention.{kind}", texts, sex, pools)
            for kind, texts in raw["mentions"].items()
        },
        intro=_compile_lines("intro", raw["patient"]["intro"], sex, pools),
        intro_history=_compile_lines("intro_history", raw["patient"]["intro_with_history"], sex, pools),
    )


@functools.lru_cache(maxsize=4)
def load_templates(path: str | None = None) -> TemplateBank:
    """Read and compile the template file once per process."""
    source = Path(path) if path else TEMPLATES_PATH
    raw = yaml.load(source.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    durations = _durations(raw["time"]["durations"])
    numeric = tuple(d for d in durations if d[0].isdigit())
    pools = {
        "duration": durations,
        "ndur": numeric,
        "onset": _onsets(raw["time"]["onsets"], durations, numeric),
        "followup": tuple(raw["time"]["followup"]),
        **{name: tuple(words) for name, words in raw["phrases"].items()},
    }
    vitals = dict(raw["vitals"])
    vitals["templates"] = tuple(v for t in raw["vitals"]["templates"] for v in expand_alternatives(t))
    return TemplateBank(
        raw=raw,
        by_sex={sex: _compile_bank(raw, sex, pools) for sex in _PRONOUNS},
        sections=raw["sections"],
        patient=raw["patient"],
        qualifiers={key: tuple(words) for key, words in raw["qualifiers"].items()},
        durations=durations,
        numeric_durations=numeric,
        list_slot=_list_slots(raw["facts"]),
        vitals=vitals,
        demographics=raw["demographics"],
        exam_findings=frozenset(raw["exam_findings"]),
    )


# --------------------------------------------------------------------------- runtime records


class _Term:
    """A concept as the generator uses it: its surface forms under the filter, ready to draw.

    ``forms[bisect(cumulative, u)]`` draws a surface form with the configured abbreviation
    rate from one random number; ``capitals`` holds the sentence-initial forms. Terms hash
    by identity, which keeps the per-note ``used`` set cheap.
    """

    __slots__ = (
        "name",
        "type",
        "forms",
        "capitals",
        "cumulative",
        "dose",
        "sex",
        "ages",
        "fetal",
        "exam",
        "unstable",
        "vital_sign",
    )

    def __init__(
        self, concept: Concept, plain: list[str], abbreviations: list[str], abbreviation_rate: float
    ):
        self.name = concept.name
        self.type = concept.type
        self.dose = f" {concept.dose}" if concept.dose else ""
        weights = _form_weights(concept.name, plain, abbreviations, abbreviation_rate)
        self.forms = tuple(form for form, _ in weights)
        self.capitals = tuple(capitalize(form) for form in self.forms)
        total = sum(weight for _, weight in weights)
        self.cumulative = tuple(itertools.accumulate(weight / total for _, weight in weights[:-1]))
        self.sex: str | None = None
        self.ages = _ADULT
        self.fetal = False
        self.exam = False
        self.unstable = False
        self.vital_sign = ""


def _form_weights(
    name: str, plain: list[str], abbreviations: list[str], rate: float
) -> list[tuple[str, float]]:
    """Abbreviations share ``rate``; the canonical name gets an extra half of the plain share."""
    plain_share = 1.0 - rate if abbreviations and plain else (1.0 if plain else 0.0)
    weights: list[tuple[str, float]] = []
    if plain:
        boost = 0.5 if plain[0] == name and len(plain) > 1 else 0.0
        for i, form in enumerate(plain):
            weights.append((form, plain_share * ((1 - boost) / len(plain) + (boost if i == 0 else 0.0))))
    for form in abbreviations:
        weights.append((form, (1.0 - plain_share) / len(abbreviations)))
    return weights


def capitalize(form: str) -> str:
    """Capitalize a sentence-initial form, but leave "eGFR" or "pH" as written."""
    if form[:1].islower() and not (len(form) > 1 and form[1].isupper()):
        return form[0].upper() + form[1:]
    return form


def _is_given_once(concept: Concept) -> bool:
    """Vaccines and immune globulins are administered, not taken daily: they get their own templates."""
    lowered = concept.name.lower()
    return any(word in lowered for word in ("vaccine", "toxoid", "immune globulin", "immunization"))


#: Internal edge: (id, kind, head, tail, qualifier). Tuples hash in C, unlike dataclasses.
_Fact = tuple[int, str, "_Term", "_Term", "str | None"]
#: A planned fact kind for one disease: (kind, its compatible facts, list slot).
_Option = tuple[str, tuple[_Fact, ...], str]
#: A planned sentence: (operation, template table or text, heads, tails, qualifier, negated,
#: dose, relation written between heads and tails or None).
_Sentence = tuple[int, Any, Sequence["_Term"], Sequence["_Term"], "str | None", bool, bool, "str | None"]
_TEMPLATE_OP, _CROSS_OP, _CC_OP, _TEXT_OP = range(4)
_INTRO, _MENTIONS = "intro", "mentions"  # keys of a sex's routes besides the fact kinds
_HPI_SECTION, _VITALS_SECTION, _CC_SECTION = (_SECTION_INDEX[s] for s in ("hpi", "vitals", "chief_complaint"))
_ASSESSMENT_SECTION, _PLAN_SECTION, _DISCHARGE_SECTION = (
    _SECTION_INDEX[s] for s in ("assessment", "plan", "discharge")
)
_NO_SENTENCES = ((),) * len(SECTION_ORDER)
#: Index permutations of small option sets: one random draw orders a whole set.
_PERMUTATIONS = [tuple(itertools.permutations(range(k))) for k in range(7)]


_NEXT = (1).__add__
_ENTITY_IDS: list[str] = [f"T{i}" for i in range(1, 129)]
_RELATION_IDS: list[str] = [f"R{i}" for i in range(1, 65)]


def _ids(table: list[str], prefix: str, n: int) -> list[str]:
    while len(table) < n:
        table.append(f"{prefix}{len(table) + 1}")
    return table


class _Note:
    """Accumulates text pieces; entity offsets are computed once, when the note is finished.

    Not tracking a running offset on every append keeps the hot path to a list append.
    """

    __slots__ = ("pieces", "marks", "links", "template_ids", "words", "bank")

    def __init__(self, words: dict[str, str], bank: _SexBank) -> None:
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


class _Band:
    """The terms a patient of one sex and age band may have, grouped the way planning draws them.

    Computed once per band, so no note re-checks sex and age constraints term by term.
    """

    __slots__ = (
        "allowed",
        "diseases",
        "reported",
        "exam_findings",
        "procedures",
        "labs",
        "prevent_facts",
        "options",
    )

    def __init__(self, sex: str, age: int, terms: Sequence[_Term], prevent_facts: Sequence[_Fact]) -> None:
        self.allowed = frozenset(
            t for t in terms if (t.sex is None or t.sex == sex) and t.ages[0] <= age <= t.ages[1]
        )
        ordinary = [t for t in terms if t in self.allowed and not t.fetal]
        self.diseases = [t for t in ordinary if t.type == "Disease"]
        self.reported = [t for t in ordinary if t.type == "Symptom" and not t.exam]
        self.exam_findings = [t for t in ordinary if t.type == "Symptom" and t.exam]
        self.procedures = [t for t in ordinary if t.type == "Procedure"]
        self.labs = [t for t in ordinary if t.type == "Lab_Test"]
        self.prevent_facts = tuple(f for f in prevent_facts if f[2] in self.allowed and f[3] in self.allowed)
        self.options: dict[_Term, tuple[_Option, ...]] = {}  # filled by MedicalTextGenerator._fact_options


def _routes(bank: _SexBank) -> dict[str, Any]:
    """Per fact kind, the (section index, templates) it may be written in; plus intros, mentions.

    Templates come as flat tables (see :func:`_flat`) so that choosing one is one draw.
    """
    routes: dict[str, Any] = {
        kind: tuple((_SECTION_INDEX[section], _flat(lines)) for section, lines in by_section.items())
        for kind, by_section in bank.facts.items()
    }
    routes[_INTRO] = (_flat(bank.intro), _flat(bank.intro_history))
    routes[_MENTIONS] = {kind: _flat(lines) for kind, lines in bank.mentions.items()}
    return routes


_MAX_REPEAT = 48


def _flat(lines: Sequence[_Line]) -> tuple[_Template, ...]:
    """One table of templates in which every line has the same total weight.

    A line is one phrasing or several (when it opens with a group), so a line of k
    variants repeats each of them ``lcm/k`` times: drawing one entry of the table is then
    drawing a line uniformly and one of its variants uniformly, with one random number.
    """
    unit = min(math.lcm(*(len(line) for line in lines)), _MAX_REPEAT)
    return tuple(
        template for line in lines for template in line for _ in range(max(1, round(unit / len(line))))
    )


class _Plan:
    """What one note will say, gathered section by section before anything is written."""

    __slots__ = ("band", "routes", "used", "stated", "sections", "asserted", "random")

    def __init__(
        self, band: _Band, routes: dict[str, Any], used: set[_Term], random: Callable[[], float]
    ) -> None:
        self.band = band
        self.routes = routes
        self.used = used  # every term the note names: distractors must be others
        self.stated: set[int] = set()  # ids of the prevention facts already planned
        self.sections: list[list[_Sentence]] = list(map(list, _NO_SENTENCES))  # one empty list per section
        self.asserted: list[_Term] = []  # symptoms stated as present: intro and vitals follow them
        self.random = random

    def add(self, section: int, sentence: _Sentence) -> None:
        """Narrative sections keep the planned order; others get a random position.

        Inserting each sentence at a uniformly drawn position yields a uniformly shuffled
        section, without sorting or shuffling afterwards.
        """
        sentences = self.sections[section]
        if section in _NARRATIVE_SECTIONS:
            sentences.append(sentence)
        else:
            sentences.insert(int(self.random() * (len(sentences) + 1)), sentence)

    def note_symptoms(self, terms: Sequence[_Term]) -> None:
        self.asserted += [t for t in terms if t.type == "Symptom"]

    def mention(
        self, section: str, kind: str, terms: Sequence[_Term], negated: bool = False, dose: bool = False
    ) -> None:
        """Plan a sentence naming ``terms`` without any relation."""
        lines = self.routes[_MENTIONS][kind]
        self.add(_SECTION_INDEX[section], (_TEMPLATE_OP, lines, terms, (), None, negated, dose, None))


# --------------------------------------------------------------------------- the generator


class MedicalTextGenerator:
    """Generate annotated clinical notes whose every relation is a knowledge-base fact.

    Args:
        seed: seed of the generator's own :class:`random.Random`.
        complexity: ``"simple"``, ``"complex"`` or a :class:`NoteOptions`.
        knowledge_base: defaults to the packaged knowledge base.
        surface_form_filter: keeps only surface forms for which it returns True (the
            builder uses it to hold names out of training for ``test_unseen``).
        id_prefix: prefix of generated document ids (``doc-000001``, ...).
        **overrides: any :class:`NoteOptions` field, e.g. ``abbreviation_rate=0.3``.
    """

    def __init__(
        self,
        seed: int = 42,
        complexity: str | NoteOptions = "simple",
        knowledge_base: KnowledgeBase | None = None,
        surface_form_filter: Callable[[str], bool] | None = None,
        id_prefix: str = "doc-",
        **overrides: Any,
    ) -> None:
        if isinstance(complexity, NoteOptions):
            options = complexity
        elif complexity in COMPLEXITY_PRESETS:
            options = COMPLEXITY_PRESETS[complexity]
        else:
            raise UserInputError(f"unknown complexity {complexity!r}; valid: {', '.join(COMPLEXITY_PRESETS)}")
        unknown = set(overrides) - set(NoteOptions.__dataclass_fields__)
        if unknown:
            raise UserInputError(
                f"unknown option(s) {sorted(unknown)}; valid: {sorted(NoteOptions.__dataclass_fields__)}"
            )
        self.options = replace(options, **overrides) if overrides else options
        self.seed = seed
        self.id_prefix = id_prefix
        self.rng = random.Random(seed)
        self._random = self.rng.random
        self.kb = knowledge_base or load_knowledge_base()
        self.templates = load_templates()
        self._count = 0
        self._index_knowledge(surface_form_filter)

    def restart(self, seed: int) -> None:
        """Continue as a generator newly made with ``seed`` (and the same other arguments) would.

        Building the indexes costs tens of milliseconds, as much as writing a thousand notes;
        the builder starts a new random stream per shard and reuses them. Everything else a
        generator keeps is a cache computed from the knowledge base, the filter and the options,
        never from the random stream (``tests/test_generator.py`` checks the notes are identical).
        """
        self.seed = seed
        self.rng.seed(seed)
        self._count = 0

    # ------------------------------------------------------------------ set-up

    def _index_knowledge(self, keep: Callable[[str], bool] | None) -> None:
        """Everything that depends only on the knowledge base, the filter and the options."""
        self._index_terms(keep)
        self._index_facts()
        self._index_layout()

    def _index_terms(self, keep: Callable[[str], bool] | None) -> None:
        """Drawable surface forms (those ``keep`` allows) and constraints of every concept."""
        self._terms: dict[str, _Term] = {}
        rate = self.options.abbreviation_rate
        excluded = tuple(self.templates.demographics.get("excluded") or ())
        for concept in self.kb.concepts.values():
            if any(k in concept.name.lower() for k in excluded):
                continue
            abbreviations = set(concept.abbreviations)
            forms = [f for f in concept.surface_forms if keep is None or keep(f)]
            if forms:
                plain = [f for f in forms if f not in abbreviations]
                term = _Term(concept, plain, [f for f in forms if f in abbreviations], rate)
                self._constrain(term)
                self._terms[concept.name] = term
        self._sorted_terms = sorted(self._terms.values(), key=lambda t: t.name)
        self._age_cuts = sorted(
            {a for t in self._sorted_terms for a in (t.ages[0], t.ages[1] + 1)} - {18, 93}
        )
        self._bands: dict[tuple[str, int], _Band] = {}

    def _index_facts(self) -> None:
        """Facts by the disease they are about; the diseases a note can be about."""
        self._facts_of: dict[str, list[_Fact]] = {}
        for index, edge in enumerate(self.kb.edges):
            head, tail = self._terms.get(edge.head), self._terms.get(edge.tail)
            if head is not None and tail is not None:
                disease = head.name if edge.relation == "causes" else tail.name
                fact = (index, self._fact_kind(edge, head, tail), head, tail, edge.qualifier)
                self._facts_of.setdefault(disease, []).append(fact)
        self._diseases = [
            t for t in self._sorted_terms if t.type == "Disease" and not t.fetal and t.name in self._facts_of
        ]
        if not self._diseases:
            raise UserInputError("no disease with usable facts: the surface-form filter removed everything")
        prevent = (f for facts in self._facts_of.values() for f in facts if FACT_RELATION[f[1]] == "prevents")
        self._prevent_facts = sorted(prevent, key=itemgetter(0))
        self._shared_options: dict[_Term, tuple[tuple[_Option, ...], bool]] = {}
        self._lab_targets = {
            term: frozenset(
                self._terms[e.tail] for e in self.kb.edges_from.get(term.name, ()) if e.tail in self._terms
            )
            for term in self._sorted_terms
            if term.type == "Lab_Test"
        }

    def _index_layout(self) -> None:
        """Template tables per sex and kind, cross-sentence sections, section headers."""
        self._routes = {sex: _routes(bank) for sex, bank in self.templates.by_sex.items()}
        self._cross_rate = self.options.cross_sentence_rate
        self._cross_section = {
            kind: _SECTION_INDEX["labs" if kind == "indicates_lab" else "assessment"]
            for kind in self.templates.raw["cross_sentence"]
        }
        #: header variants per section, ending with " " (inline items) or a newline (listed items)
        self._headers = {
            name: (tuple(h + " " for h in headers), tuple(h + "\n" for h in headers))
            for name, headers in self.templates.sections.items()
        }

    def _constrain(self, term: _Term) -> None:
        """Sex, age, role and vital-sign flags from the keyword lists of the template file."""
        lowered = term.name.lower()
        demographics = self.templates.demographics

        def matches(key: str) -> bool:
            return any(k in lowered for k in demographics.get(key) or ())

        if matches("female"):
            term.sex = "female"
        elif matches("male"):
            term.sex = "male"
        for key, ages in (
            ("reproductive_age", (19, 44)),
            ("young_adult", (18, 30)),
            ("older_adult", (50, 92)),
        ):
            if matches(key):
                term.ages = ages
        if matches("fetal"):
            term.fetal, term.sex, term.ages = True, "female", (19, 44)
        vitals = self.templates.vitals
        term.exam = term.type == "Symptom" and term.name in self.templates.exam_findings
        term.unstable = term.type == "Disease" and any(k in lowered for k in vitals["skip_if"])
        if term.type == "Symptom":
            term.vital_sign = next((sign for sign in _VITAL_SIGNS if term.name in vitals["signs"][sign]), "")

    def _fact_kind(self, edge: Edge, head: _Term, tail: _Term) -> str:
        if edge.relation == "causes":
            return "causes_exam" if tail.exam else "causes"
        if edge.relation == "indicates":
            if head.type == "Lab_Test":
                return "indicates_lab"
            return "indicates_exam" if head.exam else "indicates_symptom"
        if edge.relation == "prevents":
            if head.type == "Procedure":
                return "prevents_procedure"
            return "prevents_vaccine" if _is_given_once(self.kb.concepts[head.name]) else "prevents_drug"
        return edge.relation

    def _band(self, sex: str, age: int) -> _Band:
        """Terms compatible with a patient of this sex and age band (cached per band)."""
        key = (sex, bisect(self._age_cuts, age))
        band = self._bands.get(key)
        if band is None:
            band = self._bands[key] = _Band(sex, age, self._sorted_terms, self._prevent_facts)
        return band

    def _fact_options(self, disease: _Term, band: _Band) -> tuple[_Option, ...]:
        """(kind, compatible facts, list slot) about ``disease`` for a patient of ``band``.

        Cached in the band. Most diseases have no sex- or age-specific fact: their options
        are computed once and shared by all bands. No vaccine is planned against the disease
        the note is about: one does not vaccinate against the infection being treated.
        """
        shared = self._shared_options.get(disease)
        if shared is None:
            shared = self._shared_options[disease] = self._options_for(disease, None)
        options, constrained = shared
        if constrained:
            options, _ = self._options_for(disease, band.allowed)
        if band.prevent_facts and not any(FACT_RELATION[option[0]] == "prevents" for option in options):
            options += ((_PREVENTS_ANY, band.prevent_facts, ""),)
        band.options[disease] = options
        return options

    def _options_for(
        self, disease: _Term, allowed: frozenset[_Term] | None
    ) -> tuple[tuple[_Option, ...], bool]:
        """Options from the facts allowed (all when ``allowed`` is None); whether any fact is constrained."""
        by_kind: dict[str, list[_Fact]] = {}
        constrained = False
        for fact in self._facts_of.get(disease.name, ()):
            if fact[1] == "prevents_vaccine":
                continue
            constrained = constrained or any(t.sex or t.fetal or t.ages != _ADULT for t in (fact[2], fact[3]))
            if allowed is None or (fact[2] in allowed and fact[3] in allowed):
                by_kind.setdefault(fact[1], []).append(fact)
        list_slot = self.templates.list_slot
        options = tuple((kind, tuple(facts), list_slot[kind]) for kind, facts in sorted(by_kind.items()))
        return options, constrained

    # ------------------------------------------------------------------ random helpers

    def _choice(self, items: Sequence[Any]) -> Any:
        """``rng.choice`` without its overhead (a third of generation time otherwise)."""
        return items[int(self._random() * len(items))]

    def _randint(self, low: int, high: int) -> int:
        return low + int(self._random() * (high - low + 1))

    def _sample(self, items: Sequence[Any], k: int) -> list[Any]:
        """``k`` distinct items in random order (a partial Fisher-Yates shuffle)."""
        pool = list(items)
        n = len(pool)
        r = self._random
        for i in range(min(k, n)):
            j = i + int(r() * (n - i))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]

    def _pick(self, pool: Sequence[_Term], exclude: set[_Term], k: int) -> list[_Term]:
        """Up to ``k`` random terms of ``pool`` not in ``exclude``, which they then join."""
        picked: list[_Term] = []
        r, n = self._random, len(pool)
        if not n:
            return picked
        for _ in range(k * 4):
            candidate = pool[int(r() * n)]
            if candidate not in exclude:
                exclude.add(candidate)
                picked.append(candidate)
                if len(picked) == k:
                    break
        return picked

    # ------------------------------------------------------------------ planning a note

    def generate_clinical_note(self, doc_id: str | None = None) -> Document:
        """One annotated note; successive calls continue the same random stream."""
        self._count += 1
        r = self._random
        opts = self.options
        primary = self._diseases[int(r() * len(self._diseases))]
        sex, age, words = self._new_patient(primary)
        band = self._band(sex, age)
        used: set[_Term] = {primary}
        diseases = [primary]
        low, high = opts.comorbidities
        n_comorbid = low + int(r() * (high - low + 1))
        if n_comorbid:
            diseases += [d for d in self._pick(band.diseases, used, n_comorbid) if d.name in self._facts_of]
        plan = _Plan(band, self._routes[sex], used, r)
        for disease in diseases:
            self._plan_facts(plan, disease, diseases)
        self._plan_mentions(plan)
        if r() < opts.vitals_rate and not any(term.unstable for term in used):
            vitals = self._vitals_text({term.vital_sign for term in plan.asserted})
            plan.add(_VITALS_SECTION, (_TEXT_OP, vitals, (), (), None, False, False, None))
        note = _Note(words, self.templates.by_sex[sex])
        self._write(note, plan.sections)
        doc_id = doc_id or f"{self.id_prefix}{self._count:06d}"
        return note.finish(doc_id, {"seed": self.seed, "index": self._count, "templates": note.template_ids})

    def _new_patient(self, disease: _Term) -> tuple[str, int, dict[str, str]]:
        r = self._random
        sex = disease.sex or ("female" if r() < 0.5 else "male")
        low, high = disease.ages
        age = low + int(r() * (high - low + 1))
        words = {
            "age": _AGE_WORDS[age],
            "an_age": _AN_AGE_WORDS[age],
            "sex": self._choice(self.templates.patient[sex]),
            "sx": "F" if sex == "female" else "M",
        }
        return sex, age, words

    def _plan_facts(self, plan: _Plan, disease: _Term, diseases: list[_Term]) -> None:
        """Plan the facts stated about one disease; each fact becomes one sentence.

        A sentence states facts that share a head (a disease and its symptoms) or a tail
        (symptoms that point to a disease), so every head/tail pair it writes is an edge.
        Only prevention facts can come up twice in a note (a comorbidity's own and one
        drawn from all prevention facts), so only they are checked against ``stated``.
        """
        r = self._random
        opts = self.options
        options = plan.band.options.get(disease) or self._fact_options(disease, plan.band)
        n = opts.min_facts + int(r() * (opts.max_facts - opts.min_facts + 1))
        for kind, facts, list_slot in self._ordered(options, n):
            if list_slot == "T":
                heads, tails = (disease,), [f[3] for f in self._sample(facts, 1 + int(r() * opts.max_list))]
                plan.note_symptoms(tails)
                qualifier = None
            elif list_slot == "H":
                heads, tails = [f[2] for f in self._sample(facts, 1 + int(r() * opts.max_list))], (disease,)
                plan.note_symptoms(heads)
                qualifier = None
            else:
                fact = facts[int(r() * len(facts))]
                if kind == _PREVENTS_ANY:
                    if r() < 0.5:
                        continue  # prevention unrelated to the note's diseases: only now and then
                    kind = fact[1]
                    if kind == "prevents_vaccine" and fact[3] in diseases:
                        continue  # no vaccine against the infection the patient has now
                if kind in _PREVENTION_KINDS:
                    if fact[0] in plan.stated:
                        continue
                    plan.stated.add(fact[0])
                heads, tails, qualifier = (fact[2],), (fact[3],), fact[4]
            plan.used.update(heads, tails)
            relation = FACT_RELATION[kind]
            if self._cross_rate and kind in self._cross_section and r() < self._cross_rate:
                plan.add(
                    self._cross_section[kind],
                    (_CROSS_OP, kind, heads, tails, qualifier, False, False, relation),
                )
            else:
                routes = plan.routes[kind]
                section, lines = routes[int(r() * len(routes))]
                plan.add(section, (_TEMPLATE_OP, lines, heads, tails, qualifier, False, False, relation))

    def _ordered(self, items: Sequence[Any], n: int) -> Sequence[Any]:
        """``n`` of ``items`` in random order: one draw from a permutation table for small sets."""
        if len(items) < len(_PERMUTATIONS):
            permutations = _PERMUTATIONS[len(items)]
            return [items[i] for i in permutations[int(self._random() * len(permutations))][:n]]
        return self._sample(items, n)

    def _plan_mentions(self, plan: _Plan) -> None:
        """Context sentences without relations: intro, negations, history, meds, labs."""
        opts = self.options
        r = self._random
        band, used = plan.band, plan.used
        reported = list(dict.fromkeys(t for t in plan.asserted if not t.exam))
        if opts.full_sections:
            complaint = reported[:2] or self._pick(band.reported, used, 1)
            if complaint:
                plan.add(_CC_SECTION, (_CC_OP, None, complaint, (), None, False, False, None))
                plan.asserted += complaint
        history: list[_Term] = []
        if opts.full_sections or r() < 0.5:
            history = self._pick(band.diseases, used, 1 + int(r() * opts.max_list))
        intro_lines, history_lines = plan.routes[_INTRO]
        if history:
            intro = (_TEMPLATE_OP, history_lines, history, (), None, False, False, None)
        else:
            symptoms = reported[: opts.max_list] or self._pick(band.reported, used, 1)
            plan.asserted += symptoms
            intro = (_TEMPLATE_OP, intro_lines, symptoms, (), None, False, False, None)
        plan.sections[_HPI_SECTION].insert(0, intro)
        if r() < opts.negation_rate:
            self._plan_negations(plan)
        if r() < opts.distractor_rate:
            self._plan_distractors(plan, history)
        if r() < opts.followup_rate:
            plan.mention("plan", "followup", ())

    def _plan_negations(self, plan: _Plan) -> None:
        """Negated mentions: entities with no relation, never asserted elsewhere in the note."""
        r = self._random
        opts = self.options
        exam = opts.full_sections and r() < 0.4
        pool = plan.band.exam_findings if exam else plan.band.reported
        negated = self._pick(pool, plan.used, 1 + int(r() * opts.max_list))
        if negated:
            section, kind = ("exam", "negated_exam") if exam else ("hpi", "negated_symptom")
            plan.mention(section, kind, negated, negated=True)
        if opts.full_sections and r() < opts.negation_rate:
            disease = self._pick(plan.band.diseases, plan.used, 1)
            if disease:
                plan.mention("assessment", "negated_disease", disease, negated=True)

    def _plan_distractors(self, plan: _Plan, history: list[_Term]) -> None:
        """Mentions without a relation: home medications, past procedures, normal or pending labs."""
        full = self.options.full_sections
        band, used = plan.band, plan.used
        kinds = ("medication", "normal_lab", "procedure_history", "pending")
        for kind in kinds if full else (self._choice(kinds),):
            if kind == "medication":  # treatments of the past history, named or not
                history = history or self._pick(
                    band.diseases, used, 1 + int(self._random() * self.options.max_list)
                )
                drugs = self._home_medications(band, history, used)
                if drugs:
                    plan.mention("medications" if full else "hpi", kind, drugs, dose=True)
            elif kind == "procedure_history":
                procedures = self._pick(band.procedures, used, 1)
                if procedures:
                    plan.mention("history" if full else "hpi", kind, procedures)
            else:
                labs = self._pick(band.labs, used, 1 + int(self._random() * self.options.max_list))
                labs = [lab for lab in labs if self._lab_targets[lab].isdisjoint(used)]
                if labs:
                    plan.mention("labs", kind, labs)

    def _home_medications(self, band: _Band, history: list[_Term], used: set[_Term]) -> list[_Term]:
        """Home medications are true treatments of the listed history, written without relation.

        Drugs only given intravenously are not home medications.
        """
        drugs = []
        allowed = band.allowed
        for disease in history:
            treatments = [
                f[2]
                for f in self._facts_of.get(disease.name, ())
                if f[1] == "treats" and f[2] not in used and f[2] in allowed and "intraven" not in f[2].dose
            ]
            if treatments:
                drug = self._choice(treatments)
                used.add(drug)
                drugs.append(drug)
        return drugs

    def _vitals_text(self, signs: set[str]) -> str:
        """A vitals line whose values agree with the signs the note asserts.

        Temperature >= 38.0 °C only with an asserted fever, a heart rate over 100 only with
        asserted tachycardia, and so on; notes about conditions that derange vitals in ways
        not modelled here (shock, hypertensive emergency, heart block, ...) get no vitals.
        """
        r, randint = self._random, self._randint
        spec = self.templates.vitals
        state = "hyperthermia" if "hyperthermia" in signs else "fever" if "fever" in signs else "normal"
        low, high = _TEMP_C[state]
        celsius = round(low + r() * (high - low), 1)
        if r() < 0.7:
            temp = f"{celsius:.1f}{self._choice(spec['celsius'])}"
        else:
            temp = f"{celsius * 9 / 5 + 32:.1f}{self._choice(spec['fahrenheit'])}"
        breathing = "tachypnea" if "tachypnea" in signs else "bradypnea" if "bradypnea" in signs else "normal"
        systolic = randint(*_SYSTOLIC)
        values = {
            "temp": temp,
            "febrile": f"febrile to {temp}" if state != "normal" else "afebrile",
            "hr": randint(*_HEART_RATE["tachycardia" if "tachycardia" in signs else "normal"]),
            "bp": f"{systolic}/{min(randint(*_DIASTOLIC), systolic - 30)}",
            "rr": randint(*_RESP_RATE[breathing]),
            "spo2": randint(*_SPO2["bradypnea" if breathing == "bradypnea" else "normal"]),
        }
        text = self._choice(spec["templates"]).format_map(values)
        return text[0].upper() + text[1:]

    # ------------------------------------------------------------------ writing a note

    def _write(self, note: _Note, sections: list[list[_Sentence]]) -> None:
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
                if sentence[0] == _TEMPLATE_OP:
                    templates = sentence[1]
                    template_id, steps, closing, count = templates[int(r() * len(templates))]
                    template_ids.append(template_id)
                    head_marks: list[int] = []
                    tail_marks: list[int] = []
                    emit(note, steps, sentence, head_marks, tail_marks)
                    relation = sentence[7]
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

    def _write_special(self, note: _Note, sentence: _Sentence) -> None:
        """Sentences that are not one template: cross-sentence facts, chief complaint, vitals."""
        op = sentence[0]
        if op == _CROSS_OP:
            self._cross_sentence(note, sentence)
        elif op == _CC_OP:
            self._chief_complaint(note, sentence[2])
        else:
            note.pieces.append(sentence[1])

    def _open_section(
        self, note: _Note, index: int, first: bool, headers: bool, listed: bool, merged: bool
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
        note: _Note,
        steps: Sequence[_Step],
        sentence: _Sentence,
        head_marks: list[int],
        tail_marks: list[int],
    ) -> None:
        """The hot loop: per step, a drawn text, then an entity (one inline, lists apart) or a word.

        ``sentence`` carries heads (2), tails (3), qualifier (4) and the negated (5) and
        dose (6) flags; passing it whole keeps this call, made for every sentence, cheap.
        """
        r = self._random
        pieces = note.pieces
        append = pieces.append
        marks = note.marks
        for texts, count, code, value, capital in steps:
            if count:
                append(texts[int(r() * count)] if count > 1 else texts[0])
            if code == _HEAD:
                heads = sentence[2]
                if len(heads) != 1:
                    self._write_list(note, heads, capital, sentence[5], sentence[6], head_marks)
                    continue
                term = heads[0]
                head_marks.append(len(marks))
                marks.append((len(pieces), term.type, sentence[5]))
                k = bisect(term.cumulative, r())
                append(term.capitals[k] if capital else term.forms[k])
                if sentence[6] and term.dose:
                    append(term.dose)
            elif code == _TAIL:
                tails = sentence[3]
                if len(tails) != 1:
                    self._write_list(note, tails, capital, sentence[5], False, tail_marks)
                    continue
                term = tails[0]
                tail_marks.append(len(marks))
                marks.append((len(pieces), term.type, sentence[5]))
                k = bisect(term.cumulative, r())
                append(term.capitals[k] if capital else term.forms[k])
            elif code == _CHOICE:
                self._emit(note, value[int(r() * len(value))], sentence, head_marks, tail_marks)
            elif code:
                word = note.words[value] if code == _WORD else self._qualifier_word(sentence[4])
                append(capitalize(word) if capital else word)

    def _qualifier_word(self, qualifier: str | None) -> str:
        return self._choice(self.templates.qualifiers[qualifier or "abnormal"])

    def _write_list(
        self, note: _Note, terms: Sequence[_Term], capital: bool, negated: bool, dose: bool, out: list[int]
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

    def _cross_sentence(self, note: _Note, sentence: _Sentence) -> None:
        """A first sentence names the tail(s); a later one names the head and refers back."""
        head_marks: list[int] = []
        tail_marks: list[int] = []
        for i, line in enumerate(self._choice(note.bank.cross[sentence[1]])):
            if i:
                note.pieces.append(" ")
            template_id, steps, closing, _ = self._choice(line)
            note.template_ids.append(template_id)
            self._emit(note, steps, sentence, head_marks, tail_marks)
            if closing:
                note.pieces.append(self._choice(closing))
        relation = sentence[7]
        note.links += [(relation, head, tail) for head in head_marks for tail in tail_marks]

    def _chief_complaint(self, note: _Note, symptoms: Sequence[_Term]) -> None:
        note.template_ids.append("chief_complaint")
        self._write_list(note, symptoms, True, False, False, [])
        if self._random() < 0.4:
            note.pieces.append(f" x {self._choice(self.templates.numeric_durations)}")
        note.pieces.append(".")

    # ------------------------------------------------------------------ public API

    def generate_dataset(self, num_samples: int, show_progress: bool = False) -> list[Document]:
        """``num_samples`` notes (seed-compatible API).

        The cyclic garbage collector is paused meanwhile: it would walk every document
        kept so far, again and again (a third of the run time for 10,000 notes), and
        generation creates no reference cycles for it to find.
        """
        with gc_paused(freeze_survivors=True):
            return list(self.iter_documents(num_samples, show_progress=show_progress))

    def iter_documents(self, num_samples: int, show_progress: bool = False) -> Iterator[Document]:
        """Notes one at a time, so a caller can stream millions without holding them all."""
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
            raise UserInputError(f"num_samples must be a positive integer, got {num_samples!r}")
        indices: Iterable[int] = range(num_samples)
        if show_progress:
            from tqdm.auto import tqdm

            indices = tqdm(indices, desc="generating notes", unit="doc")
        for _ in indices:
            yield self.generate_clinical_note()

    @staticmethod
    def save_dataset(
        documents: Iterable[Document], path: str | os.PathLike[str], fmt: str | None = None
    ) -> Path:
        """Write documents atomically as JSON (or JSONL by suffix / ``fmt``)."""
        return save_documents(documents, path, fmt)

    @staticmethod
    def load_dataset(path: str | os.PathLike[str]) -> list[Document]:
        """Read documents saved by :meth:`save_dataset` or in the seed's JSON shape."""
        return load_documents(path)
