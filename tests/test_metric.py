"""The ``evaluate`` metric: loads offline from the package, accepts every document shape, matches the scorer."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import datasets
import evaluate
import pytest

from odin_medical_ner_re.metric import METRIC_PATH
from odin_medical_ner_re.schema import ENTITY_TYPES, RELATION_TYPES, Document
from odin_medical_ner_re.scoring import flatten, score_documents

TEXT = "Aspirin relieves headache. Fever persists."
REFERENCES = [
    {
        "id": "n1",
        "text": TEXT,
        "entities": [
            {"id": "E1", "start": 0, "end": 7, "type": "Drug", "text": "Aspirin"},
            {"id": "E2", "start": 17, "end": 25, "type": "Symptom", "text": "headache"},
            {"id": "E3", "start": 27, "end": 32, "type": "Symptom", "text": "Fever"},
        ],
        "relations": [{"type": "treats", "head": "E1", "tail": "E2"}],
    },
    {"id": "n2", "text": "No findings.", "entities": [], "relations": []},
]
PREDICTIONS = [
    {
        "id": "n1",
        "entities": [
            {"id": "a", "start": 0, "end": 7, "type": "Drug", "text": "Aspirin"},
            {"id": "b", "start": 17, "end": 25, "type": "Disease", "text": "headache"},
            {"id": "c", "start": 28, "end": 32, "type": "Symptom", "text": "ever"},
        ],
        "relations": [{"type": "treats", "head": "a", "tail": "b"}],
    },
    {"id": "n2", "entities": [], "relations": []},
]
REQUIRED = [
    "ner_strict_precision", "ner_strict_recall", "ner_strict_f1", "ner_exact_f1", "ner_partial_f1",
    "ner_ent_type_f1", "ner_strict_macro_f1", "re_strict_f1", "re_boundaries_f1", "re_strict_macro_f1",
]  # fmt: skip


@pytest.fixture(scope="module")
def metric() -> evaluate.EvaluationModule:
    return evaluate.load(METRIC_PATH)


def _features(sequence: bool) -> datasets.Features:
    """The builder's features; ``sequence`` gives the dict-of-lists flavour of nested structs."""
    wrap = datasets.Sequence if sequence else datasets.List
    entity = {
        "id": datasets.Value("string"),
        "start": datasets.Value("int32"),
        "end": datasets.Value("int32"),
        "type": datasets.ClassLabel(names=list(ENTITY_TYPES)),
        "text": datasets.Value("string"),
    }
    relation = {
        "type": datasets.ClassLabel(names=list(RELATION_TYPES)),
        "head": datasets.Value("string"),
        "tail": datasets.Value("string"),
    }
    return datasets.Features(
        {
            "id": datasets.Value("string"),
            "text": datasets.Value("string"),
            "entities": wrap(entity),
            "relations": wrap(relation),
        }
    )


def _dataset(documents: list[dict], sequence: bool) -> datasets.Dataset:
    rows = [dict(doc, text=doc.get("text", REFERENCES[i]["text"])) for i, doc in enumerate(documents)]
    if sequence:  # datasets wants the columns of a Sequence of structs as a dict of lists
        keys = {"entities": ("id", "start", "end", "type", "text"), "relations": ("type", "head", "tail")}
        rows = [
            dict(
                row,
                **{
                    field: {k: [item[k] for item in row[field]] for k in names}
                    for field, names in keys.items()
                },
            )
            for row in rows
        ]
    return datasets.Dataset.from_list(rows, features=_features(sequence))


def test_metric_path_is_the_folder_holding_the_script():
    folder = Path(METRIC_PATH)
    assert (folder / f"{folder.name}.py").is_file()


