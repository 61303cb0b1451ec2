"""BigBIO kb JSONL and PubTator export of synthetic and benchmark splits, and reading them back."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import datasets
import pytest

from odin_medical_ner_re.bigbio import bigbio_kb_record
from odin_medical_ner_re.builder import document_to_example, features
from odin_medical_ner_re.builder import to_bigbio_kb as builder_bigbio
from odin_medical_ner_re.corpora import CORPORA, load_benchmark, load_benchmark_documents
from odin_medical_ner_re.corpora.corpus import DEFAULT_ROOT, ENV_VAR
from odin_medical_ner_re.corpora.export import (
    documents_of,
    read_bigbio_jsonl,
    read_pubtator_documents,
    write_bigbio_jsonl,
    write_pubtator_documents,
)
from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.schema import Document

ROOT = Path(os.environ.get(ENV_VAR) or DEFAULT_ROOT).resolve()
needs_corpora = pytest.mark.skipif(
    not (ROOT / "MD5SUMS").is_file(), reason=f"benchmark corpora not found at {ROOT} (set {ENV_VAR})"
)


def _content(doc: Document, newlines_as_spaces: bool = False) -> dict[str, Any]:
    """What both formats must preserve: text, entities (no negation flag) and relations."""
    text = doc.text.replace("\n", " ") if newlines_as_spaces else doc.text
    return {
        "id": doc.id,
        "text": text,
        "entities": [(e.id, e.text, e.type, e.start, e.end) for e in doc.entities],
        "relations": [(r.id, r.type, r.head, r.tail) for r in doc.relations],
    }


@pytest.fixture(scope="module")
def synthetic() -> list[Document]:
    simple = MedicalTextGenerator(seed=7)
    complex_ = MedicalTextGenerator(seed=8, complexity="complex")
    return [simple.generate_clinical_note(f"s-{i}") for i in range(20)] + [
        complex_.generate_clinical_note(f"c-{i}") for i in range(10)
    ]


@pytest.fixture(scope="module")
def synthetic_split(synthetic: list[Document]) -> datasets.Dataset:
    rows = [document_to_example(d, "1k", "test", 42, 0) for d in synthetic]
    return datasets.Dataset.from_list(rows, features=features())


def test_synthetic_bigbio_round_trip(tmp_path: Path, synthetic: list[Document], synthetic_split: datasets.Dataset) -> None:
    assert any("\n" in d.text for d in synthetic) and any(e.negated for d in synthetic for e in d.entities)
    for source in (synthetic, synthetic_split):
        back = read_bigbio_jsonl(write_bigbio_jsonl(source, tmp_path / "synthetic.jsonl"))
        assert [_content(d) for d in back] == [_content(d) for d in synthetic]


def test_bigbio_records_agree_with_the_builder(synthetic_split: datasets.Dataset) -> None:
    ours = [bigbio_kb_record(d) for d in documents_of(synthetic_split)]
    assert ours == list(builder_bigbio(synthetic_split))


def test_synthetic_pubtator_round_trip(tmp_path: Path, synthetic_split: datasets.Dataset, synthetic: list[Document]) -> None:
    path = write_pubtator_documents(synthetic_split, tmp_path / "synthetic.PubTator")
    back = read_pubtator_documents(path)
    assert [_content(d) for d in back] == [_content(d, newlines_as_spaces=True) for d in synthetic]


def test_bigbio_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "passages": [], "entities": [], "relations": []}\n{not json\n', encoding="utf-8")
    with pytest.raises(UserInputError, match=r"bad\.jsonl, line 2: invalid JSON"):
        read_bigbio_jsonl(path)
    path.write_text('{"passages": []}\n', encoding="utf-8")
    with pytest.raises(UserInputError, match="line 1: not a bigbio_kb record"):
        read_bigbio_jsonl(path)
    with pytest.raises(UserInputError, match="no such file"):
        read_bigbio_jsonl(tmp_path / "absent.jsonl")


@needs_corpora
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.slow] if n != "ncbi_disease" else []) for n in CORPORA]
)
def test_benchmark_round_trips(tmp_path: Path, name: str) -> None:
    for label_set in ("native", "odin"):
        docs = [d for split in load_benchmark_documents(name, label_set=label_set).values() for d in split]
        pubtator = read_pubtator_documents(write_pubtator_documents(docs, tmp_path / "x.PubTator"), corpus=name)
        assert [_content(d) for d in pubtator] == [_content(d) for d in docs]
        for before, after in zip(docs, pubtator, strict=True):
            assert after.metadata["concept_ids"] == before.metadata.get("concept_ids", {e.id: [e.id] for e in before.entities})
            if "document_relations" in before.metadata:
                assert after.metadata["document_relations"] == before.metadata["document_relations"]
        bigbio = read_bigbio_jsonl(write_bigbio_jsonl(docs, tmp_path / "x.jsonl"))
        assert [_content(d) for d in bigbio] == [_content(d) for d in docs]
        for before, after in zip(docs, bigbio, strict=True):
            ids = before.metadata.get("concept_ids") or {}
            assert after.metadata.get("concept_ids") == (ids if any(ids.values()) else None)


@needs_corpora
def test_benchmark_dataset_split_exports(tmp_path: Path) -> None:
    split = load_benchmark("ncbi_disease")["test"]
    back = read_pubtator_documents(write_pubtator_documents(split, tmp_path / "ncbi.PubTator"))
    assert [_content(d) for d in back] == [_content(d) for d in load_benchmark_documents("ncbi_disease")["test"]]
