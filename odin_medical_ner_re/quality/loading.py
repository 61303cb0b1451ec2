"""Loading any dataset the report can measure, as documents by split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..knowledge import KnowledgeBase, load_knowledge_base
from ..schema import Document, load_documents

#: Names accepted by the benchmark adapters (``odin_medical_ner_re.corpora``).
BENCHMARK_NAMES: tuple[str, ...] = ("biored", "bc5cdr", "ade", "ncbi_disease")


@dataclass
class SplitDocuments:
    """Documents of one dataset, by split (``"all"`` when the source has no splits)."""

    name: str
    splits: dict[str, list[Document]]
    source: str = ""

    @property
    def documents(self) -> list[Document]:
        return [doc for docs in self.splits.values() for doc in docs]


def dataset_documents(dataset: Any) -> list[Document]:
    """Rows of a ``datasets.Dataset`` (synthetic or benchmark) as documents.

    Label names come from the dataset's own ``ClassLabel`` features, so native benchmark
    labels survive; template ids are kept in the metadata (the builder's converter drops
    them) because the report counts template usage.
    """
    from ..builder import row_to_document

    features = dataset.features
    entity_names = _label_names(features, "entities")
    relation_names = _label_names(features, "relations")
    documents = []
    for row in dataset:
        doc = row_to_document(row, entity_names, relation_names)
        templates = (row.get("metadata") or {}).get("templates")
        if templates:
            doc.metadata["templates"] = list(templates)
        documents.append(doc)
    return documents


def _label_names(features: Any, column: str) -> list[str] | None:
    try:
        return list(features[column].feature["type"].names)
    except (KeyError, AttributeError, TypeError):
        return None


def _group_by_split(documents: list[Document]) -> dict[str, list[Document]]:
    """Split a flat document list by ``metadata["split"]`` when every document has one."""
    names = [doc.metadata.get("split") for doc in documents]
    if documents and all(isinstance(n, str) and n for n in names):
        grouped: dict[str, list[Document]] = {}
        for name, doc in zip(names, documents, strict=True):
            grouped.setdefault(str(name), []).append(doc)
        return grouped
    return {"all": documents}


def _from_dataset_object(data: Any) -> dict[str, list[Document]]:
    import datasets

    if isinstance(data, datasets.DatasetDict):
        return {name: dataset_documents(split) for name, split in data.items()}
    return {"all": dataset_documents(data)}


def load_split_documents(spec: str, *, split: str | None = None, label_set: str = "odin") -> SplitDocuments:
    """Documents from a JSON/JSONL file, a saved dataset folder, a builder config or a benchmark.

    ``split`` keeps only that split (an unknown split is a user error naming the valid ones).
    Documents are read without validation: invalid ones are what the report counts.
    """
    path = Path(spec)
    if path.is_file():
        splits, source = _group_by_split(load_documents(path, check=False)), f"file {path}"
    elif path.is_dir():
        import datasets

        try:
            data = datasets.load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as err:
            raise UserInputError(f"{path}: not a saved dataset folder ({err})") from None
        splits, source = _from_dataset_object(data), f"saved dataset {path}"
    else:
        splits, source = _load_named(spec, label_set)
    if split is not None:
        if split not in splits:
            raise UserInputError(f"{spec}: no split {split!r}; available: {', '.join(splits)}")
        splits = {split: splits[split]}
    if not any(splits.values()):
        raise UserInputError(f"{spec}: no documents")
    return SplitDocuments(name=_display_name(spec), splits=splits, source=source)


def _load_named(name: str, label_set: str) -> tuple[dict[str, list[Document]], str]:
    from ..builder import config_names, load_dataset

    if name in config_names():
        return _from_dataset_object(load_dataset(name)), f"builder config {name}"
    corpora = _corpora_module()
    known = set(BENCHMARK_NAMES)
    if corpora is not None:
        known |= set(getattr(corpora, "CORPORA", {})) | set(getattr(corpora, "ALIASES", {}))
    if name.lower() in known:
        if corpora is None:
            raise UserInputError(
                f"{name}: the benchmark adapters (odin_medical_ner_re.corpora) are not installed in this build"
            )
        if hasattr(corpora, "load_benchmark_documents"):
            splits = corpora.load_benchmark_documents(name, label_set=label_set)
        else:
            splits = _from_dataset_object(corpora.load_benchmark(name, label_set=label_set))
        return dict(splits), f"benchmark {name} ({label_set} labels)"
    raise UserInputError(
        f"{name}: not a file, a saved dataset folder, a builder config ({', '.join(config_names())}) "
        f"or a benchmark ({', '.join(sorted(known))})"
    )


def _corpora_module() -> Any:
    """The real-corpus adapters, imported only when asked for (they are optional here)."""
    try:
        from .. import corpora
    except ImportError as err:
        if err.name and err.name.endswith("corpora"):
            return None
        raise
    return corpora


def _display_name(spec: str) -> str:
    path = Path(spec)
    return path.name if path.exists() else spec


def load_kb_or_none() -> tuple[KnowledgeBase | None, str | None]:
    """The knowledge base, or ``None`` and the reason: a report must not die with the KB."""
    try:
        return load_knowledge_base(), None
    except UserInputError as err:
        return None, str(err).splitlines()[0]
