"""The seed-compatible evaluator: its API and mode names, with every number delegated to scoring."""

from __future__ import annotations

import pytest

from odin_medical_ner_re.evaluator import (
    MATCHING_MODES,
    EntityPrediction,
    NERREvaluator,
    RelationPrediction,
    format_results,
)
from odin_medical_ner_re.scoring import score_documents

ASPIRIN = EntityPrediction("aspirin", "Drug", 0, 7, "d1")
HEADACHE = EntityPrediction("headache", "Symptom", 17, 25, "d1")
FEVER = EntityPrediction("fever", "Symptom", 30, 35, "d1")
GOLD = [ASPIRIN, HEADACHE, FEVER, EntityPrediction("fever", "Symptom", 0, 5, "d2")]
KEYS = {"precision", "recall", "f1", "tp", "fp", "fn", "support"}


def test_perfect_predictions_score_one_in_every_mode():
    for mode in MATCHING_MODES:
        result = NERREvaluator(mode).evaluate_entities(GOLD, GOLD)
        assert set(result) == KEYS
        assert (result["precision"], result["recall"], result["f1"], result["fn"]) == (1.0, 1.0, 1.0, 0)


def test_exact_means_same_span_and_type():
    predictions = [ASPIRIN, EntityPrediction("headache", "Disease", 17, 25, "d1")]
    result = NERREvaluator("exact").evaluate_entities(predictions, GOLD)
    assert (result["tp"], result["fp"], result["fn"], result["support"]) == (1, 1, 3, 4)
    assert result["precision"] == 0.5 and result["recall"] == 0.25


def test_partial_gives_half_credit_and_recall_stays_below_one():
    predictions = [EntityPrediction("asp", "Drug", 0, 3, "d1"), EntityPrediction("pirin", "Drug", 2, 7, "d1")]
    result = NERREvaluator("partial").evaluate_entities(predictions, [ASPIRIN])
    assert (result["tp"], result["fp"], result["fn"]) == (0.5, 1.5, 0.5)
    assert result["recall"] == 0.5 and result["precision"] == 0.25


def test_type_mode_compares_type_and_text_per_document():
    predictions = [
        EntityPrediction("Aspirin", "Drug", doc_id="d1"),  # offsets not needed
        EntityPrediction("fever", "Disease", doc_id="d1"),  # wrong type
        EntityPrediction("fever", "Symptom", doc_id="d3"),  # another document
    ]
    result = NERREvaluator("type").evaluate_entities(predictions, GOLD)
    assert (result["tp"], result["fp"], result["fn"]) == (1, 2, 3)


def test_entities_are_scoped_to_their_document_and_duplicates_are_false_positives():
    elsewhere = EntityPrediction("aspirin", "Drug", 0, 7, "d2")
    result = NERREvaluator().evaluate_entities([ASPIRIN, ASPIRIN, elsewhere], [ASPIRIN])
    assert (result["tp"], result["fp"], result["fn"]) == (1, 2, 0)


def test_per_type_results_have_the_seed_shape_and_no_nan():
    predictions = [ASPIRIN, EntityPrediction("x", "Procedure", 40, 41, "d1")]
    result = NERREvaluator().evaluate_entities_per_type(predictions, GOLD)
    assert set(result) == {"per_type", "macro", "micro"}
    assert set(result["per_type"]) == {"Drug", "Symptom", "Procedure"}
    assert result["per_type"]["Procedure"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 1, "fn": 0, "support": 0,
    }  # fmt: skip
    assert result["macro"]["f1"] == pytest.approx((1.0 + 0.0 + 0.0) / 3)
    empty = NERREvaluator().evaluate_entities_per_type([], [])
    assert empty["micro"]["f1"] == 1.0 and empty["macro"]["f1"] == 1.0 and empty["per_type"] == {}


def test_relations_are_directed_and_use_the_mapped_mode():
    gold = [RelationPrediction("treats", ASPIRIN, HEADACHE)]
    swapped = [RelationPrediction("treats", HEADACHE, ASPIRIN)]
    retyped_head = EntityPrediction("aspirin", "Disease", 0, 7, "d1")
    loose = [RelationPrediction("treats", retyped_head, HEADACHE)]
    assert NERREvaluator("exact").evaluate_relations(gold, gold)["f1"] == 1.0
    assert NERREvaluator("exact").evaluate_relations(swapped, gold)["f1"] == 0.0
    assert NERREvaluator("exact").evaluate_relations(loose, gold)["f1"] == 0.0
    assert NERREvaluator("partial").evaluate_relations(loose, gold)["f1"] == 1.0  # boundaries
    textual = [RelationPrediction("treats", EntityPrediction("Aspirin", "Drug", doc_id="d1"), HEADACHE)]
    assert NERREvaluator("type").evaluate_relations(textual, gold)["f1"] == 1.0  # relaxed
    per_type = NERREvaluator().evaluate_relations_per_type(gold + swapped, gold)
    assert per_type["per_type"]["treats"]["fp"] == 1 and per_type["micro"]["precision"] == 0.5


def test_results_come_from_the_scorer():
    predictions = [ASPIRIN, EntityPrediction("head", "Symptom", 17, 21, "d1")]
    ours = NERREvaluator("partial").evaluate_entities(predictions, GOLD)
    docs = [{"entities": [e.to_dict() for e in predictions]}, {"entities": []}]
    refs = [{"entities": [e.to_dict() for e in GOLD[:3]]}, {"entities": [GOLD[3].to_dict()]}]
    report = score_documents(docs, refs)["ner"]["partial"]["micro"]
    assert (ours["precision"], ours["recall"], ours["f1"]) == (
        report["precision"],
        report["recall"],
        report["f1"],
    )


def test_unknown_matching_mode_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid modes are exact, partial, type"):
        NERREvaluator("fuzzy")


def test_print_results_prints_a_table(capsys):
    evaluator = NERREvaluator()
    evaluator.print_results(evaluator.evaluate_entities_per_type([ASPIRIN], GOLD), "Entities")
    evaluator.print_results(evaluator.evaluate_entities([ASPIRIN], GOLD))
    out = capsys.readouterr().out
    assert out.startswith("Entities\n") and "Symptom" in out and "macro" in out and "Results" in out
    assert format_results(evaluator.evaluate_entities([ASPIRIN], GOLD)).count("\n") == 2


def test_relations_between_text_only_mentions_only_match_in_type_mode():
    head, tail = (
        EntityPrediction("aspirin", "Drug", doc_id="d1"),
        EntityPrediction("fever", "Symptom", doc_id="d1"),
    )
    relation = [RelationPrediction("treats", head, tail)]
    assert [
        NERREvaluator(mode).evaluate_relations(relation, relation)["f1"]
        for mode in ("exact", "partial", "type")
    ] == [
        0.0,
        0.0,
        1.0,
    ]


@pytest.mark.parametrize("bad", [None, [{"text": "aspirin", "type": "Drug"}], "aspirin", {"a": 1}])
def test_wrong_argument_types_say_what_to_pass(bad):
    with pytest.raises(TypeError, match="EntityPrediction"):
        NERREvaluator().evaluate_entities(bad, GOLD)
    with pytest.raises(TypeError, match=r"gold.*RelationPrediction"):
        NERREvaluator().evaluate_relations([], bad)
