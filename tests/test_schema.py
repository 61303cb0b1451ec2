"""Schema: validation reports every problem at once; JSON/JSONL round trips; the seed's shape loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.schema import (
    Document,
    Entity,
    Relation,
    load_documents,
    save_documents,
    struct_rows,
    validate,
)

TEXT = "Metformin for type 2 diabetes."


def _valid() -> Document:
    return Document(
        "d1",
        TEXT,
        [Entity("T1", "Metformin", "Drug", 0, 9), Entity("T2", "type 2 diabetes", "Disease", 14, 29)],
        [Relation("R1", "treats", "T1", "T2")],
        {"seed": 1, "templates": ["treats.plan.0"]},
    )


def test_a_valid_document_has_no_problem() -> None:
    assert validate(_valid()) == []


def test_validate_lists_every_problem_at_once() -> None:
    doc = Document(
        "bad",
        TEXT,
        [
            Entity("T1", "Metformin", "Drug", 0, 9),
            Entity("T2", "type 2", "Disease", 14, 29),  # text does not match the offsets
            Entity("T3", "diabetes", "Condition", 21, 29),  # unknown type
            Entity("T1", "for", "Symptom", 10, 13),  # duplicate id
            Entity("T5", "x", "Drug", 40, 41),  # outside the text
        ],
        [
            Relation("R1", "treats", "T2", "T1"),  # Disease -> Drug: invalid argument types
            Relation("R2", "causes", "T1", "T9"),  # dangling tail
            Relation("R2", "treats", "T1", "T2"),  # duplicate relation id
            Relation("R4", "cures", "T1", "T2"),  # unknown relation type
        ],
    )
    problems = validate(doc)
    expected = [
        "entity 'T2': text 'type 2' != text[14:29] 'type 2 diabetes'",
        "entity 'T3': unknown type 'Condition'",
        "entity 'T1': duplicate entity id",
        "entity 'T5': offsets [40, 41) outside text",
        "relation 'R1': treats cannot link",
        "relation 'R2': tail 'T9' is not an entity id",
        "relation 'R2': duplicate relation id",
        "relation 'R4': unknown type 'cures'",
    ]
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)


def test_duplicate_relation_triples_are_reported() -> None:
    doc = _valid()
    doc.relations.append(Relation("R2", "treats", "T1", "T2"))
    assert any("duplicate relation treats(T1, T2)" in p for p in validate(doc))


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_round_trip_is_exact(tmp_path: Path, suffix: str) -> None:
    negated = Document("d2", "Denies fever.", [Entity("T1", "fever", "Symptom", 7, 12, negated=True)])
    documents = [_valid(), negated, Document("d3", "Nothing here.", metadata={"note": "é ✓"})]
    first = save_documents(documents, tmp_path / f"a{suffix}")
    loaded = load_documents(first)
    assert [d.to_dict() for d in loaded] == [d.to_dict() for d in documents]
    second = save_documents(loaded, tmp_path / f"b{suffix}")
    assert first.read_bytes() == second.read_bytes()
    if suffix == ".jsonl":
        assert len(first.read_text(encoding="utf-8").splitlines()) == len(documents)


def test_the_seed_shape_loads(tmp_path: Path) -> None:
    """Seed files have no ids and relations that hold whole head/tail entity dicts."""
    metformin = {"text": "Metformin", "type": "Drug", "start": 0, "end": 9}
    diabetes = {"text": "type 2 diabetes", "type": "Disease", "start": 14, "end": 29}
    seed = [
        {
            "text": TEXT,
            "entities": [metformin, diabetes],
            "relations": [{"type": "treats", "head": metformin, "tail": {"text": "type 2 diabetes"}}],
        }
    ]
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    (doc,) = load_documents(path)
    assert [e.id for e in doc.entities] == ["T1", "T2"]
    assert doc.relations == [Relation("R1", "treats", "T1", "T2")]
    assert validate(doc) == []


def test_a_seed_relation_naming_no_entity_is_an_error(tmp_path: Path) -> None:
    seed = [
        {
            "text": "abc",
            "entities": [],
            "relations": [{"type": "treats", "head": {"text": "x"}, "tail": "T2"}],
        }
    ]
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    with pytest.raises(UserInputError, match="matches no entity"):
        load_documents(path)


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"text": "x",\n  "entities": [}]', encoding="utf-8")
    with pytest.raises(UserInputError, match=r"broken\.json: line 2, column \d+"):
        load_documents(path)


def test_an_invalid_document_is_reported_with_its_id_and_all_problems(tmp_path: Path) -> None:
    bad = _valid().to_dict()
    bad["id"] = "note-7"
    bad["entities"][0]["type"] = "Medicine"
    bad["entities"][1]["start"] = 13
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_valid().to_dict()) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(UserInputError) as caught:
        load_documents(path)
    message = str(caught.value)
    assert "bad.jsonl:2" in message and "note-7" in message
    assert "unknown type 'Medicine'" in message and "text[13:29]" in message
    assert "\n" not in message


def test_a_failed_save_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("previous", encoding="utf-8")

    def broken() -> object:
        yield _valid()
        raise RuntimeError("generation failed")

    with pytest.raises(RuntimeError):
        save_documents(broken(), target)  # type: ignore[arg-type]
    assert target.read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_json_arrays_are_streamed_with_the_same_bytes(tmp_path):
    from odin_medical_ner_re.generator import MedicalTextGenerator
    from odin_medical_ner_re.schema import documents_to_json

    for n in (0, 1, 4):
        docs = list(MedicalTextGenerator(seed=1).iter_documents(n)) if n else []
        path = save_documents(docs, tmp_path / "d.json")
        assert path.read_text(encoding="utf-8") == documents_to_json(docs) + "\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"id": "a", "text": "x\\ud800", "entities": [], "relations": []}\n', "half a surrogate pair"),
        (
            '{"id": "a", "text": "x", "entities": [], "relations": []}\n'
            '{"id": "a", "text": "y", "entities": [], "relations": []}\n',
            r"duplicate document id 'a' \(first at .*:1\)",
        ),
        (
            '{"id": "a", "text": "xy", "entities": [{"start": 0, "end": 1e400, "type": "Drug", "text": "x"}]}\n',
            "entity 0 is malformed",
        ),
    ],
)
def test_hostile_json_is_one_user_error(tmp_path, content, message):
    path = tmp_path / "d.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserInputError, match=message):
        load_documents(path)


def test_struct_rows_reads_both_shapes_datasets_hands_over():
    as_dicts = [{"id": "T1", "start": 0}, {"id": "T2", "start": 5}]
    assert struct_rows({"id": ["T1", "T2"], "start": [0, 5]}) == as_dicts
    assert struct_rows(as_dicts) == as_dicts and struct_rows(tuple(as_dicts)) == as_dicts
    assert struct_rows(None) == [] and struct_rows({}) == [] and struct_rows([]) == []
    with pytest.raises(ValueError, match="different lengths"):
        struct_rows({"id": ["T1", "T2"], "start": [0]})
    with pytest.raises(TypeError, match="column 'start' must be a list, got int"):
        struct_rows({"id": ["T1"], "start": 0})
    with pytest.raises(TypeError, match="must be a list, got str"):
        struct_rows("T1")
