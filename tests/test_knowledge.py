"""The packaged knowledge base: size, coverage, known facts; the loader's checks on small files."""

from __future__ import annotations

from pathlib import Path

import pytest

from odin_medical_ner_re.knowledge import KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from odin_medical_ner_re.knowledge.loader import coverage_problems
from odin_medical_ner_re.schema import VALID_RELATION_ARGUMENTS

MINIMUM_CONCEPTS = {"Disease": 150, "Symptom": 150, "Drug": 200, "Procedure": 60, "Lab_Test": 80}
TRUE_EDGES = [
    ("treats", "metformin", "type 2 diabetes mellitus"),
    ("causes", "influenza", "fever"),
    ("indicates", "hemoglobin A1c", "type 2 diabetes mellitus"),
    ("prevents", "atorvastatin", "myocardial infarction"),
    ("prevents", "colonoscopy", "colorectal cancer"),
]
FALSE_EDGES = [("treats", "metformin", "asthma")]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    """The packaged base, whatever ODIN_KNOWLEDGE_DIR says (other modules point it at a fixture)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ODIN_KNOWLEDGE_DIR", raising=False)
        return load_knowledge_base()


def test_packaged_base_is_large_enough(kb: KnowledgeBase) -> None:
    counts = kb.counts()
    for entity_type, minimum in MINIMUM_CONCEPTS.items():
        assert counts[entity_type] >= minimum, (entity_type, counts[entity_type])
    assert counts["edges"] >= 1_500


def test_every_relation_and_head_type_pair_is_covered(kb: KnowledgeBase) -> None:
    assert coverage_problems(kb) == []
    present = {(e.relation, kb.concepts[e.head].type, kb.concepts[e.tail].type) for e in kb.edges}
    assert present == set(VALID_RELATION_ARGUMENTS)


@pytest.mark.parametrize(("relation", "head", "tail"), TRUE_EDGES)
def test_known_true_edges_are_present(kb: KnowledgeBase, relation: str, head: str, tail: str) -> None:
    assert kb.is_edge(relation, head, tail)


@pytest.mark.parametrize(("relation", "head", "tail"), FALSE_EDGES)
def test_known_false_edges_are_absent(kb: KnowledgeBase, relation: str, head: str, tail: str) -> None:
    assert not kb.is_edge(relation, head, tail)


def test_edges_resolve_surface_forms(kb: KnowledgeBase) -> None:
    """Synonyms, brands and abbreviations name the same concept (case-insensitively)."""
    assert kb.is_edge("treats", "Glucophage", "T2DM") or kb.is_edge("treats", "metformin", "T2DM")
    assert kb.lookup("METFORMIN") is kb.lookup("metformin")


def test_every_edge_argument_has_the_schema_type(kb: KnowledgeBase) -> None:
    valid = set(VALID_RELATION_ARGUMENTS)
    assert all((e.relation, kb.concepts[e.head].type, kb.concepts[e.tail].type) in valid for e in kb.edges)


# --------------------------------------------------------------------------- loader checks

HEADER = 'source: "test"\ndomain: test\n'


def _write(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.yaml").write_text(HEADER + body, encoding="utf-8")


def _problems(folder: Path) -> str:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(folder)
    return str(caught.value)


def test_a_small_consistent_base_loads(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a",
        "diseases:\n  - name: influenza\n    synonyms: [flu]\nsymptoms:\n  - name: fever\n"
        "causes:\n  - [influenza, fever]\n",
    )
    kb = load_knowledge_base(tmp_path)
    assert kb.is_edge("causes", "flu", "fever")


def test_unknown_names_in_edges_are_reported(tmp_path: Path) -> None:
    _write(
        tmp_path, "a", "diseases:\n  - name: influenza\ncauses:\n  - [influenza, feverr]\n  - [flu, cough]\n"
    )
    message = _problems(tmp_path)
    assert "unknown tail 'feverr'" in message
    assert "unknown head 'flu'" in message  # a synonym is not a canonical name
    assert "3 knowledge-base problem(s)" in message  # flu and cough: every problem, not the first


def test_duplicates_are_reported(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a",
        "diseases:\n  - name: influenza\n  - name: influenza\nsymptoms:\n  - name: fever\n"
        "causes:\n  - [influenza, fever]\n  - [influenza, fever]\n",
    )
    message = _problems(tmp_path)
    assert "'influenza': duplicate definition in the same file" in message
    assert "duplicate edge" in message


def test_surface_form_collisions_are_reported(tmp_path: Path) -> None:
    _write(tmp_path, "a", "diseases:\n  - name: multiple sclerosis\n    abbreviations: [MS]\n")
    _write(tmp_path, "b", "diseases:\n  - name: mitral stenosis\n    abbreviations: [ms]\n")
    message = _problems(tmp_path)
    assert "surface form 'ms' belongs to several concepts" in message
    assert "multiple sclerosis" in message and "mitral stenosis" in message


def test_wrong_argument_types_and_missing_qualifiers_are_reported(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a",
        "diseases:\n  - name: influenza\nsymptoms:\n  - name: fever\nlab_tests:\n  - name: rapid antigen test\n"
        "treats:\n  - [fever, influenza]\nindicates:\n  - [rapid antigen test, influenza]\n",
    )
    message = _problems(tmp_path)
    assert "treats cannot link Symptom -> Disease" in message
    assert "needs a qualifier" in message


def test_a_file_without_source_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("diseases:\n  - name: influenza\n", encoding="utf-8")
    assert "missing 'source'" in _problems(tmp_path)


def test_a_knowledge_file_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    mini = Path(__file__).parent / "fixtures" / "kb" / "mini.yaml"
    (tmp_path / "mini.yaml").write_bytes(mini.read_bytes() + b"\n# caf\xe9\n")
    with pytest.raises(KnowledgeBaseError, match=r"mini\.yaml, line \d+: not valid UTF-8 \(byte 0xe9"):
        load_knowledge_base(tmp_path)
