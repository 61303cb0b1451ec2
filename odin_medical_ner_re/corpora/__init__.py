"""Real corpora (BioRED, BC5CDR, ADE, NCBI disease) in the project's schema.

``load_benchmark(name)`` returns a ``DatasetDict`` with exactly the synthetic builder's columns,
so every tool that reads the synthetic data (training recipes, scoring, the BigBIO export) reads
a real corpus unchanged. With ``label_set="native"`` the ``ClassLabel`` names are the corpus's
own; with ``label_set="odin"`` they are the five odin types (see ``LABELS.md``).
:func:`load_benchmark_documents` gives the same splits as :class:`Document` objects whose
metadata also keeps concept ids and document-level relation pairs (see :mod:`.corpus`).

Files are read from ``data_dir``, else ``$ODIN_BENCHMARKS_DIR``, else ``../shared/benchmarks``
next to the repository, under their original names; a split whose file is absent is left out.
"""

from __future__ import annotations

import os
from typing import Any

import datasets

from ..builder import document_to_example, features_for
from ..errors import UserInputError
from ..schema import ENTITY_TYPES, RELATION_TYPES, Document
from . import ade, bc5cdr, biored, ncbi_disease
from .corpus import ENV_VAR, SPLIT_ORDER, Corpus, check_counts, resolve_corpus_dir
from .labels import LABEL_SETS, to_odin
from .pairs import document_pairs, predicted_document_pairs, score_document_pairs

CORPORA: dict[str, Corpus] = {
    c.name: c for c in (biored.CORPUS, bc5cdr.CORPUS, ade.CORPUS, ncbi_disease.CORPUS)
}
ALIASES: dict[str, str] = {
    "ade_corpus_v2": "ade",
    "ncbi": "ncbi_disease",
    "cdr": "bc5cdr",
    "bc5cdr_cdr": "bc5cdr",
}

__all__ = [
    "CORPORA",
    "ENV_VAR",
    "benchmark_features",
    "document_pairs",
    "get_corpus",
    "label_names",
    "load_benchmark",
    "load_benchmark_documents",
    "predicted_document_pairs",
    "run_transfer",
    "score_document_pairs",
    "write_transfer",
]


def __getattr__(name: str) -> Any:
    """``run_transfer`` and ``write_transfer`` load on first use (they pull in the baselines and plotting)."""
    if name in ("run_transfer", "write_transfer"):
        from . import transfer

        return getattr(transfer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_corpus(name: str) -> Corpus:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in CORPORA:
        raise UserInputError(f"unknown benchmark {name!r}; valid: {', '.join(CORPORA)}")
    return CORPORA[key]


def _check_label_set(label_set: str) -> None:
    if label_set not in LABEL_SETS:
        raise UserInputError(f"unknown label set {label_set!r}; valid: {', '.join(LABEL_SETS)}")


def label_names(name: str, label_set: str = "native") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(entity types, relation types) of a corpus in a label set, in ``ClassLabel`` order."""
    _check_label_set(label_set)
    corpus = get_corpus(name)
    if label_set == "odin":
        return ENTITY_TYPES, RELATION_TYPES
    return corpus.entity_types, corpus.relation_types


def benchmark_features(name: str, label_set: str = "native") -> datasets.Features:
    """The builder's features with the label names of ``name`` in ``label_set``."""
    return features_for(*label_names(name, label_set))


def load_benchmark_documents(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    label_set: str = "native",
    allow_subset: bool = False,
) -> dict[str, list[Document]]:
    """``{split: [Document, ...]}`` in train/validation/test order, only the splits present.

    Document and mention counts are checked against the original files (see
    :func:`.corpus.check_counts`); ``allow_subset`` accepts a part of a corpus, never an empty split.
    """
    _check_label_set(label_set)
    corpus = get_corpus(name)
    folder = resolve_corpus_dir(corpus, data_dir)
    splits = corpus.load(folder, corpus)
    check_counts(corpus, splits, folder, allow_subset)
    ordered = {split: splits[split] for split in SPLIT_ORDER if split in splits}
    if label_set == "odin":
        ordered = {split: [to_odin(doc, corpus.name) for doc in docs] for split, docs in ordered.items()}
    if not ordered:
        raise UserInputError(f"benchmark {corpus.name!r}: no split file found in {folder}")
    return ordered


def _example(doc: Document, config: str, split: str) -> dict[str, Any]:
    return document_to_example(doc, config, split, 0, 0)


def load_benchmark(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    label_set: str = "native",
    allow_subset: bool = False,
) -> datasets.DatasetDict:
    """A corpus as a ``DatasetDict`` with the synthetic builder's features.

    ``metadata.config`` is ``"<corpus>-<label_set>"``; ``seed`` and ``shard`` are 0 (nothing is
    sampled). Concept ids and document-level pairs are not columns (the features must stay the
    builder's): use :func:`load_benchmark_documents` and :func:`document_pairs` for them.
    """
    corpus = get_corpus(name)
    splits = load_benchmark_documents(name, data_dir, label_set, allow_subset)
    features = benchmark_features(corpus.name, label_set)
    config = f"{corpus.name}-{label_set}"
    return datasets.DatasetDict(
        {
            split: datasets.Dataset.from_list(
                [_example(d, config, split) for d in docs], features=features, split=split
            )
            for split, docs in splits.items()
        }
    )
