"""The generator's API: determinism, restart, the surface-form filter, options, ids, the garbage collector.

What the notes say and how they are written is tested in ``test_generator_planning.py`` and
``test_generator_writing.py``; the template file in ``test_generator_templates.py``.
"""

from __future__ import annotations

import random

import pytest

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.generator import (
    COMPLEXITY_PRESETS,
    MedicalTextGenerator,
    NoteOptions,
)
from odin_medical_ner_re.knowledge import KnowledgeBase
from odin_medical_ner_re.schema import Document, documents_to_json, validate


def test_same_seed_same_bytes_other_seed_other_text(generator_kb: KnowledgeBase) -> None:
    def notes(seed: int, complexity: str) -> list[Document]:
        return MedicalTextGenerator(seed, complexity, generator_kb).generate_dataset(200)

    for complexity in COMPLEXITY_PRESETS:
        first, again, other = notes(5, complexity), notes(5, complexity), notes(6, complexity)
        assert documents_to_json(first) == documents_to_json(again)
        assert [d.text for d in first] != [d.text for d in other]


def test_restart_continues_as_a_new_generator_would(generator_kb: KnowledgeBase) -> None:
    """The builder restarts one generator per shard: the notes must be a fresh generator's."""
    for complexity in COMPLEXITY_PRESETS:
        reused = MedicalTextGenerator(seed=5, complexity=complexity, knowledge_base=generator_kb)
        reused.generate_dataset(150)
        reused.restart(6)
        fresh = MedicalTextGenerator(
            seed=6, complexity=complexity, knowledge_base=generator_kb
        ).generate_dataset(150)
        assert documents_to_json(reused.generate_dataset(150)) == documents_to_json(fresh)


def test_the_global_random_state_is_untouched(generator_kb: KnowledgeBase) -> None:
    random.seed(2024)
    before = random.getstate()
    for complexity in COMPLEXITY_PRESETS:
        MedicalTextGenerator(seed=9, complexity=complexity, knowledge_base=generator_kb).generate_dataset(100)
    assert random.getstate() == before


def test_the_surface_form_filter_is_respected(generator_kb: KnowledgeBase) -> None:
    """Only kept forms appear; the filter's test ignores case, as sentence starts capitalize."""

    def keep(form: str) -> bool:
        return len(form) % 3 != 0

    documents = MedicalTextGenerator(
        seed=3, knowledge_base=generator_kb, surface_form_filter=keep
    ).generate_dataset(500)
    texts = [e.text for doc in documents for e in doc.entities]
    assert texts and all(keep(text) for text in texts)
    for doc in documents:
        assert validate(doc) == []
        by_id = doc.entity_by_id()
        for r in doc.relations:
            assert generator_kb.is_edge(r.type, by_id[r.head].text, by_id[r.tail].text)


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


def test_generate_clinical_note_takes_an_id_and_records_its_templates(generator_kb: KnowledgeBase) -> None:
    generator = MedicalTextGenerator(seed=1, knowledge_base=generator_kb)
    doc = generator.generate_clinical_note("note-x")
    assert doc.id == "note-x"
    assert doc.metadata["seed"] == 1 and doc.metadata["templates"]
    assert generator.generate_clinical_note().id == "doc-000002"


def test_generation_leaves_the_garbage_collector_as_it_found_it(generator_kb: KnowledgeBase) -> None:
    import gc

    generator = MedicalTextGenerator(seed=4, knowledge_base=generator_kb)
    assert gc.isenabled()
    generator.generate_dataset(20)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        generator.generate_dataset(20)
        assert not gc.isenabled()
    finally:
        gc.enable()
