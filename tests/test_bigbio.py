"""The one BigBIO converter: a document's ``bigbio_kb`` record, checked by hand."""

from __future__ import annotations

from odin_medical_ner_re.bigbio import bigbio_kb_features, bigbio_kb_record
from odin_medical_ner_re.schema import Document, Entity, Relation

TEXT = "Aspirin and rash. Aspirin caused a rash in one patient."


def _abstract() -> Document:
    """A PubTator-like abstract: title up to offset 17, concept ids per mention."""
    entities = [Entity("T1", "Aspirin", "Drug", 0, 7), Entity("T2", "rash", "Symptom", 35, 39)]
    metadata = {"pmid": "123", "title_end": 17, "concept_ids": {"T1": ["D001241"], "T2": ["42"]}}
    return Document("d1", TEXT, entities, [Relation("R1", "causes", "T1", "T2")], metadata=metadata)


def test_an_abstract_is_a_title_and_an_abstract_passage_with_concept_ids():
    record = bigbio_kb_record(_abstract())
    assert record["id"] == "d1" and record["document_id"] == "123"
    assert [(p["type"], p["text"], p["offsets"]) for p in record["passages"]] == [
        ("title", [TEXT[:17]], [[0, 17]]),
        ("abstract", [TEXT[18:]], [[18, len(TEXT)]]),
    ]
    first, second = record["entities"]
    assert (first["id"], first["offsets"], first["text"]) == ("d1-T1", [[0, 7]], ["Aspirin"])
    assert first["normalized"] == [{"db_name": "MESH", "db_id": "D001241"}]
    assert second["normalized"] == [{"db_name": "NCBIGene", "db_id": "42"}]
    assert record["relations"] == [
        {"id": "d1-R1", "type": "causes", "arg1_id": "d1-T1", "arg2_id": "d1-T2", "normalized": []}
    ]


def test_a_note_is_one_passage_and_its_record_fits_the_features():
    note = Document("n1", TEXT, [Entity("T1", "Aspirin", "Drug", 0, 7)], [])
    record = bigbio_kb_record(note)
    assert record["document_id"] == "n1"
    assert [(p["id"], p["type"], p["offsets"]) for p in record["passages"]] == [("n1-P0", "note", [[0, len(TEXT)]])]
    assert record["entities"][0]["normalized"] == []
    assert bigbio_kb_features().encode_example(record)["entities"][0]["offsets"] == [[0, 7]]
