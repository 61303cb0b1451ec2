"""What every corpus adapter shares: its description, where its files are, PubTator -> Document.

A benchmark document is a plain :class:`~odin_medical_ner_re.schema.Document` whose metadata
keeps what the dataset columns cannot: the concept ids of each mention and the document-level
relations between ids (the official BC5CDR/BioRED unit of evaluation). Mention-level relations
are the expansion of each id pair to every (mention of id1, mention of id2) pair, which is
what span-based scoring and token-level models need.

Metadata keys (all optional except ``corpus`` and ``split``):

``corpus``, ``split``, ``pmid``
    where the document comes from.
``title_end``
    length of the title when the text is ``title + " " + abstract`` (PubTator passages).
``passage_type``
    the kind of the single passage otherwise (``sentence`` for ADE).
``concept_ids``
    ``{entity id: [concept id, ...]}``; unnormalized mentions (``-1``, ``-``) have none.
``mention_extra``
    ``{entity id: [column, ...]}``: extra mention columns, kept verbatim (BC5CDR composite
    mentions list their parts there, joined by ``|``).
``document_relations``
    ``[{"type", "id1", "id2", "extra": [...]}, ...]`` in file order (``extra``: BioRED novelty).
"""

from __future__ import annotations

import importlib.resources
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..schema import Document, Entity, Relation
from .pubtator import PubTatorDocument, read_pubtator

ENV_VAR = "ODIN_BENCHMARKS_DIR"
#: Set to 1 to accept corpus files whose counts differ from the originals (never an empty split).
ALLOW_SUBSET_VAR = "ODIN_BENCHMARKS_ALLOW_SUBSET"
SPLIT_ORDER: tuple[str, ...] = ("train", "validation", "test")
#: Id values that mean "not normalized" in the PubTator corpora.
NO_ID: frozenset[str] = frozenset({"", "-", "-1"})


def source_checkout(package: Path) -> Path | None:
    """The source checkout (the folder with ``pyproject.toml``) that holds ``package``, or None.

    An installed wheel lives in site-packages: nothing beside it (corpora, recipes) is the project's.
    """
    checkout = package.parent
    return checkout if (checkout / "pyproject.toml").is_file() else None


def checkout_root(package: Path) -> Path | None:
    """``shared/benchmarks`` beside the source checkout that holds ``package``, or None.

    The corpora are never package data (licences, size), so only a source checkout has a
    natural place for them: its neighbour ``../shared/benchmarks``. An installed wheel lives in
    site-packages, where no such neighbour means anything; there the corpora are named by
    ``$ODIN_BENCHMARKS_DIR`` or ``data_dir`` (:func:`resolve_corpus_dir` says so).
    """
    checkout = source_checkout(package)
    if checkout is None:
        return None
    return (checkout.parent / "shared" / "benchmarks").resolve()


#: Default root when neither ``data_dir`` nor ``$ODIN_BENCHMARKS_DIR`` is given (None outside a checkout).
DEFAULT_ROOT: Path | None = checkout_root(Path(str(importlib.resources.files("odin_medical_ner_re"))).resolve())

Loader = Callable[[Path, "Corpus"], dict[str, list[Document]]]


@dataclass(frozen=True)
class Corpus:
    """A corpus adapter: native labels, original file names and the function that reads them.

    ``files`` lists every original file name (used to recognise the folder and to say what was
    expected); ``split_files`` maps a split to its file for corpora with one file per split.
    """

    name: str
    folder: str
    files: tuple[str, ...]
    entity_types: tuple[str, ...]
    relation_types: tuple[str, ...]
    load: Loader
    split_files: dict[str, str] = field(default_factory=dict)
    id_separators: str = "|"
    document_level_relations: bool = False
    description: str = ""
    #: ``{split: (documents, mentions or None)}`` of the original files, checked on every load
    #: so an empty, truncated or substituted copy is not scored as if it were the corpus.
    expected: dict[str, tuple[int, int | None]] = field(default_factory=dict)


def check_counts(
    corpus: Corpus, splits: dict[str, list[Document]], folder: Path, allow_subset: bool = False
) -> None:
    """Refuse an empty split always, and counts that differ from the original files unless ``allow_subset``.

    An empty test file would score F1 1.0 (nothing expected, nothing predicted); a truncated one
    scores a different, smaller test set under the corpus's name. ``$ODIN_BENCHMARKS_ALLOW_SUBSET=1``
    allows a subset too, for tools without an ``--allow-subset`` option (the training recipes).
    """
    allow_subset = allow_subset or os.environ.get(ALLOW_SUBSET_VAR) == "1"
    for split, documents in splits.items():
        source = folder / corpus.split_files.get(split, f"{corpus.folder} ({split} split)")
        if not documents:
            raise UserInputError(
                f"benchmark {corpus.name!r}: {source} holds no documents (empty or cut file); "
                "restore the original file"
            )
        if allow_subset or split not in corpus.expected:
            continue
        want_docs, want_mentions = corpus.expected[split]
        mentions = sum(len(d.entities) for d in documents)
        if len(documents) != want_docs or (want_mentions is not None and mentions != want_mentions):
            found = f"{len(documents):,} documents" + (f" and {mentions:,} mentions" if want_mentions else "")
            wanted = f"{want_docs:,}" + (f" and {want_mentions:,}" if want_mentions else "")
            raise UserInputError(
                f"benchmark {corpus.name!r}: {split} split from {source} has {found}, the original has "
                f"{wanted}: the copy is truncated or not the original; pass --allow-subset "
                f"(allow_subset=True, or set {ALLOW_SUBSET_VAR}=1) to use a part of it on purpose"
            )


