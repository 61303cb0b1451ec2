"""Reading and checking the template file (``templates/clinical_notes.yaml``).

The file is read once per process and compiled for each sex (see :mod:`.steps`); every
line is checked as it is compiled, so a mistake in the file (an unknown slot, a fact kind
that mixes list slots, a missing section) is one ``error:`` line naming it, before any
note is written. Augmentation reads the same :class:`TemplateBank`, so both see one file
the same way.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserInputError
from .steps import ALTERNATION, PRONOUNS, SLOT, Line, compile_line, compile_lines

TEMPLATES_PATH = Path(__file__).resolve().parent.parent / "templates" / "clinical_notes.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when PyYAML has it

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
SECTION_INDEX = {name: i for i, name in enumerate(SECTION_ORDER)}

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
#: Top-level keys of the template file, each read by the generator or by augmentation.
REQUIRED_KEYS: tuple[str, ...] = (
    "time",
    "phrases",
    "facts",
    "cross_sentence",
    "mentions",
    "patient",
    "sections",
    "qualifiers",
    "vitals",
    "demographics",
    "exam_findings",
)


def expand_alternatives(text: str) -> list[str]:
    """Every phrasing of a template line: ``"[Start|Begin] {H}."`` -> ``["Start {H}.", "Begin {H}."]``.

    The generator never expands lines (it draws one alternative per group while writing);
    this is for checking and counting phrasings.
    """
    pieces = ALTERNATION.split(text)
    choices = [[piece] if i % 2 == 0 else piece.split("|") for i, piece in enumerate(pieces)]
    variants = ("".join(combo) for combo in itertools.product(*choices))
    return list(dict.fromkeys(v[:1].upper() + v[1:] for v in variants))


def count_phrasings(text: str) -> int:
    """Number of phrasings of a line (product of its group sizes), without expanding it."""
    return math.prod(len(group.split("|")) for group in ALTERNATION.findall(text))


@dataclass(frozen=True)
class SexBank:
    """Every sentence template, compiled for one sex (pronouns already substituted)."""

    facts: dict[str, dict[str, tuple[Line, ...]]]
    cross: dict[str, tuple[tuple[Line, Line], ...]]
    mentions: dict[str, tuple[Line, ...]]
    intro: tuple[Line, ...]
    intro_history: tuple[Line, ...]


@dataclass(frozen=True)
class TemplateBank:
    """The parsed template file: sentence templates per sex plus the word lists they use."""

    raw: dict[str, Any]
    by_sex: dict[str, SexBank]
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
            "".join(sorted({s[0] for s in SLOT.findall(text) if s in ("H+", "T+")}))
            for texts in by_section.values()
            for text in texts
        }
        if len(found) != 1 or len(next(iter(found))) > 1:
            raise UserInputError(f"templates: fact kind {kind!r} mixes list slots {sorted(found)}")
        slots[kind] = found.pop()
    return slots


def _compile_bank(raw: dict[str, Any], sex: str, pools: dict[str, tuple[str, ...]]) -> SexBank:
    return SexBank(
        facts={
            kind: {
                section: compile_lines(f"{kind}.{section}", texts, sex, pools)
                for section, texts in by.items()
            }
            for kind, by in raw["facts"].items()
        },
        cross={
            kind: tuple(
                (
                    compile_line(f"cross.{kind}.{i}a", a, sex, pools),
                    compile_line(f"cross.{kind}.{i}b", b, sex, pools),
                )
                for i, (a, b) in enumerate(pairs)
            )
            for kind, pairs in raw["cross_sentence"].items()
        },
        mentions={
            kind: compile_lines(f"mention.{kind}", texts, sex, pools)
            for kind, texts in raw["mentions"].items()
        },
        intro=compile_lines("intro", raw["patient"]["intro"], sex, pools),
        intro_history=compile_lines("intro_history", raw["patient"]["intro_with_history"], sex, pools),
    )


@functools.lru_cache(maxsize=4)
def load_templates(path: str | None = None) -> TemplateBank:
    """Read and compile the template file once per process."""
    raw = _read(Path(path) if path else TEMPLATES_PATH)
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
        by_sex={sex: _compile_bank(raw, sex, pools) for sex in PRONOUNS},
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


def _read(source: Path) -> dict[str, Any]:
    """The parsed file, or one error naming the file and what is wrong with it."""
    try:
        raw = yaml.load(source.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise UserInputError(f"cannot read template file {source}: {err}") from None
    if not isinstance(raw, dict):
        raise UserInputError(
            f"template file {source}: expected a mapping of sections, got {type(raw).__name__}"
        )
    missing = [key for key in REQUIRED_KEYS if key not in raw]
    if missing:
        raise UserInputError(f"template file {source}: missing section(s) {', '.join(missing)}")
    return raw
