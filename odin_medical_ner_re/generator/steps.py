"""Compiling a template line into steps the writer walks without parsing anything.

A line such as ``"[Start|Begin] {H} for {T+}."`` becomes, per sex (pronouns resolved),
a tuple of steps: draw one of the texts before a slot, then write the slot. Literals and
``[a|b]`` alternatives without slots are folded into one drawn text, so a sentence costs
few iterations and few random draws. Steps stay plain tuples: the writer unpacks one per
slot of every sentence, and unpacking an exact tuple is the fast path of the interpreter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..errors import UserInputError

# Part codes of a compiled template. A part is (code, value, capitalize).
_LITERAL = 0  # value: text
_PICK = 1  # value: tuple of texts, one drawn ("[a|b]" without slots, {duration}, {onset})
HEAD = 2  # value: "H"; {H}, {H+}, {E}, {E+}
TAIL = 3  # value: "T"; {T}, {T+}
CHOICE = 4  # value: tuple of part tuples, one drawn ("[a|b]" holding slots)
WORD = 5  # value: patient word key (age, an_age, sex, sx)
QUALIFIER = 6  # value: "q"; the lab result word of the fact being stated
_Part = tuple[int, Any, bool]
Template = tuple[str, tuple[Any, ...], tuple[str, ...], int]  # (template id, steps, closing texts, count)
Line = tuple[Template, ...]  # one YAML line; several entries only when it starts with "[...]"

ALTERNATION = re.compile(r"\[([^\[\]]*)\]")
SLOT = re.compile(r"\{([^{}]+)\}")
PRONOUNS: dict[str, dict[str, str]] = {
    "female": {"Pronoun": "She", "pronoun": "she", "possessive": "her", "Possessive": "Her", "object": "her"},
    "male": {"Pronoun": "He", "pronoun": "he", "possessive": "his", "Possessive": "His", "object": "him"},
}
_ENTITY_SLOTS = {"H": HEAD, "E": HEAD, "T": TAIL}
_PATIENT_WORDS = frozenset({"age", "an_age", "sex", "sx"})


def _compile_segment(
    template_id: str, text: str, sex: str, initial: bool, pools: dict[str, tuple[str, ...]]
) -> list[_Part]:
    """Literal and slot parts of text without groups; pronouns become literals for ``sex``."""
    parts: list[_Part] = []
    literal = ""
    position = 0
    for match in SLOT.finditer(text):
        literal += text[position : match.start()]
        position = match.end()
        name = match.group(1)
        at_start = initial and match.start() == 0
        pronoun = PRONOUNS[sex].get(name)
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
            parts.append((QUALIFIER, "q", at_start or base == "q_cap"))
        elif base in _PATIENT_WORDS:
            parts.append((WORD, base, at_start))
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
    return (CHOICE, tuple(tuple(alt) for alt in alternatives), False)


_MAX_MERGED = 512
END = 0  # step code of text with no slot after it (the end of a sentence)
#: A compiled step: draw one of ``texts`` (``count`` of them, 0 when there is no text), then
#: write the slot ``code``/``value``. Templates alternate text and slots, so walking steps
#: takes half the iterations of walking parts.
Step = tuple[tuple[str, ...], int, int, Any, bool]


def _to_steps(parts: Sequence[_Part]) -> tuple[Step, ...]:
    """Fold literals and slot-free alternatives into the text drawn before each slot.

    ``"[Start|Begin]" " " {H}`` becomes one step drawing ``"Start "`` or ``"Begin "`` and
    then writing the head: fewer iterations and random draws per sentence, with the same
    distribution (a uniform draw from the product is a uniform draw per group).
    """
    steps: list[Step] = []
    texts: list[str] = []
    for code, value, capital in parts:
        if code in (_LITERAL, _PICK):
            options = (value,) if code == _LITERAL else value
            if len(texts) * len(options) > _MAX_MERGED:
                steps.append(_step(texts, END, None, False))
                texts = []
            texts = [a + b for a in texts or [""] for b in options]
            continue
        if code == CHOICE:
            value = tuple(_to_steps(alternative) for alternative in value)
        steps.append(_step(texts, code, value, capital))
        texts = []
    if texts:
        steps.append(_step(texts, END, None, False))
    return tuple(steps)


def _step(texts: list[str], code: int, value: Any, capital: bool) -> Step:
    options = tuple(texts) if texts and texts != [""] else ()
    return (options, len(options), code, value, capital)


def _template(template_id: str, steps: tuple[Step, ...]) -> Template:
    """(id, steps, closing texts, their count): the closing text is written after the loop.

    Nearly every sentence ends with text after its last slot ("." or "as tolerated.");
    writing it outside the step loop saves the loop one iteration per sentence.
    """
    if steps and steps[-1][2] == END:
        return (template_id, steps[:-1], steps[-1][0], steps[-1][1])
    return (template_id, steps, (), 0)


def compile_line(template_id: str, text: str, sex: str, pools: dict[str, tuple[str, ...]]) -> Line:
    """Compile one line so that every sentence it writes starts with a capital letter.

    A leading group whose alternatives may be empty or open with a slot is expanded into
    one compiled variant per alternative (the capital then falls on what follows).
    """
    segments = ALTERNATION.split(text)
    if len(segments) > 1 and not segments[0]:
        alternatives = segments[1].split("|")
        if any(not alt or alt[0] == "{" for alt in alternatives):
            rest = "".join(s if i % 2 == 0 else f"[{s}]" for i, s in enumerate(segments[2:]))
            return tuple(t for alt in alternatives for t in compile_line(template_id, alt + rest, sex, pools))
        segments[1] = "|".join(alt[0].upper() + alt[1:] for alt in alternatives)
    segments[0] = segments[0][:1].upper() + segments[0][1:]
    parts = _compile_segment(template_id, segments[0], sex, True, pools)
    for i in range(1, len(segments), 2):
        parts.append(_compile_group(template_id, segments[i], sex, pools))
        parts += _compile_segment(template_id, segments[i + 1], sex, False, pools)
    return (_template(template_id, _to_steps(parts)),)


def compile_lines(
    prefix: str, lines: Sequence[str], sex: str, pools: dict[str, tuple[str, ...]]
) -> tuple[Line, ...]:
    return tuple(compile_line(f"{prefix}.{i}", line, sex, pools) for i, line in enumerate(lines))