# --------------------------------------------------------------------------- where the files are


def resolve_corpus_dir(corpus: Corpus, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding ``corpus``'s original files.

    ``data_dir`` (else ``$ODIN_BENCHMARKS_DIR``, else :data:`DEFAULT_ROOT`) may be that folder
    itself or the root holding one folder per corpus (``bc5cdr/``, ``biored/``, ...): both are
    accepted because users copy a single corpus as often as the whole collection.
    """
    if data_dir is not None:
        root, origin = Path(data_dir), "the data_dir argument"
    elif os.environ.get(ENV_VAR):
        root, origin = Path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    elif DEFAULT_ROOT is not None:
        root, origin = DEFAULT_ROOT, "the default ../shared/benchmarks beside the source checkout"
    else:
        raise UserInputError(
            f"benchmark {corpus.name!r}: no corpus folder given and an installed package has no default; "
            f"pass data_dir (--data-dir) or set {ENV_VAR} to the folder holding {corpus.folder}/"
        )
    candidates = [root / corpus.folder, root]
    for candidate in candidates:
        if candidate.is_dir() and any((candidate / name).is_file() for name in corpus.files):
            return candidate
    looked = " and ".join(str(c) for c in candidates)
    raise UserInputError(
        f"benchmark {corpus.name!r}: none of its files ({', '.join(corpus.files)}) found; looked in {looked} "
        f"(from {origin}). Pass data_dir (--data-dir) or set {ENV_VAR} to the folder holding "
        f"{corpus.folder}/ or to {corpus.folder}/ itself"
    )


# --------------------------------------------------------------------------- PubTator -> Document


def split_ids(raw: str, separators: str) -> list[str]:
    """Concept ids of a raw id column (stripped, without "no id" markers, order kept)."""
    ids = [raw.strip()]
    for separator in separators:
        ids = [part.strip() for piece in ids for part in piece.split(separator)]
    return [i for i in dict.fromkeys(ids) if i not in NO_ID]


def expand_relations(
    entities: list[Entity], concept_ids: dict[str, list[str]], pairs: Iterable[dict[str, Any]]
) -> tuple[list[Relation], int]:
    """Mention-level relations for document-level id pairs, and how many pairs have no mention pair.

    A pair has none when one mention carries both ids (BioRED's "MODY" for three genes related
    to each other): it exists only at document level.

    Every mention carrying id1 is paired with every mention carrying id2 (head = id1's mention),
    self-pairs are skipped (a mention that carries both ids), and a repeated (type, head, tail)
    is kept once.
    """
    by_id: dict[str, list[str]] = defaultdict(list)
    for entity in entities:
        for concept in concept_ids.get(entity.id, []):
            by_id[concept].append(entity.id)
    relations: list[Relation] = []
    seen: set[tuple[str, str, str]] = set()
    unexpanded = 0
    for pair in pairs:
        expanded = False
        for head in by_id.get(pair["id1"], []):
            for tail in by_id.get(pair["id2"], []):
                key = (pair["type"], head, tail)
                if head == tail:
                    continue
                expanded = True
                if key not in seen:
                    seen.add(key)
                    relations.append(Relation(f"R{len(relations) + 1}", pair["type"], head, tail))
        unexpanded += not expanded
    return relations, unexpanded


def from_pubtator(doc: PubTatorDocument, corpus: Corpus, split: str) -> Document:
    """A PubTator document as a benchmark :class:`Document` (entity ids ``T1``... in line order)."""
    entities: list[Entity] = []
    concept_ids: dict[str, list[str]] = {}
    extra: dict[str, list[str]] = {}
    for index, mention in enumerate(doc.mentions, start=1):
        entity_id = f"T{index}"
        entities.append(Entity(entity_id, mention.text, mention.type, mention.start, mention.end))
        concept_ids[entity_id] = split_ids(mention.ids, corpus.id_separators)
        if mention.extra:
            extra[entity_id] = list(mention.extra)
    pairs = [
        {"type": r.type, "id1": r.id1.strip(), "id2": r.id2.strip(), "extra": list(r.extra)}
        for r in doc.relations
    ]
    relations, unexpanded = expand_relations(entities, concept_ids, pairs)
    metadata: dict[str, Any] = {
        "corpus": corpus.name,
        "split": split,
        "pmid": doc.pmid,
        "title_end": doc.title_end,
        "concept_ids": concept_ids,
        "document_relations": pairs,
        "unexpanded_relations": unexpanded,
    }
    if extra:
        metadata["mention_extra"] = extra
    return Document(doc.pmid, doc.text, entities, relations, metadata)


def load_pubtator_splits(folder: Path, corpus: Corpus) -> dict[str, list[Document]]:
    """One PubTator file per split; a split whose file is absent is left out."""
    splits: dict[str, list[Document]] = {}
    for split, file_name in corpus.split_files.items():
        path = folder / file_name
        if path.is_file():
            splits[split] = [from_pubtator(doc, corpus, split) for doc in read_pubtator(path)]
    return splits
