"""Training data: augmented variants of the training notes (``augment_factor``) beside the renamed copies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from odin_medical_ner_re.builder import is_held_out, surface_form_filter
from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.schema import Document, validate
from odin_medical_ner_re.training.arguments import DataArguments
from odin_medical_ner_re.training.data import with_augmented_copies, with_renamed_copies


@pytest.fixture(scope="module")
def notes() -> Iterator[list[Document]]:
    """Notes as the builder writes train (seed 42: no held-out form in them), on the packaged knowledge base."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ODIN_KNOWLEDGE_DIR", raising=False)
        generator = MedicalTextGenerator(seed=3, surface_form_filter=surface_form_filter("train", 42, 0.2))
        docs = generator.generate_dataset(40)
        for doc in docs:
            doc.metadata["seed"] = 42
        yield docs


def test_no_augmentation_by_default(notes: list[Document]) -> None:
    assert with_augmented_copies(notes, DataArguments(), seed=0) == notes


def test_augmented_variants_follow_the_notes_valid_and_without_held_out_forms(notes: list[Document]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ODIN_KNOWLEDGE_DIR", raising=False)
        args = DataArguments(augment_factor=1, augment_strategies="paraphrase,substitute,reword")
        out = with_augmented_copies(notes, args, seed=0)
        again = with_augmented_copies(notes, args, seed=0)
        other = with_augmented_copies(notes, args, seed=1)
    assert out[: len(notes)] == notes
    variants = out[len(notes) :]
    assert len(variants) > len(notes) // 2, "most notes get a variant"
    assert all(not validate(doc) for doc in variants)
    assert {doc.metadata["augmented_from"] for doc in variants} <= {doc.id for doc in notes}
    # substitution brings in real names the notes did not have, never a test_unseen one
    names = {e.text.casefold() for doc in notes for e in doc.entities}
    new_names = {e.text for doc in variants for e in doc.entities if e.text.casefold() not in names}
    assert new_names and not [name for name in new_names if is_held_out(name, 42, 0.2)]
    assert [d.text for d in again] == [d.text for d in out] != [d.text for d in other]
    # the renamed copies are made of the augmented set too
    copies = with_renamed_copies(out, DataArguments(pseudo_name_rate=0.5, pseudo_name_copies=1), seed=0)
    assert len(copies) == 2 * len(out)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"augment_factor": -1}, "augment_factor must be an integer from 0 to 100, got -1"),
        ({"augment_factor": 101}, "augment_factor must be an integer from 0 to 100, got 101"),
        ({"augment_factor": 1, "augment_strategies": "paraphrase,shuffle"}, "unknown strategy shuffle"),
    ],
)
def test_augmentation_mistakes_are_named(notes: list[Document], options: dict, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        with_augmented_copies(notes, DataArguments(**options), seed=0)
