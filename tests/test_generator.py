"""The note generator: exact offsets, facts only from the knowledge base, coherent patients, determinism.

One dataset per complexity is generated once per module (a few thousand notes, about a
second each) and every property is checked over all of it, not over a handful of notes.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import pytest

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.generator import (
    COMPLEXITY_PRESETS,
    MedicalTextGenerator,
    NoteOptions,
    load_templates,
)
from odin_medical_ner_re.knowledge import Concept, KnowledgeBase, load_knowledge_base
from odin_medical_ner_re.schema import ENTITY_TYPES, RELATION_TYPES, Document, documents_to_json, validate

SIZES = {"simple": 3000, "complex": 1500}
_PATIENT = re.compile(r"\b(\d{2})(?:-year-old | yo | y/o |)(woman|female|lady|F|man|male|gentleman|M)\b")
_TEMPERATURE = re.compile(r"\b(\d{2,3}\.\d) ?°?([CF])\b")
_HEART_RATE = re.compile(r"\b(?:HR|P|pulse|heart rate) (\d+)\b")


@pytest.fixture(scope="module")
def kb() -> Iterator[KnowledgeBase]:
    """The packaged knowledge base for every generator of this module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ODIN_KNOWLEDGE_DIR", raising=False)
        yield load_knowledge_base()


@pytest.fixture(scope="module", params=list(SIZES))
def dataset(request: pytest.FixtureRequest, kb: KnowledgeBase) -> list[Document]:
    complexity = request.param
    return MedicalTextGenerator(seed=123, complexity=complexity, knowledge_base=kb).generate_dataset(
        SIZES[complexity]
    )


def _concept(kb: KnowledgeBase, text: str) -> Concept:
    concept = kb.lookup(text)
    assert concept is not None, f"{text!r} is not a surface form of the knowledge base"
    return concept


def test_every_document_is_valid_and_every_offset_exact(dataset: list[Document]) -> None:
    for doc in dataset:
        assert validate(doc) == [], doc.id
        for entity in doc.entities:
            assert doc.text[entity.start : entity.end] == entity.text
    assert len({doc.id for doc in dataset}) == len(dataset)


def test_every_relation_is_a_knowledge_base_edge(dataset: list[Document], kb: KnowledgeBase) -> None:
    for doc in dataset:
        by_id = doc.entity_by_id()
        for relation in doc.relations:
            head, tail = by_id[relation.head], by_id[relation.tail]
            edge = (relation.type, _concept(kb, head.text).name, _concept(kb, tail.text).name)
            assert edge in kb.edge_set, (doc.id, edge)


def test_every_entity_is_a_surface_form_of_its_type(dataset: list[Document], kb: KnowledgeBase) -> None:
    for doc in dataset:
        for entity in doc.entities:
            assert _concept(kb, entity.text).type == entity.type, (doc.id, entity)


def test_all_relation_and_entity_types_appear(dataset: list[Document]) -> None:
    assert {r.type for doc in dataset for r in doc.relations} == set(RELATION_TYPES)
    assert {e.type for doc in dataset for e in doc.entities} == set(ENTITY_TYPES)
    assert any(e.negated for doc in dataset for e in doc.entities)


def test_negated_mentions_carry_no_relation(dataset: list[Document]) -> None:
    for doc in dataset:
        negated = {e.id for e in doc.entities if e.negated}
        assert not any(r.head in negated or r.tail in negated for r in doc.relations), doc.id


def test_a_negated_concept_is_never_asserted_in_the_same_note(
    dataset: list[Document], kb: KnowledgeBase
) -> None:
    for doc in dataset:
        negated = {_concept(kb, e.text).name for e in doc.entities if e.negated}
        asserted = {_concept(kb, e.text).name for e in doc.entities if not e.negated}
        assert not negated & asserted, doc.id


def test_patients_fit_their_sex_and_age_specific_concepts(dataset: list[Document], kb: KnowledgeBase) -> None:
    demographics = load_templates().demographics
    limits = {"reproductive_age": (19, 44), "young_adult": (18, 30), "older_adult": (50, 92)}
    for doc in dataset:
        match = _PATIENT.search(doc.text)
        assert match, doc.text[:80]
        age, sex = (
            int(match.group(1)),
            "male" if match.group(2) in ("man", "male", "gentleman", "M") else "female",
        )
        for entity in doc.entities:
            name = _concept(kb, entity.text).name.lower()
            if any(k in name for k in demographics["female"]):
                assert sex == "female", (doc.id, name)
            elif any(k in name for k in demographics["male"]):
                assert sex == "male", (doc.id, name)
            for key, (low, high) in limits.items():
                if any(k in name for k in demographics[key]):
                    assert low <= age <= high, (doc.id, name, age)


