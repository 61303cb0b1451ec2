"""Documents <-> model text: the prompt a model reads and the completion it learns to write.

Why this format. Measured on the tiny from-scratch default: a model that *recalls*
entity texts reproduces its training vocabulary (zero on unseen names); one that points
at numbered tokens lands in the right neighbourhood but rarely on the exact token; one
that re-copies the note drifts into fluent invention. All three need an induction-style
circuit that a small model does not form on a CPU budget. So the completion walks the
note word by word and writes each word's tag right after it::

    Metformin<B-Drug><.> was<O> started<O> for<O> type<B-Disease><t:treats><~1><.> 2<I-Disease> diabetes<I-Disease>

``<B-Type>`` opens an entity; its relations to *earlier* entities follow as
``<h:rel><~k>`` (this entity is the head) or ``<t:rel><~k>`` (it is the tail), where
``<~k>`` is the k-th entity back (``<~1>`` the one just before: most related mentions
are neighbours, so the choice is nearly always local; with absolute entity numbers,
which the model had to copy from far back, the recipe reached test RE 0.14 at 450
steps, where pointers reached validation RE 0.79 at 450 steps and test RE 0.84 at 600:
RESULTS.md), closed by ``<.>``; ``<I-Type>`` continues the open entity and ``<O>``
is outside. Every decision is local, a name never seen in training is tagged from its
context, and offsets are exact because words are the source's own tokens
(:mod:`~odin_medical_ner_re.tokenize`).

Line breaks. A word that starts a line of the note is written after ``"\n "`` instead
of ``" "`` (``line_breaks``, stored with each trained model). Without it the model
never sees where a line ends, and most of the tiny default's boundary errors were one
entity run across two lines ("pruritus\nStatus epilepticus" tagged as one span: 77 of
142 boundary errors on `1k` validation, seed 0). The word's own pieces are unchanged
(the space stays), so the line break costs one token; :func:`str.split` still reads
the words back.

``lookahead`` > 0 writes word *i*'s tags after word *i + lookahead*, so that a causal
model reads some right context before deciding. Measured on the tiny default it is
worse (validation NER/RE 0.91/0.79 at 0, 0.92/0.74 at 1, 0.83/0.61 at 2): the model
must then tie tags to a word it read earlier, which costs more than the context
gains. It stays a knob for larger models. Any causal LM can write the format freely;
the tiny default is decoded with the words forced (:mod:`.inference`), so only the
tags are predicted. The parser never raises: it keeps what it can and counts what it
could not use.
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
    "Tag each word of the clinical note{late}: <O>, or <B-Type> / <I-Type> for the "
    "{entity_types} entities. After <B-Type> come its relations ({relation_types}) to earlier entities as "
    "<h:relation><~k> (it is the head) or <t:relation><~k> (it is the tail), k counting entities back, then <.>."
)
OUTSIDE = "<O>"
END = "<.>"
#: Words between a word and its tags (see the module docstring); stored with each trained model.
LOOKAHEAD = 0
#: Mark the note's line breaks in the completion (see the module docstring); stored with each trained model.
LINE_BREAKS = True
#: What a completion writes before a word: the first has nothing, one that starts a line ``"\n "``.
SPACE, NEW_LINE = " ", "\n "
#: Farthest back a relation can point, in entities (relations farther apart are not expressible).
MAX_POINTER = 32
_TAG = r"<[^<>\s]+>"
_CHUNK = re.compile(rf"^(.*?)((?:{_TAG})*)$", re.DOTALL)
_TAGS = re.compile(_TAG)


def begin_tag(entity_type: str) -> str:
    return f"<B-{entity_type}>"


def inside_tag(entity_type: str) -> str:
    return f"<I-{entity_type}>"


def pointer_tag(entities_back: int) -> str:
    """``<~k>``: the k-th entity before the one being tagged."""
    return f"<~{entities_back}>"


def relation_tag(relation_type: str, role: str) -> str:
    """``role`` is ``h`` when the entity being tagged is the head, ``t`` when it is the tail."""
    return f"<{role}:{relation_type}>"


def tag_vocabulary(
    entity_types: Sequence[str] = ENTITY_TYPES, relation_types: Sequence[str] = RELATION_TYPES
) -> list[str]:
    """Every tag string of the format (the tiny tokenizer makes each one token)."""
    tags = [OUTSIDE, END]
    tags += [t(e) for e in entity_types for t in (begin_tag, inside_tag)]
    tags += [relation_tag(r, role) for r in relation_types for role in ("h", "t")]
    tags += [pointer_tag(k) for k in range(1, MAX_POINTER + 1)]
    return tags


def build_prompt(
    text: str,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
    *,
    with_text: bool = True,
    lookahead: int = LOOKAHEAD,
) -> str:
    """The instruction, and the note unless ``with_text`` is False (the forced-word decoder reads it word by word)."""
    instruction = INSTRUCTION.format(
        late=f", {lookahead} word(s) late" if lookahead else "",
        entity_types=", ".join(entity_types),
        relation_types=", ".join(relation_types) or "no",
    )
    note = f"\n\nNote:\n{text}" if with_text else ""
    return f"{instruction}{note}\n\nAnswer:\n"


def word_tags(doc: Document) -> list[tuple[str, list[str]]]:
    """Per source token: the word and its tags (before any lookahead shift).

    Entities that do not start and end on token boundaries, or that overlap an earlier
    one, are not expressible and are left out, as are relations to them or farther
    apart than :data:`MAX_POINTER` entities.
    """
    tokens = tokenize(doc.text)
    starts = {start: i for i, (_, start, _) in enumerate(tokens)}
    ends = {end: i for i, (_, _, end) in enumerate(tokens)}
    begins: dict[int, Entity] = {}
    inside: dict[int, str] = {}
    ordinal: dict[str, int] = {}
    covered = -1
    for entity in sorted(doc.entities, key=lambda e: (e.start, -e.end)):
        first, last = starts.get(entity.start), ends.get(entity.end)
        if first is None or last is None or first <= covered:
            continue
        ordinal[entity.id] = len(ordinal)
        begins[first] = entity
        for index in range(first + 1, last + 1):
            inside[index] = entity.type
        covered = last
    relations_at: dict[str, set[tuple[int, str, str]]] = {}
    for relation in doc.relations:
        if relation.head not in ordinal or relation.tail not in ordinal or relation.head == relation.tail:
            continue
        head, tail = ordinal[relation.head], ordinal[relation.tail]
        later, back, role = (relation.head, head - tail, "h") if head > tail else (relation.tail, tail - head, "t")
        if back <= MAX_POINTER:
            relations_at.setdefault(later, set()).add((back, relation.type, role))
    rows: list[tuple[str, list[str]]] = []
    for index, (word, _, _) in enumerate(tokens):
        if index in begins:
            entity = begins[index]
            tags = [begin_tag(entity.type)]
            for back, relation_type, role in sorted(relations_at.get(entity.id, ())):
                tags += [relation_tag(relation_type, role), pointer_tag(back)]
            rows.append((word, [*tags, END]))
        elif index in inside:
            rows.append((word, [inside_tag(inside[index])]))
        else:
            rows.append((word, [OUTSIDE]))
    return rows


def shifted_chunks(
    words: Sequence[str], tag_groups: Sequence[list[str]], lookahead: int = LOOKAHEAD
) -> list[tuple[str, list[str]]]:
    """(word, tags) chunks as written: chunk j holds word j and the tags of word j - ``lookahead``.

    The first ``lookahead`` chunks carry no tags and the last ``lookahead`` no word.
    """
    count = max(len(words), len(tag_groups))
    if count == 0:
        return []
    return [
        (words[j] if j < len(words) else "", list(tag_groups[j - lookahead]) if 0 <= j - lookahead < len(tag_groups) else [])
        for j in range(count + lookahead)
    ]


def document_chunks(doc: Document, lookahead: int = LOOKAHEAD) -> list[tuple[str, list[str]]]:
    """The gold (word, tags) chunks of ``doc``, shifted by ``lookahead``: what the model learns to write."""
    rows = word_tags(doc)
    return shifted_chunks([w for w, _ in rows], [t for _, t in rows], lookahead)


def written_words(text: str, line_breaks: bool = LINE_BREAKS) -> tuple[list[str], list[str]]:
    """``text``'s tokens and what the completion writes before each, from one tokenization:
    ``""`` before the first, :data:`NEW_LINE` before one that starts a line (when
    ``line_breaks``), else :data:`SPACE`."""
    tokens = tokenize(text)
    before = [""] if tokens else []
    for (_, _, end), (_, start, _) in zip(tokens, tokens[1:], strict=False):
        before.append(NEW_LINE if line_breaks and "\n" in text[end:start] else SPACE)
    return [word for word, _, _ in tokens], before


def separators(text: str, line_breaks: bool = LINE_BREAKS) -> list[str]:
    """What the completion writes before each of ``text``'s tokens (:func:`written_words`)."""
    return written_words(text, line_breaks)[1]


