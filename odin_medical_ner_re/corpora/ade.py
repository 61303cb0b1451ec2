"""ADE corpus v2: drugs, adverse effects and doses in single sentences of case reports.

The corpus gives sentences, not abstracts, and its offsets are **document-level** (the
annotators saw ``PMID\\n\\nTitle\\n\\nAbstract``), so every mention is located inside its
sentence here. Alignment is deterministic and explainable:

1. each mention's text is searched in its sentence (exact case first, else case-insensitive);
2. every occurrence proposes a sentence start (document offset minus position); the start
   proposed by the most mentions of the sentence wins (ties: the smallest start), which places
   repeated substrings ("dose ... dose") on the occurrence the offsets point at;
3. a mention that does not fit that start takes its occurrence closest to where the start puts
   it (ties: the earlier one); a mention whose text is not in the sentence is dropped.

:func:`alignment_report` counts each case; on the shipped files every mention aligns (0
dropped). Mentions with the same span and type (a drug in several pairs) become one entity.

There is no official split. Documents are assigned by PubMed id, so no abstract is in two
splits: ``int(blake2b("ade_corpus_v2/" + PMID, digest_size=8)) % 100`` gives train for 0-79,
validation for 80-89 and test for 90-99. Every sentence of ``ADE-NEG.txt`` (no drug-related
adverse effect; 16,695 lines, 7 of them repeated verbatim) is a document without entities, in
the split of its PubMed id. Document ids are ``PMID-n``: positive sentences first in
``DRUG-AE.rel``/``DRUG-DOSE.rel`` order, then negative ones in file order.
``DRUG-AE.rel`` is required; ``DRUG-DOSE.rel`` and ``ADE-NEG.txt`` are used when present.
Cite Gurulingappa et al. 2012, J Biomed Inform 45(5).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..reading import read_text
from ..schema import Document, Entity, Relation
from .corpus import Corpus

AE_FILE, DOSE_FILE, NEG_FILE = "DRUG-AE.rel", "DRUG-DOSE.rel", "ADE-NEG.txt"
SPLIT_BUCKETS: tuple[tuple[str, int], ...] = (("train", 80), ("validation", 90), ("test", 100))


def split_of(pmid: str) -> str:
    """The split of a PubMed id: stable across Python versions and machines (no salted hash)."""
    digest = hashlib.blake2b(f"ade_corpus_v2/{pmid}".encode(), digest_size=8).digest()
    bucket = int.from_bytes(digest, "big") % 100
    return next(name for name, limit in SPLIT_BUCKETS if bucket < limit)


@dataclass
class _Mention:
    type: str
    text: str
    doc_start: int
    doc_end: int
    span: tuple[int, int] | None = None


@dataclass
class _Sentence:
    pmid: str
    text: str
    mentions: dict[tuple[str, int, int], _Mention] = field(default_factory=dict)
    pairs: list[tuple[str, tuple[str, int, int], tuple[str, int, int]]] = field(default_factory=list)
    offset: int | None = None


def _rel_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        columns = line.split("|")
        if len(columns) != 8 or not all(
            c.strip().isdigit() for c in (columns[3], columns[4], columns[6], columns[7])
        ):
            raise UserInputError(
                f"{path}, line {number}: expected 8 '|'-separated columns (PMID|sentence|text|begin|end|"
                f"drug|begin|end) with integer offsets: {line[:120]!r}"
            )
        yield number, columns


def _read_positive(folder: Path) -> list[_Sentence]:
    sentences: dict[tuple[str, str], _Sentence] = {}
    for file_name, kind, relation in (
        (AE_FILE, "Adverse_Effect", "DRUG-AE"),
        (DOSE_FILE, "Dose", "DRUG-DOSE"),
    ):
        path = folder / file_name
        if not path.is_file():
            if file_name == AE_FILE:
                raise UserInputError(f"{path}: no such file (the ADE corpus needs it)")
            continue
        for _, c in _rel_lines(path):
            sentence = sentences.setdefault((c[0], c[1]), _Sentence(c[0], c[1]))
            other = _Mention(kind, c[2], int(c[3]), int(c[4]))
            drug = _Mention("Drug", c[5], int(c[6]), int(c[7]))
            keys = []
            for mention in (drug, other):
                key = (mention.type, mention.doc_start, mention.doc_end)
                sentence.mentions.setdefault(key, mention)
                keys.append(key)
            sentence.pairs.append((relation, keys[0], keys[1]))
    return list(sentences.values())


def _occurrences(sentence: str, text: str) -> list[int]:
    for haystack, needle in ((sentence, text), (sentence.lower(), text.lower())):
        if len(haystack) != len(sentence) or not needle:
            continue
        found, position = [], haystack.find(needle)
        while position >= 0:
            found.append(position)
            position = haystack.find(needle, position + 1)
        if found:
            return found
    return []


def _align(sentence: _Sentence, counts: Counter[str]) -> None:
    """Place every mention of ``sentence`` (see the module docstring); counts each outcome."""
    occurrences = {key: _occurrences(sentence.text, m.text) for key, m in sentence.mentions.items()}
    votes: Counter[int] = Counter()
    for key, positions in occurrences.items():
        for start in {sentence.mentions[key].doc_start - p for p in positions}:
            votes[start] += 1
    if votes:
        best = max(votes.values())
        sentence.offset = min(start for start, count in votes.items() if count == best)
    for key, mention in sentence.mentions.items():
        positions = occurrences[key]
        if not positions or sentence.offset is None:
            counts["unaligned"] += 1
            continue
        wanted = mention.doc_start - sentence.offset
        position = min(positions, key=lambda p: (abs(p - wanted), p))
        counts["at_offset" if position == wanted else "nearest_occurrence"] += 1
        mention.span = (position, position + len(mention.text))


def _sentence_document(sentence: _Sentence, doc_id: str, split: str) -> Document:
    entities: list[Entity] = []
    entity_of: dict[Any, str] = {}
    by_span: dict[tuple[int, int, str], str] = {}
    for key, mention in sorted(
        sentence.mentions.items(), key=lambda item: (item[1].span or (-1, -1), item[0])
    ):
        if mention.span is None:
            continue
        span_key = (*mention.span, mention.type)
        if span_key not in by_span:
            start, end = mention.span
            by_span[span_key] = f"T{len(entities) + 1}"
            entities.append(Entity(by_span[span_key], sentence.text[start:end], mention.type, start, end))
        entity_of[key] = by_span[span_key]
    relations: list[Relation] = []
    seen: set[tuple[str, str, str]] = set()
    for relation, head_key, tail_key in sentence.pairs:
        head, tail = entity_of.get(head_key), entity_of.get(tail_key)
        if head is None or tail is None or (relation, head, tail) in seen:
            continue
        seen.add((relation, head, tail))
        relations.append(Relation(f"R{len(relations) + 1}", relation, head, tail))
    metadata = {
        "corpus": "ade",
        "split": split,
        "pmid": sentence.pmid,
        "passage_type": "sentence",
        "sentence_offset": sentence.offset,
        "pairs": len(sentence.pairs),
        "unaligned_mentions": sum(m.span is None for m in sentence.mentions.values()),
    }
    return Document(doc_id, sentence.text, entities, relations, metadata)


def _read_negative(folder: Path) -> list[tuple[str, str]]:
    path = folder / NEG_FILE
    if not path.is_file():
        return []
    rows = []
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        parts = line.split(" ", 2)
        if len(parts) != 3 or parts[1] != "NEG" or not parts[0].strip():
            raise UserInputError(f"{path}, line {number}: expected 'PMID NEG sentence': {line[:120]!r}")
        rows.append((parts[0], parts[2]))
    return rows


def alignment_report(folder: Path) -> dict[str, int]:
    """How the document-level offsets were placed in the sentences (goal: ``unaligned`` == 0)."""
    counts: Counter[str] = Counter(at_offset=0, nearest_occurrence=0, unaligned=0)
    for sentence in _read_positive(folder):
        _align(sentence, counts)
    return dict(counts)


def load_ade(folder: Path, corpus: Corpus) -> dict[str, list[Document]]:
    splits: dict[str, list[Document]] = {name: [] for name, _ in SPLIT_BUCKETS}
    per_pmid: Counter[str] = Counter()
    counts: Counter[str] = Counter()

    def next_id(pmid: str) -> str:
        per_pmid[pmid] += 1
        return f"{pmid}-{per_pmid[pmid]}"

    for sentence in _read_positive(folder):
        _align(sentence, counts)
        split = split_of(sentence.pmid)
        splits[split].append(_sentence_document(sentence, next_id(sentence.pmid), split))
    for pmid, text in _read_negative(folder):
        split = split_of(pmid)
        metadata = {
            "corpus": "ade",
            "split": split,
            "pmid": pmid,
            "passage_type": "sentence",
            "negative": True,
        }
        splits[split].append(Document(next_id(pmid), text, [], [], metadata))
    return splits


CORPUS = Corpus(
    name="ade",
    folder="ade_corpus_v2",
    files=(AE_FILE, DOSE_FILE, NEG_FILE),
    entity_types=("Drug", "Adverse_Effect", "Dose"),
    relation_types=("DRUG-AE", "DRUG-DOSE"),
    load=load_ade,
    description="ADE corpus v2: drug, adverse effect and dose mentions in case-report sentences.",
    expected={"train": (16829, None), "validation": (2189, None), "test": (1949, None)},
)
