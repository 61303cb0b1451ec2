"""score_checks.py: what ``stats`` refuses is refused before scoring, or skipped and counted."""

from __future__ import annotations

import copy

import pytest

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.score_checks import check_scoring_inputs
from odin_medical_ner_re.scoring import score_documents

TEXT = "Aspirin relieves headache."
REF = {
    "id": "n1",
    "text": TEXT,
    "entities": [
        {"id": "E1", "start": 0, "end": 7, "type": "Drug", "text": "Aspirin"},
        {"id": "E2", "start": 17, "end": 25, "type": "Symptom", "text": "headache"},
    ],
    "relations": [{"type": "treats", "head": "E1", "tail": "E2"}],
}


def _pred(**change: object) -> dict:
    pred = copy.deepcopy(REF)
    del pred["text"]  # checked against the reference's text
    pred["entities"][0].update(change)
    return pred


def test_span_text_that_is_not_the_text_is_an_error_naming_it() -> None:
    with pytest.raises(
        UserInputError, match=r"prediction document 0 \(id 'n1'\): entity 0 \(id 'E1'\) text 'Aspirine'"
    ):
        check_scoring_inputs([_pred(text="Aspirine")], [REF])


def test_lenient_drops_the_entity_and_its_relations_and_counts() -> None:
    preds, refs, skipped = check_scoring_inputs([_pred(text="Aspirine")], [REF], lenient=True)
    assert skipped == {"text_mismatch": 1, "relation_of_skipped_entity": 1}
    assert [e["id"] for e in preds[0]["entities"]] == ["E2"] and preds[0]["relations"] == []
    report = score_documents(preds, refs)
    assert report["ner"]["strict"]["micro"]["correct"] == 1


def test_unknown_types_and_repeated_ids() -> None:
    with pytest.raises(UserInputError, match="unknown type 'Medication'"):
        check_scoring_inputs([_pred(type="Medication")], [REF])
    with pytest.raises(UserInputError, match="duplicate document id 'n1' \\(first at document 0\\)"):
        check_scoring_inputs([_pred(), _pred()], [REF, REF])
    preds, refs, skipped = check_scoring_inputs([_pred(), _pred()], [REF, REF], lenient=True)
    assert (len(preds), len(refs), skipped) == (1, 1, {"duplicate_document_id": 2})


def test_the_references_labels_are_known_and_given_labels_are_exact() -> None:
    native = copy.deepcopy(REF)
    native["entities"][0]["type"] = "Chemical"
    pred = _pred(type="Chemical")
    assert check_scoring_inputs([pred], [native])[2] == {}
    with pytest.raises(UserInputError, match="unknown type 'Chemical'"):
        check_scoring_inputs([pred], [native], entity_labels=["Drug", "Symptom"])