def render_chunks(chunks: Sequence[tuple[str, list[str]]], before: Sequence[str] = ()) -> str:
    """The completion text of (word, tags) chunks: each word with its tags glued on.

    ``before[j]`` is written before chunk ``j`` (:func:`separators`); a space where it is
    missing, so without it the chunks are space-separated.
    """
    parts = []
    for index, (word, tags) in enumerate(chunks):
        if index:
            parts.append(before[index] if index < len(before) else SPACE)
        parts.append(word + "".join(tags))
    return "".join(parts) + "\n"


def build_completion(doc: Document, lookahead: int = LOOKAHEAD, line_breaks: bool = LINE_BREAKS) -> str:
    return render_chunks(document_chunks(doc, lookahead), separators(doc.text, line_breaks))


def to_prompt_completion(
    doc: Document,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
    *,
    with_text: bool = True,
    lookahead: int = LOOKAHEAD,
    line_breaks: bool = LINE_BREAKS,
) -> dict[str, str]:
    """Standard (non-conversational) prompt/completion pair, as TRL's SFTTrainer takes it."""
    prompt = build_prompt(doc.text, entity_types, relation_types, with_text=with_text, lookahead=lookahead)
    return {"prompt": prompt, "completion": build_completion(doc, lookahead, line_breaks)}


