"""Any split (synthetic or benchmark) to BigBIO ``bigbio_kb`` JSONL and to PubTator, and back.

Both are the exchange formats of biomedical NLP: BigBIO's ``kb`` schema is what ``bigbio``
loaders and many training scripts read; PubTator is what the NCBI tools and the BC5CDR/BioRED
evaluation scripts read. What each format cannot carry, stated once:

* neither has a negation flag: ``negated`` is lost;
* PubTator holds no line break or tab inside a text: each becomes a space (one character
  for one, so offsets stay exact), and its relations link concept ids, not mentions: a document
  without concept ids (synthetic notes) uses its entity ids as concept ids, so mention-level
  relations survive exactly;
* BigBIO relations link mentions, so a benchmark's document-level pairs are not written there
  (the concept ids are, in ``normalized``); entity offsets with several fragments are read
  back as the span covering them.

A BigBIO record is :func:`~odin_medical_ner_re.bigbio.bigbio_kb_record`, the converter behind the
builder's ``to_bigbio_kb`` view too: entity and relation ids are prefixed with the document id, a
synthetic note is one passage of type ``note``, a PubTator abstract is a ``title`` and an
``abstract`` passage.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import datasets

from ..bigbio import bigbio_kb_record
from ..builder import row_to_document
from ..errors import UserInputError
from ..files import atomic_open, check_output_file
from ..reading import read_text
from ..schema import Document, Entity, Relation
from .corpus import Corpus, from_pubtator
from .pubtator import PubTatorDocument, PubTatorMention, PubTatorRelation, read_pubtator, write_pubtator

# --------------------------------------------------------------------------- inputs


def documents_of(split: datasets.Dataset | Iterable[Document]) -> list[Document]:
    """Documents of a ``datasets`` split (ClassLabels decoded) or of an iterable of documents."""
    if isinstance(split, datasets.Dataset):
        entity_names = list(split.features["entities"].feature["type"].names)
        relation_names = list(split.features["relations"].feature["type"].names)
        return [row_to_document(row, entity_names, relation_names) for row in split]
    return list(split)


# --------------------------------------------------------------------------- BigBIO kb


def write_bigbio_jsonl(split: datasets.Dataset | Iterable[Document], path: str | os.PathLike[str]) -> Path:
    """Write one ``bigbio_kb`` record per line."""
    target = check_output_file(path)
    with atomic_open(target) as handle:
        for doc in documents_of(split):
            handle.write(json.dumps(bigbio_kb_record(doc), ensure_ascii=False) + "\n")
    return target


def _local(item_id: str, doc_id: str) -> str:
    return item_id[len(doc_id) + 1 :] if item_id.startswith(f"{doc_id}-") else item_id


def from_bigbio_kb(record: dict[str, Any]) -> Document:
    """A ``bigbio_kb`` record as a Document (see the module docstring for what cannot return)."""
    doc_id = str(record["id"])
    passages = record.get("passages") or []
    length = max((end for p in passages for _, end in p["offsets"]), default=0)
    chars = [" "] * length
    for passage in passages:
        for piece, (start, end) in zip(passage["text"], passage["offsets"], strict=True):
            chars[start:end] = piece
    text = "".join(chars)
    metadata: dict[str, Any] = {}
    kinds = [p["type"] for p in passages]
    if kinds == ["title", "abstract"]:
        metadata["title_end"] = passages[0]["offsets"][0][1]
    elif len(kinds) == 1:
        metadata["passage_type"] = kinds[0]
    if record.get("document_id") and record["document_id"] != doc_id:
        metadata["pmid"] = record["document_id"]
    entities, concept_ids = [], {}
    for item in record.get("entities") or []:
        start = min(s for s, _ in item["offsets"])
        end = max(e for _, e in item["offsets"])
        entity = Entity(_local(item["id"], doc_id), text[start:end], item["type"], start, end)
        entities.append(entity)
        concept_ids[entity.id] = [n["db_id"] for n in item.get("normalized") or []]
    if any(concept_ids.values()):
        metadata["concept_ids"] = concept_ids
    relations = [
        Relation(
            _local(r["id"], doc_id), r["type"], _local(r["arg1_id"], doc_id), _local(r["arg2_id"], doc_id)
        )
        for r in record.get("relations") or []
    ]
    return Document(doc_id, text, entities, relations, metadata)


def read_bigbio_jsonl(path: str | os.PathLike[str]) -> list[Document]:
    source = Path(path)
    if not source.is_file():
        raise UserInputError(f"{source}: no such file")
    documents = []
    for number, line in enumerate(read_text(source).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            documents.append(from_bigbio_kb(json.loads(line)))
        except json.JSONDecodeError as err:
            raise UserInputError(f"{source}, line {number}: invalid JSON ({err.msg})") from None
        except (KeyError, TypeError, ValueError) as err:
            raise UserInputError(f"{source}, line {number}: not a bigbio_kb record ({err!r})") from None
    return documents


# --------------------------------------------------------------------------- PubTator


def _separator(doc: Document, default: str) -> str:
    from . import CORPORA

    corpus = CORPORA.get(str(doc.metadata.get("corpus")))
    return corpus.id_separators[0] if corpus else default


def to_pubtator(doc: Document, id_separator: str | None = None) -> PubTatorDocument:
    """A Document as PubTator; entity ids stand in for concept ids when the document has none."""
    separator = id_separator or _separator(doc, "|")
    title_end = doc.metadata.get("title_end")
    if isinstance(title_end, int) and 0 < title_end < len(doc.text) and doc.text[title_end] == " ":
        title, abstract = doc.text[:title_end], doc.text[title_end + 1 :]
    else:
        title, abstract = doc.text, ""
    concept_ids: dict[str, list[str]] | None = doc.metadata.get("concept_ids")
    extra = doc.metadata.get("mention_extra") or {}
    if concept_ids is None:
        concept_ids = {e.id: [e.id] for e in doc.entities}
        pairs = [{"type": r.type, "id1": r.head, "id2": r.tail, "extra": []} for r in doc.relations]
    else:
        pairs = list(doc.metadata.get("document_relations") or [])
    mentions = [
        PubTatorMention(
            e.start,
            e.end,
            e.text,
            e.type,
            separator.join(concept_ids.get(e.id, [])) or "-",
            list(extra.get(e.id, [])),
        )
        for e in doc.entities
    ]
    relations = [PubTatorRelation(p["type"], p["id1"], p["id2"], list(p.get("extra") or [])) for p in pairs]
    return PubTatorDocument(doc.id, title, abstract, mentions, relations)


def write_pubtator_documents(
    split: datasets.Dataset | Iterable[Document],
    path: str | os.PathLike[str],
    id_separator: str | None = None,
) -> Path:
    return write_pubtator([to_pubtator(doc, id_separator) for doc in documents_of(split)], path)


def read_pubtator_documents(
    path: str | os.PathLike[str], corpus: str | None = None, entity_types: Sequence[str] = ()
) -> list[Document]:
    """Documents of a PubTator file (ids split the way ``corpus`` writes them, else on ``|``).

    A BioRED export must be read with ``corpus="biored"``: its variant ids contain ``|``.
    """
    from . import CORPORA

    spec = CORPORA.get(corpus or "") or Corpus(
        name=corpus or "pubtator",
        folder="",
        files=(),
        entity_types=tuple(entity_types),
        relation_types=(),
        load=lambda folder, spec: {},
    )
    return [from_pubtator(doc, spec, "") for doc in read_pubtator(path)]


__all__ = [
    "documents_of",
    "from_bigbio_kb",
    "read_bigbio_jsonl",
    "read_pubtator_documents",
    "to_pubtator",
    "write_bigbio_jsonl",
    "write_pubtator_documents",
]
