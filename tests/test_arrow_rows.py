"""The builder's Arrow batches hold exactly the rows ``datasets`` makes from ``document_to_example``."""

from __future__ import annotations

import datasets
import pytest

from odin_medical_ner_re.arrow_rows import RowEncoder
from odin_medical_ner_re.builder import document_to_example, features
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.knowledge import load_knowledge_base
from odin_medical_ner_re.schema import Document, Entity, Relation


def _expected(documents: list[Document]) -> datasets.Dataset:
    rows = [document_to_example(doc, "1k", "train", 42, 3) for doc in documents]
    return datasets.Dataset.from_list(rows, features=features())


@pytest.mark.parametrize("complexity", ["simple", "complex"])
def test_generated_notes(knowledge_dir: str, complexity: str) -> None:
    generator = MedicalTextGenerator(seed=11, complexity=complexity, knowledge_base=load_knowledge_base())
    documents = generator.generate_dataset(60)
    table = RowEncoder(features()).table(documents, "1k", "train", 42, 3)
    expected = _expected(documents).data.table
    assert table.schema == expected.schema
    assert table.to_pylist() == expected.to_pylist()


def test_unusual_documents() -> None:
    """No entities, overlapping mentions, a span cutting a word, no templates in the metadata."""
    documents = [
        Document("a", "", [], [], {}),
        Document(
            "b",
            "aspirin for headache pain",
            [
                Entity("T1", "aspirin", "Drug", 0, 7),
                Entity("T2", "headache pain", "Symptom", 12, 25, negated=True),
                Entity("T3", "headache", "Disease", 12, 20),
            ],
            [Relation("R1", "treats", "T1", "T3")],
            {"templates": ["x", "y"]},
        ),
        Document("c", "metformin", [Entity("T1", "metf", "Drug", 0, 4)], [], {"templates": []}),
    ]
    table = RowEncoder(features()).table(documents, "1k", "train", 42, 3)
    assert table.to_pylist() == _expected(documents).data.table.to_pylist()