def to_messages(
    doc: Document,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
    *,
    lookahead: int = LOOKAHEAD,
    line_breaks: bool = LINE_BREAKS,
) -> dict[str, list[dict[str, str]]]:
    """Conversational prompt/completion, for models with a chat template."""
    pair = to_prompt_completion(doc, entity_types, relation_types, lookahead=lookahead, line_breaks=line_breaks)
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
    *,
    lookahead: int = LOOKAHEAD,
) -> ParseResult:
    """Entities with exact offsets into ``source_text`` and relations from an answer; never raises.

    The tags of chunk ``j`` belong to the word of chunk ``j - lookahead``. Words are
    mapped to the source's tokens (exactly when copied, else by sequence alignment);
    tags that fit no rule count as unparsed, labels outside the given sets as unknown,
    entities on words missing from the source as unaligned, and relations pointing
    before the first entity (or at one that was dropped) as dangling. ``None`` label
    sets accept any label.
    """
    result = ParseResult()
    tokens = tokenize(source_text)
    chunks = _chunks(completion)
    words = [w for w, _ in chunks]
    while words and not words[-1]:
        words.pop()  # the trailing chunks of a shifted completion carry tags only
    mapping, result.copy_exact = _word_map(words, [t for t, _, _ in tokens])
    lookahead = max(lookahead, 0)
    begins: list[list[Any] | None] = []  # every <B-> in order: its span, or None when dropped
    open_span: list[Any] | None = None
    for index in range(max(len(chunks) - lookahead, 0)):
        tags = chunks[index + lookahead][1]
        source_index = mapping.get(index) if index < len(words) else None
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
            open_span = None
            if entity_types is not None and label not in entity_types:
                result.unknown_labels += 1
            elif source_index is None:
                result.unaligned_mentions += 1
            else:
                open_span = [label, source_index, source_index, len(begins), []]
            begins.append(open_span)
        position = _read_relations(tags, position, open_span, relation_types, result)
        result.unparsed_tags += sum(1 for tag in tags[position:] if tag != END)
    _emit(begins, tokens, source_text, result)
    return result


def _pointer(tag: str) -> int | None:
    digits = tag[2:-1]
    return int(digits) if tag.startswith("<~") and digits.isdigit() and int(digits) > 0 else None


def _read_relations(
    tags: list[str], position: int, span: list[Any] | None, relation_types: Sequence[str] | None, result: ParseResult
) -> int:
    """Consume ``<h:rel><~k>`` / ``<t:rel><~k>`` pairs after a begin tag; return where reading stopped."""
    while position < len(tags) and tags[position][1:3] in ("h:", "t:"):
        role, label = tags[position][1], tags[position][3:-1]
        target = tags[position + 1] if position + 1 < len(tags) else ""
        back = _pointer(target)
        position += 2 if target.startswith("<~") else 1
        if back is None or span is None:
            result.unparsed_tags += 1
        elif relation_types is not None and label not in relation_types:
            result.unknown_labels += 1
        else:
            span[4].append((label, role, back))
    return position


def _emit(begins: list[list[Any] | None], tokens: list[tuple[str, int, int]], text: str, result: ParseResult) -> None:
    entity_at: dict[int, Entity] = {}
    for span in begins:
        if span is None:
            continue
        label, first, last, number, _ = span
        start, end = tokens[first][1], tokens[last][2]
        entity = Entity(f"T{len(result.entities) + 1}", text[start:end], label, start, end)
        result.entities.append(entity)
        entity_at[number] = entity
    seen: set[tuple[str, str, str]] = set()
    for span in begins:
        if span is None:
            continue
        entity = entity_at[span[3]]
        for label, role, back in span[4]:
            other = entity_at.get(span[3] - back) if back <= span[3] else None
            if other is None:
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
