"""Documents <-> model text: the prompt a model reads and the completion it learns to write.

Why this format. Measured on the tiny from-scratch default: a model that *recalls*
entity texts reproduces its training vocabulary (zero on unseen names); one that points
at numbered tokens lands in the right neighbourhood but rarely on the exact token; one
that re-copies the note drifts into fluent invention. All three need an induction-style
circuit that a small model does not form on a CPU budget. So the completion walks the
note word by word, and after each word writes its tag::

    Start<O> metformin<B-Drug><#1><.> for<O> type<B-Disease><#2><t:treats><#1><.> 2<I-Disease> ...

``<B-Type>`` opens entity ``<#k>`` (numbered in order); its relations to *earlier*
entities follow as ``<h:rel><#m>`` (this entity is the head) or ``<t:rel><#m>`` (this
entity is the tail), closed by ``<.>``; ``<I-Type>`` continues it and ``<O>`` is outside.
Every decision is local (the word just read plus what came before), a name never seen
in training is tagged from its context, and offsets are exact because words are the
source's own tokens (:mod:`~odin_medical_ner_re.tokenize`). Any causal LM can write it
freely; the tiny default is decoded with the words forced (:mod:`.inference`), so only
the tags are predicted. The parser never raises: it keeps what it can and counts what
it could not use.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .schema import ENTITY_TYPES, RELATION_TYPES, Document, Entity, Relation
from .tokenize import tokenize

INSTRUCTION = (
    "Tag each word of the clinical note: <O>, or <B-Type> / <I-Type> for the {entity_types} entities. "
    "After <B-Type> comes its number <#k>, then its relations ({relation_types}) to earlier entities as "
    "<h:relation><#m> (it is the head) or <t:relation><#m> (it is the tail), then <.>."
)
OUTSIDE = "<O>"
END = "<.>"
_TAG = r"<[^<>\s]+>"
_CHUNK = re.compile(rf"^(.*?)((?:{_TAG})*)$", re.DOTALL)
_TAGS = re.compile(_TAG)


def begin_tag(entity_type: str) -> str:
    return f"<B-{entity_type}>"


def inside_tag(entity_type: str) -> str:
    return f"<I-{entity_type}>"


def ordinal_tag(number: int) -> str:
    return f"<#{number}>"


def relation_tag(relation_type: str, role: str) -> str:
    """``role`` is ``h`` when the entity being tagged is the head, ``t`` when it is the tail."""
    return f"<{role}:{relation_type}>"


def tag_vocabulary(
    entity_types: Sequence[str] = ENTITY_TYPES, relation_types: Sequence[str] = RELATION_TYPES, max_entities: int = 128
) -> list[str]:
    """Every tag string of the format (the tiny tokenizer makes each one token)."""
    tags = [OUTSIDE, END]
    tags += [t(e) for e in entity_types for t in (begin_tag, inside_tag)]
    tags += [relation_tag(r, role) for r in relation_types for role in ("h", "t")]
    tags += [ordinal_tag(i) for i in range(1, max_entities + 1)]
    return tags


def build_prompt(
    text: str,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
    *,
    with_text: bool = True,
) -> str:
    """The instruction, and the note unless ``with_text`` is False (the forced-word decoder reads it word by word)."""
    instruction = INSTRUCTION.format(
        entity_types=", ".join(entity_types), relation_types=", ".join(relation_types) or "no"
    )
    note = f"\n\nNote:\n{text}" if with_text else ""
    return f"{instruction}{note}\n\nAnswer:\n"


def word_tags(doc: Document) -> list[tuple[str, list[str], list[str]]]:
    """Per source token: (word, predicted tags, tags after the first that are forced when decoding).

    Returned as (word, tags) with the tag list split so callers can mask what a
    forced decoder supplies itself (the entity number after ``<B-Type>``).
    """
    tokens = tokenize(doc.text)
    starts = {start: i for i, (_, start, _) in enumerate(tokens)}
    ends = {end: i for i, (_, _, end) in enumerate(tokens)}
    begins: dict[int, tuple[Entity, int]] = {}
    inside: dict[int, str] = {}
    ordinal: dict[str, int] = {}
    covered = -1
    for entity in sorted(doc.entities, key=lambda e: (e.start, -e.end)):
        first, last = starts.get(entity.start), ends.get(entity.end)
        if first is None or last is None or first <= covered:
            continue  # not on token boundaries, or nested/overlapping: not expressible
        ordinal[entity.id] = len(ordinal) + 1
        begins[first] = (entity, ordinal[entity.id])
        for index in range(first + 1, last + 1):
            inside[index] = entity.type
        covered = last
    relations_at: dict[str, list[tuple[int, str, str]]] = {}
    for relation in doc.relations:
        if relation.head not in ordinal or relation.tail not in ordinal or relation.head == relation.tail:
            continue
        head, tail = ordinal[relation.head], ordinal[relation.tail]
        later, earlier, role = (relation.head, tail, "h") if head > tail else (relation.tail, head, "t")
        relations_at.setdefault(later, []).append((earlier, relation.type, role))
    rows = []
    for index, (word, _, _) in enumerate(tokens):
        if index in begins:
            entity, number = begins[index]
            tags = [begin_tag(entity.type), ordinal_tag(number)]
            for earlier, relation_type, role in sorted(set(relations_at.get(entity.id, []))):
                tags += [relation_tag(relation_type, role), ordinal_tag(earlier)]
            rows.append((word, tags, [ordinal_tag(number)]))
        elif index in inside:
            rows.append((word, [inside_tag(inside[index])], []))
        else:
            rows.append((word, [OUTSIDE], []))
    return [(w, t + ([END] if t[0].startswith("<B-") else []), f) for w, t, f in rows]


def build_completion(doc: Document) -> str:
    return " ".join(word + "".join(tags) for word, tags, _ in word_tags(doc)) + "\n"


def to_prompt_completion(
    doc: Document,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
    *,
    with_text: bool = True,
) -> dict[str, str]:
    """Standard (non-conversational) prompt/completion pair, as TRL's SFTTrainer takes it."""
    prompt = build_prompt(doc.text, entity_types, relation_types, with_text=with_text)
    return {"prompt": prompt, "completion": build_completion(doc)}


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
    unparsed_tags: int = 0
    unaligned_mentions: int = 0
    unknown_labels: int = 0
    dangling_relations: int = 0
    copy_exact: bool = True

    def to_document(self, doc_id: str, text: str) -> Document:
        return Document(doc_id, text, list(self.entities), list(self.relations))

    def counts(self) -> dict[str, int]:
        return {
            "unparsed_tags": self.unparsed_tags,
            "unaligned_mentions": self.unaligned_mentions,
            "unknown_labels": self.unknown_labels,
            "dangling_relations": self.dangling_relations,
            "inexact_copies": int(not self.copy_exact),
        }