def test_loads_offline_and_reports_the_required_keys(metric, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    offline = evaluate.load(METRIC_PATH)
    results = offline.compute(predictions=PREDICTIONS, references=REFERENCES)
    assert set(REQUIRED) <= set(results)
    assert {"ner", "re", "unaligned"} <= set(results)
    assert results["ner"]["strict"]["per_type"]["Symptom"]["support"] == 2


def test_results_equal_the_scorer(metric):
    results = metric.compute(predictions=PREDICTIONS, references=REFERENCES)
    report = score_documents(PREDICTIONS, REFERENCES)
    for key, value in flatten(report).items():
        assert results[key] == value
    assert results["ner"] == report["ner"] and results["re"] == report["re"]
    assert results["ner_strict_f1"] == pytest.approx(1 / 3)
    assert results["re_boundaries_f1"] == 1.0 and results["re_strict_f1"] == 0.0


def test_modes_can_be_chosen(metric):
    """Only the requested modes are computed (entities alone are what nervaluate is compared with)."""
    results = metric.compute(
        predictions=PREDICTIONS, references=REFERENCES, entity_modes=["strict", "partial"], relation_modes=[]
    )
    assert set(results["ner"]) == {"strict", "partial"} and results["re"] == {}
    assert not any(key.startswith("re_") for key in results)
    full = metric.compute(predictions=PREDICTIONS, references=REFERENCES)
    assert results["ner"]["strict"] == full["ner"]["strict"]
    with pytest.raises(ValueError, match="unknown entity mode 'fuzzy'"):
        metric.compute(predictions=PREDICTIONS, references=REFERENCES, entity_modes=["fuzzy"])


def test_cached_batches_give_the_same_results(metric):
    direct = metric.compute(predictions=PREDICTIONS, references=REFERENCES)
    metric.add_batch(predictions=PREDICTIONS[:1], references=REFERENCES[:1])
    metric.add(prediction=PREDICTIONS[1], reference=REFERENCES[1])
    assert metric.compute() == direct


@pytest.mark.parametrize("sequence", [False, True], ids=["list-of-structs", "dict-of-lists"])
def test_accepts_dataset_rows_with_class_labels(metric, sequence):
    references, predictions = _dataset(REFERENCES, sequence), _dataset(PREDICTIONS, sequence)
    assert isinstance(references[0]["entities"], dict) is sequence
    expected = metric.compute(predictions=PREDICTIONS, references=REFERENCES)
    for preds, refs in ((predictions, references), (list(predictions), list(references))):
        assert metric.compute(predictions=preds, references=refs) == expected


def test_accepts_document_objects(metric):
    documents = [Document.from_dict(d) for d in REFERENCES]
    results = metric.compute(predictions=documents, references=documents)
    assert all(results[key] == 1.0 for key in REQUIRED)


def test_text_only_predictions_with_align_text(metric):
    predictions = [
        {"entities": [{"text": "aspirin", "type": "Drug"}, {"text": "Headache", "type": "Symptom"},
                      {"text": "fever", "type": "Symptom"}, {"text": "nausea", "type": "Symptom"}]},
        {"entities": []},
    ]  # fmt: skip
    results = metric.compute(predictions=predictions, references=REFERENCES, align_text=True)
    assert results["ner_strict_recall"] == 1.0 and results["unaligned"] == 1
    assert results["ner_strict_precision"] == 0.75
    without = metric.compute(predictions=predictions, references=REFERENCES)
    assert without["unaligned"] == 4 and without["ner_strict_f1"] == 0.0


def test_mismatched_lengths_are_a_value_error(metric):
    with pytest.raises(ValueError, match="predictions have 1 documents but references have 2"):
        metric.compute(predictions=PREDICTIONS[:1], references=REFERENCES)


def test_docstring_examples_run(metric):
    module = importlib.import_module(type(metric).__module__)
    assert "odin_medical_ner_re.scoring" in Path(module.__file__).read_text(encoding="utf-8")
    failures, tried = doctest.testmod(module, verbose=False)
    assert tried >= 8 and failures == 0


def test_bad_inputs_are_one_clear_error_or_skipped_with_lenient() -> None:
    import copy
    import json

    metric = evaluate.load(METRIC_PATH)
    with pytest.raises(ValueError, match="prediction 0: a string must be a JSON document, got 'not json'"):
        metric.compute(predictions=["not json", "{}"], references=REFERENCES)
    wrong = copy.deepcopy(PREDICTIONS)
    wrong[0]["entities"][0]["text"] = "Ibuprofen"  # text[0:7] is "Aspirin"
    with pytest.raises(ValueError, match=r"entity 0 \(id 'a'\) text 'Ibuprofen' != text\[0:7\] 'Aspirin'"):
        metric.compute(predictions=wrong, references=REFERENCES)
    results = metric.compute(predictions=wrong, references=REFERENCES, lenient=True)
    assert results["skipped"] == {"text_mismatch": 1, "relation_of_skipped_entity": 1}
    metric.add_batch(predictions=[json.dumps(p) for p in PREDICTIONS], references=REFERENCES)
    assert metric.compute()["documents"] == 2  # well-formed JSON strings still take the cached path
