"""Documents <-> model text: the prompt a model reads and the completion it learns to write.

Why this format. A small language model that writes entity *texts* learns to reproduce
its training vocabulary and scores near zero on names it never saw. Here the prompt
numbers every token of the note (``@1 Patient @2 is ...``) and the completion points
into it::

    Drug @12 @12
    Disease @15 @17
    treats @12 @15

An entity line is ``Type @first @last`` (token indices, inclusive); a relation line is
``relation @head @tail`` where head and tail are the first token indices of entity
lines. Labels come first so that a line never starts with a marker: tokenizers that
fold the space before a marker into the marker token would otherwise fold the newline. Extraction becomes selection, offsets are recovered exactly from the source
tokens, every line stands alone (a truncated answer loses only its last lines), and
the parser never raises: it keeps what it can and counts what it could not use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .schema import ENTITY_TYPES, RELATION_TYPES, Document, Entity, Relation
from .tokenize import tokenize

MARKER = "@"
INSTRUCTION = (
    "Extract the {entity_types} entities and the {relation_types} relations from the clinical note. "
    "Its tokens are numbered @1, @2, ... Answer one line per entity, 'Type @first @last', "
    "then one line per relation, 'relation @head @tail', using the first token of each argument."
)
# Whitespace before a marker is optional: tokenizers may drop the space before a marker token.
_LINE = re.compile(r"^([^\s@]+)\s*@(\d+)\s*@(\d+)$")


def numbered_text(text: str) -> str:
    """The note as ``@1 tok1 @2 tok2 ...`` (tokens of :func:`~odin_medical_ner_re.tokenize.tokenize`)."""
    return " ".join(f"{MARKER}{i} {token}" for i, (token, _, _) in enumerate(tokenize(text), start=1))


def build_prompt(
    text: str,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
) -> str:
    instruction = INSTRUCTION.format(
        entity_types=", ".join(entity_types), relation_types=", ".join(relation_types) or "no"
    )
    return f"{instruction}\n\nNote: {numbered_text(text)}\n\nAnswer:\n"


def _token_index(tokens: list[tuple[str, int, int]]) -> tuple[dict[int, int], dict[int, int]]:
    starts = {start: i for i, (_, start, _) in enumerate(tokens, start=1)}
    ends = {end: i for i, (_, _, end) in enumerate(tokens, start=1)}
    return starts, ends


def build_completion(doc: Document) -> str:
    """The answer for ``doc``; entities in text order, then relations in document order.

    Entities whose boundaries do not fall on token boundaries cannot be expressed and
    are skipped (never the case for generated notes; see the round-trip test).
    """
    tokens = tokenize(doc.text)
    starts, ends = _token_index(tokens)
    lines: list[str] = []
    first_token: dict[str, int] = {}
    for entity in sorted(doc.entities, key=lambda e: (e.start, e.end)):
        first, last = starts.get(entity.start), ends.get(entity.end)
        if first is None or last is None:
            continue
        first_token[entity.id] = first
        lines.append(f"{entity.type} {MARKER}{first} {MARKER}{last}")
    for relation in doc.relations:
        if relation.head in first_token and relation.tail in first_token:
            lines.append(
                f"{relation.type} {MARKER}{first_token[relation.head]} {MARKER}{first_token[relation.tail]}"
            )
    return "\n".join(lines) + "\n"


def to_prompt_completion(
    doc: Document,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
) -> dict[str, str]:
    """Standard (non-conversational) prompt/completion pair, as TRL's SFTTrainer takes it."""
    return {
        "prompt": build_prompt(doc.text, entity_types, relation_types),
        "completion": build_completion(doc),
    }


def to_messages(
    doc: Document,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
) -> dict[str, list[dict[str, str]]]:
    """Conversational prompt/completion, for models with a chat template."""
    pair = to_prompt_completion(doc, entity_types, relation_types)
    return {
        "prompt": [{"role": "user", "content": pair["prompt"]}],
        "completion": [{"role": "assistant", "content": pair["completion"]}],
    }


@dataclass
class ParseResult:
    """What :func:`parse_completion` recovered, and how much it had to drop."""

    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    unparsed_lines: int = 0
    invalid_spans: int = 0
    unknown_labels: int = 0
    dangling_relations: int = 0

    def to_document(self, doc_id: str, text: str) -> Document:
        return Document(doc_id, text, list(self.entities), list(self.relations))

    @property
    def problems(self) -> int:
        return self.unparsed_lines + self.invalid_spans + self.unknown_labels + self.dangling_relations

    def counts(self) -> dict[str, int]:
        return {
            "unparsed_lines": self.unparsed_lines,
            "invalid_spans": self.invalid_spans,
            "unknown_labels": self.unknown_labels,
            "dangling_relations": self.dangling_relations,
        }


def parse_completion(
    completion: str,
    source_text: str,
    entity_types: Sequence[str] | None = ENTITY_TYPES,
    relation_types: Sequence[str] | None = RELATION_TYPES,
) -> ParseResult:
    """Entities with exact offsets and relations from a model's answer; never raises.

    Lines that match neither shape count as unparsed; spans outside the note or
    reversed, overlapping an earlier entity, or with an unknown label are dropped and
    counted; relations whose arguments are not entity lines count as dangling.
    A label among ``relation_types`` makes a relation line, any other an entity line;
    ``entity_types`` of None accepts any entity label.
    """
    result = ParseResult()
    tokens = tokenize(source_text)
    by_first: dict[int, Entity] = {}
    taken: list[tuple[int, int]] = []
    pending_relations: list[tuple[str, int, int]] = []
    relation_labels = set(relation_types or ())
    for raw_line in completion.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        match = _LINE.match(line)
        if match is None:
            result.unparsed_lines += 1
            continue
        label, first, last = match[1], int(match[2]), int(match[3])
        if label in relation_labels:
            pending_relations.append((label, first, last))
            continue
        if entity_types is not None and label not in entity_types:
            result.unknown_labels += 1
            continue
        if not (1 <= first <= last <= len(tokens)) or any(first <= b and a <= last for a, b in taken):
            result.invalid_spans += 1
            continue
        start, end = tokens[first - 1][1], tokens[last - 1][2]
        entity = Entity(f"T{len(result.entities) + 1}", source_text[start:end], label, start, end)
        result.entities.append(entity)
        by_first[first] = entity
        taken.append((first, last))
    seen: set[tuple[str, str, str]] = set()
    for label, head, tail in pending_relations:
        if head not in by_first or tail not in by_first:
            result.dangling_relations += 1
            continue
        key = (label, by_first[head].id, by_first[tail].id)
        if key in seen:
            continue
        seen.add(key)
        result.relations.append(Relation(f"R{len(result.relations) + 1}", label, key[1], key[2]))
    return result


def annotations(doc: Document) -> tuple[set[tuple[int, int, str]], set[tuple[str, int, int, int, int]]]:
    """Id-free view of a document's annotations (for comparisons and round-trip tests)."""
    by_id = doc.entity_by_id()
    entities = {(e.start, e.end, e.type) for e in doc.entities}
    relations = {
        (r.type, by_id[r.head].start, by_id[r.head].end, by_id[r.tail].start, by_id[r.tail].end)
        for r in doc.relations
        if r.head in by_id and r.tail in by_id
    }
    return entities, relations


def label_names(features: Any) -> tuple[list[str], list[str]]:
    """Entity and relation label names from a dataset's features (for native label sets)."""
    return (
        list(features["entities"].feature["type"].names),
        list(features["relations"].feature["type"].names),
    )
