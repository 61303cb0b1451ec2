"""Writing: exact offsets, entities written as surface forms of their type, tidy text.

Checked over every note of a few thousand per complexity (the ``generated_notes`` fixture).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from odin_medical_ner_re.knowledge import Concept
from odin_medical_ner_re.schema import Document, validate

ConceptOf = Callable[[str], Concept]


def test_every_document_is_valid_and_every_offset_exact(generated_notes: list[Document]) -> None:
    for doc in generated_notes:
        assert validate(doc) == [], doc.id
        for entity in doc.entities:
            assert doc.text[entity.start : entity.end] == entity.text
    assert len({doc.id for doc in generated_notes}) == len(generated_notes)


def test_every_entity_is_a_surface_form_of_its_type(
    generated_notes: list[Document], concept_of: ConceptOf
) -> None:
    for doc in generated_notes:
        for entity in doc.entities:
            assert concept_of(entity.text).type == entity.type, (doc.id, entity)


def test_text_is_tidy(generated_notes: list[Document]) -> None:
    for doc in generated_notes:
        text = doc.text
        assert "  " not in text and " ." not in text and " ," not in text and ".." not in text, text
        assert not re.search(r"\b[Aa] (8\d|18|11)\b", text), text  # "an 81-year-old", never "a 81"
        assert text == text.strip()