def _chunks(completion: str) -> list[tuple[str, list[str]]]:
    out = []
    for chunk in completion.split():
        match = _CHUNK.match(chunk)
        word, tags = (match[1], _TAGS.findall(match[2])) if match else (chunk, [])
        out.append((word, tags))
    return out


def _word_map(words: list[str], source: list[str]) -> tuple[dict[int, int], bool]:
    """Completion word index -> source token index (identity when the words were copied exactly)."""
    if words == source:
        return {i: i for i in range(len(words))}, True
    mapping: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(a=words, b=source, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            mapping[block.a + k] = block.b + k
    return mapping, False


def parse_completion(
    completion: str,
    source_text: str,
    entity_types: Sequence[str] | None = ENTITY_TYPES,
    relation_types: Sequence[str] | None = RELATION_TYPES,
) -> ParseResult:
    """Entities with exact offsets into ``source_text`` and relations from an answer; never raises.

    Words are mapped to the source's tokens (exactly when copied, else by sequence
    alignment); tags that fit no rule count as unparsed, labels outside the given sets
    as unknown, entities on words missing from the source as unaligned, and relations
    to numbers that name no entity as dangling. ``None`` label sets accept any label.
    """
    result = ParseResult()
    tokens = tokenize(source_text)
    chunks = _chunks(completion)
    mapping, result.copy_exact = _word_map([w for w, _ in chunks], [t for t, _, _ in tokens])
    spans: list[list[Any]] = []  # [label, first token, last token, number, relations]
    open_span: list[Any] | None = None
    for index, (_, tags) in enumerate(chunks):
        source_index = mapping.get(index)
        position = 0
        head = tags[0] if tags else None
        if head is None or head == OUTSIDE:
            open_span = None
            position = 1 if head else 0
        elif head.startswith("<I-"):
            label = head[3:-1]
            if open_span is not None and open_span[0] == label and source_index == open_span[2] + 1:
                open_span[2] = source_index
            else:
                result.unparsed_tags += 1
                open_span = None
            position = 1
        elif head.startswith("<B-"):
            label = head[3:-1]
            position = 1
            number = len(spans) + 1
            if position < len(tags) and tags[position].startswith("<#"):
                number = _number(tags[position], number)
                position += 1
            if entity_types is not None and label not in entity_types:
                result.unknown_labels += 1
                open_span = None
            elif source_index is None:
                result.unaligned_mentions += 1
                open_span = None
            else:
                open_span = [label, source_index, source_index, number, []]
                spans.append(open_span)
        position = _read_relations(tags, position, open_span, relation_types, result)
        result.unparsed_tags += sum(1 for tag in tags[position:] if tag != END)
    _emit(spans, tokens, source_text, result)
    return result


def _number(tag: str, default: int) -> int:
    digits = tag[2:-1]
    return int(digits) if digits.isdigit() else default


def _read_relations(
    tags: list[str], position: int, span: list[Any] | None, relation_types: Sequence[str] | None, result: ParseResult
) -> int:
    """Consume ``<h:rel><#m>`` / ``<t:rel><#m>`` pairs after a begin tag; return where reading stopped."""
    while position < len(tags) and tags[position][1:3] in ("h:", "t:"):
        role, label = tags[position][1], tags[position][3:-1]
        target = tags[position + 1] if position + 1 < len(tags) else ""
        position += 2 if target.startswith("<#") else 1
        if not target.startswith("<#") or span is None:
            result.unparsed_tags += 1
        elif relation_types is not None and label not in relation_types:
            result.unknown_labels += 1
        else:
            span[4].append((label, role, _number(target, -1)))
    return position


def _emit(spans: list[list[Any]], tokens: list[tuple[str, int, int]], text: str, result: ParseResult) -> None:
    by_number: dict[int, Entity] = {}
    for label, first, last, number, _ in spans:
        start, end = tokens[first][1], tokens[last][2]
        entity = Entity(f"T{len(result.entities) + 1}", text[start:end], label, start, end)
        result.entities.append(entity)
        by_number.setdefault(number, entity)
    seen: set[tuple[str, str, str]] = set()
    for (_, _, _, _, relations), entity in zip(spans, result.entities, strict=True):
        for label, role, other_number in relations:
            other = by_number.get(other_number)
            if other is None or other is entity:
                result.dangling_relations += 1
                continue
            head, tail = (entity, other) if role == "h" else (other, entity)
            key = (label, head.id, tail.id)
            if key not in seen:
                seen.add(key)
                result.relations.append(Relation(f"R{len(result.relations) + 1}", *key))


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