def test_vitals_agree_with_the_asserted_signs(dataset: list[Document], kb: KnowledgeBase) -> None:
    signs = load_templates().vitals["signs"]
    checked = 0
    for doc in dataset:
        asserted = {_concept(kb, e.text).name for e in doc.entities if e.type == "Symptom" and not e.negated}
        feverish = bool(asserted & {*signs["fever"], *signs["hyperthermia"]})
        for value, unit in _TEMPERATURE.findall(doc.text):
            checked += 1
            febrile = float(value) >= (38.0 if unit == "C" else 100.4)
            assert febrile == feverish, (doc.id, value, unit, sorted(asserted))
        if "afebrile" in doc.text.lower():
            assert not feverish, doc.id
        for rate in _HEART_RATE.findall(doc.text):
            assert (int(rate) > 100) == bool(asserted & set(signs["tachycardia"])), (doc.id, rate)
    assert checked


def test_vaccines_are_administered_not_taken(dataset: list[Document], kb: KnowledgeBase) -> None:
    for doc in dataset:
        for entity in doc.entities:
            if "vaccine" in _concept(kb, entity.text).name.lower():
                before = doc.text[max(0, entity.start - 12) : entity.start].lower().split()
                assert not before or before[-1] not in {
                    "takes",
                    "start",
                    "continue",
                    "cont",
                    "resume",
                    "restart",
                }


def test_text_is_tidy(dataset: list[Document]) -> None:
    for doc in dataset:
        text = doc.text
        assert "  " not in text and " ." not in text and " ," not in text and ".." not in text, text
        assert not re.search(r"\b[Aa] (8\d|18|11)\b", text), text  # "an 81-year-old", never "a 81"
        assert text == text.strip()


def test_same_seed_same_bytes_other_seed_other_text(kb: KnowledgeBase) -> None:
    for complexity in COMPLEXITY_PRESETS:
        first = MedicalTextGenerator(seed=5, complexity=complexity, knowledge_base=kb).generate_dataset(200)
        again = MedicalTextGenerator(seed=5, complexity=complexity, knowledge_base=kb).generate_dataset(200)
        other = MedicalTextGenerator(seed=6, complexity=complexity, knowledge_base=kb).generate_dataset(200)
        assert documents_to_json(first) == documents_to_json(again)
        assert [d.text for d in first] != [d.text for d in other]


def test_restart_continues_as_a_new_generator_would(kb: KnowledgeBase) -> None:
    """The builder restarts one generator per shard: the notes must be a fresh generator's."""
    for complexity in COMPLEXITY_PRESETS:
        reused = MedicalTextGenerator(seed=5, complexity=complexity, knowledge_base=kb)
        reused.generate_dataset(150)
        reused.restart(6)
        fresh = MedicalTextGenerator(seed=6, complexity=complexity, knowledge_base=kb).generate_dataset(150)
        assert documents_to_json(reused.generate_dataset(150)) == documents_to_json(fresh)


def test_the_global_random_state_is_untouched(kb: KnowledgeBase) -> None:
    random.seed(2024)
    before = random.getstate()
    for complexity in COMPLEXITY_PRESETS:
        MedicalTextGenerator(seed=9, complexity=complexity, knowledge_base=kb).generate_dataset(100)
    assert random.getstate() == before


def test_the_surface_form_filter_is_respected(kb: KnowledgeBase) -> None:
    """Only kept forms appear; the filter's test ignores case, as sentence starts capitalize."""

    def keep(form: str) -> bool:
        return len(form) % 3 != 0

    documents = MedicalTextGenerator(seed=3, knowledge_base=kb, surface_form_filter=keep).generate_dataset(
        500
    )
    texts = [e.text for doc in documents for e in doc.entities]
    assert texts and all(keep(text) for text in texts)
    for doc in documents:
        assert validate(doc) == []
        by_id = doc.entity_by_id()
        for r in doc.relations:
            assert kb.is_edge(r.type, by_id[r.head].text, by_id[r.tail].text)


def test_options_are_checked() -> None:
    with pytest.raises(UserInputError, match="unknown complexity"):
        MedicalTextGenerator(complexity="baroque")
    with pytest.raises(UserInputError, match="unknown option"):
        MedicalTextGenerator(colour="blue")
    with pytest.raises(UserInputError, match="negation_rate"):
        NoteOptions(negation_rate=1.5)
    with pytest.raises(UserInputError, match="min_facts"):
        NoteOptions(min_facts=5, max_facts=2)
    with pytest.raises(UserInputError, match="positive integer"):
        MedicalTextGenerator().generate_dataset(0)


def test_generate_clinical_note_takes_an_id_and_records_its_templates(kb: KnowledgeBase) -> None:
    generator = MedicalTextGenerator(seed=1, knowledge_base=kb)
    doc = generator.generate_clinical_note("note-x")
    assert doc.id == "note-x"
    assert doc.metadata["seed"] == 1 and doc.metadata["templates"]
    assert generator.generate_clinical_note().id == "doc-000002"


def test_generation_leaves_the_garbage_collector_as_it_found_it(kb: KnowledgeBase) -> None:
    import gc

    generator = MedicalTextGenerator(seed=4, knowledge_base=kb)
    assert gc.isenabled()
    generator.generate_dataset(20)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        generator.generate_dataset(20)
        assert not gc.isenabled()
    finally:
        gc.enable()
