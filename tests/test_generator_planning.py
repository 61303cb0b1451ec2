"""Planning: every relation a knowledge-base fact, coherent patients, vitals that agree with the note.

Checked over every note of a few thousand per complexity (the ``generated_notes`` fixture).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from odin_medical_ner_re.generator import load_templates
from odin_medical_ner_re.knowledge import Concept, KnowledgeBase
from odin_medical_ner_re.schema import ENTITY_TYPES, RELATION_TYPES, Document

ConceptOf = Callable[[str], Concept]
_PATIENT = re.compile(r"\b(\d{2})(?:-year-old | yo | y/o |)(woman|female|lady|F|man|male|gentleman|M)\b")
_TEMPERATURE = re.compile(r"\b(\d{2,3}\.\d) ?°?([CF])\b")
_HEART_RATE = re.compile(r"\b(?:HR|P|pulse|heart rate) (\d+)\b")


def test_every_relation_is_a_knowledge_base_edge(
    generated_notes: list[Document], generator_kb: KnowledgeBase, concept_of: ConceptOf
) -> None:
    for doc in generated_notes:
        by_id = doc.entity_by_id()
        for relation in doc.relations:
            head, tail = by_id[relation.head], by_id[relation.tail]
            edge = (relation.type, concept_of(head.text).name, concept_of(tail.text).name)
            assert edge in generator_kb.edge_set, (doc.id, edge)


def test_all_relation_and_entity_types_appear(generated_notes: list[Document]) -> None:
    assert {r.type for doc in generated_notes for r in doc.relations} == set(RELATION_TYPES)
    assert {e.type for doc in generated_notes for e in doc.entities} == set(ENTITY_TYPES)
    assert any(e.negated for doc in generated_notes for e in doc.entities)


def test_negated_mentions_carry_no_relation(generated_notes: list[Document]) -> None:
    for doc in generated_notes:
        negated = {e.id for e in doc.entities if e.negated}
        assert not any(r.head in negated or r.tail in negated for r in doc.relations), doc.id


def test_a_negated_concept_is_never_asserted_in_the_same_note(
    generated_notes: list[Document], concept_of: ConceptOf
) -> None:
    for doc in generated_notes:
        negated = {concept_of(e.text).name for e in doc.entities if e.negated}
        asserted = {concept_of(e.text).name for e in doc.entities if not e.negated}
        assert not negated & asserted, doc.id


def test_patients_fit_their_sex_and_age_specific_concepts(
    generated_notes: list[Document], concept_of: ConceptOf
) -> None:
    demographics = load_templates().demographics
    limits = {"reproductive_age": (19, 44), "young_adult": (18, 30), "older_adult": (50, 92)}
    for doc in generated_notes:
        match = _PATIENT.search(doc.text)
        assert match, doc.text[:80]
        age, sex = (
            int(match.group(1)),
            "male" if match.group(2) in ("man", "male", "gentleman", "M") else "female",
        )
        for entity in doc.entities:
            name = concept_of(entity.text).name.lower()
            if any(k in name for k in demographics["female"]):
                assert sex == "female", (doc.id, name)
            elif any(k in name for k in demographics["male"]):
                assert sex == "male", (doc.id, name)
            for key, (low, high) in limits.items():
                if any(k in name for k in demographics[key]):
                    assert low <= age <= high, (doc.id, name, age)


def test_vitals_agree_with_the_asserted_signs(generated_notes: list[Document], concept_of: ConceptOf) -> None:
    signs = load_templates().vitals["signs"]
    checked = 0
    for doc in generated_notes:
        asserted = {concept_of(e.text).name for e in doc.entities if e.type == "Symptom" and not e.negated}
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


def test_vaccines_are_administered_not_taken(generated_notes: list[Document], concept_of: ConceptOf) -> None:
    for doc in generated_notes:
        for entity in doc.entities:
            if "vaccine" in concept_of(entity.text).name.lower():
                before = doc.text[max(0, entity.start - 12) : entity.start].lower().split()
                assert not before or before[-1] not in {
                    "takes",
                    "start",
                    "continue",
                    "cont",
                    "resume",
                    "restart",
                }
