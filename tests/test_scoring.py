"""The scoring protocol: definitions, the replaced scorer's faults, agreement with nervaluate and seqeval."""

from __future__ import annotations

import math
import random
import re
import warnings
from typing import Any

import pytest
from nervaluate import Evaluator
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.schema import Document, Entity, Relation
from odin_medical_ner_re.scoring import (
    COUNT_FIELDS,
    ENTITY_MODES,
    RELATION_MODES,
    align_mentions,
    bio_to_spans,
    flatten,
    format_report,
    matching,
    normalize_text,
    reading,
    score_documents,
)

TYPES = ("Disease", "Symptom", "Drug")
TEXT = "Aspirin relieves headache and fever; fever returns. Ibuprofen too."
#        0      7        16      25  29   34 36   41       51 53       62


def doc(*entities: tuple, relations: tuple = (), text: str | None = None, doc_id: str | None = None) -> dict:
    """A document from (start, end, type[, text]) tuples; entity ids are T1, T2, ..."""
    out: dict[str, Any] = {
        "entities": [
            {
                "id": f"T{i + 1}",
                "start": e[0],
                "end": e[1],
                "type": e[2],
                **({"text": e[3]} if len(e) > 3 else {}),
            }
            for i, e in enumerate(entities)
        ],
        "relations": [{"type": t, "head": h, "tail": tl} for t, h, tl in relations],
    }
    if text is not None:
        out["text"] = text
    if doc_id is not None:
        out["id"] = doc_id
    return out


def micro(report: dict, task: str, mode: str) -> dict:
    return report[task][mode]["micro"]


def counts(result: dict) -> tuple[int, ...]:
    return tuple(result[name] for name in COUNT_FIELDS)


def all_scores(report: dict):
    for task in ("ner", "re"):
        for result in report[task].values():
            yield from (result["micro"], result["macro"], *result["per_type"].values())


# --------------------------------------------------------------------------- definitions


def test_perfect_prediction_scores_one_in_every_mode():
    gold = [
        doc((0, 7, "Drug"), (17, 25, "Symptom"), relations=(("treats", "T1", "T2"),), text=TEXT),
        doc((52, 61, "Drug"), text=TEXT),
    ]
    report = score_documents(gold, gold)
    for score in all_scores(report):
        assert (score["precision"], score["recall"], score["f1"]) == (1.0, 1.0, 1.0)


def test_each_entity_mode_on_one_document():
    gold = [doc((0, 7, "Drug"), (17, 25, "Symptom"), (30, 35, "Symptom"), (52, 61, "Drug"))]
    pred = [
        doc(
            (0, 7, "Drug"),  # correct everywhere
            (17, 25, "Disease"),  # same span, wrong type
            (31, 35, "Symptom"),  # overlap, same type
            (41, 48, "Drug"),  # nothing there
        )
    ]
    report = score_documents(pred, gold)
    # (correct, incorrect, partial, missed, spurious)
    assert counts(micro(report, "ner", "strict")) == (1, 2, 0, 1, 1)
    assert counts(micro(report, "ner", "exact")) == (2, 1, 0, 1, 1)
    assert counts(micro(report, "ner", "partial")) == (2, 0, 1, 1, 1)
    assert counts(micro(report, "ner", "ent_type")) == (2, 1, 0, 1, 1)
    assert micro(report, "ner", "partial")["precision"] == pytest.approx(2.5 / 4)
    assert micro(report, "ner", "strict")["support"] == 4


def test_ent_type_prefers_the_closest_same_type_gold_entity():
    gold = [doc((0, 10, "Drug"), (12, 20, "Drug"))]
    pred = [doc((11, 20, "Drug"), (0, 3, "Drug"))]
    result = micro(score_documents(pred, gold), "ner", "ent_type")
    assert counts(result) == (2, 0, 0, 0, 0)


def test_an_exact_match_is_not_stolen_by_an_earlier_overlapping_prediction():
    gold = [doc((10, 20, "Drug"))]
    pred = [doc((5, 15, "Drug"), (10, 20, "Drug"))]
    assert counts(micro(score_documents(pred, gold), "ner", "strict")) == (1, 0, 0, 0, 1)


def test_per_type_scores_each_type_on_its_own():
    gold = [doc((0, 7, "Drug"))]
    pred = [doc((0, 7, "Symptom"))]
    result = score_documents(pred, gold)["ner"]["strict"]
    assert counts(result["micro"]) == (0, 1, 0, 0, 0)
    assert counts(result["per_type"]["Drug"]) == (0, 0, 0, 1, 0)
    assert counts(result["per_type"]["Symptom"]) == (0, 0, 0, 0, 1)


def test_relation_modes_and_direction():
    gold = [doc((0, 7, "Drug"), (17, 25, "Symptom"), relations=(("treats", "T1", "T2"),), text=TEXT)]
    same = doc((0, 7, "Drug"), (17, 25, "Symptom"), relations=(("treats", "T1", "T2"),))
    swapped = doc((0, 7, "Drug"), (17, 25, "Symptom"), relations=(("treats", "T2", "T1"),))
    retyped = doc((0, 7, "Disease"), (17, 25, "Symptom"), relations=(("treats", "T1", "T2"),))
    moved = doc((0, 7, "Drug"), (30, 35, "Symptom", "headache"), relations=(("treats", "T1", "T2"),))
    wrong_kind = doc((0, 7, "Drug"), (17, 25, "Symptom"), relations=(("causes", "T1", "T2"),))

    def f1(pred: dict, mode: str) -> float:
        return micro(score_documents([pred], gold), "re", mode)["f1"]

    assert [f1(same, m) for m in RELATION_MODES] == [1.0, 1.0, 1.0]
    assert [f1(swapped, m) for m in RELATION_MODES] == [0.0, 0.0, 0.0]
    assert [f1(retyped, m) for m in RELATION_MODES] == [0.0, 1.0, 1.0]
    assert [f1(moved, m) for m in RELATION_MODES] == [0.0, 0.0, 1.0]
    result = micro(score_documents([wrong_kind], gold), "re", "strict")
    assert counts(result) == (0, 1, 0, 0, 0)


def test_relation_arguments_may_be_inline_entities_as_in_the_seed():
    gold = [doc((0, 7, "Drug"), (17, 25, "Symptom"), relations=(("treats", "T1", "T2"),), text=TEXT)]
    seed_shape = {
        "relations": [
            {
                "type": "treats",
                "head": {"text": "Aspirin", "type": "Drug", "start": 0, "end": 7},
                "tail": {"text": "headache", "type": "Symptom", "start": 17, "end": 25},
            }
        ]
    }
    assert micro(score_documents([seed_shape], gold), "re", "strict")["f1"] == 1.0


def test_normalization_ignores_case_spacing_and_compatibility_forms():
    assert normalize_text("  Type 2\n Diabetes ") == normalize_text("type 2 diabetes")
    assert normalize_text("ＡＢＣ") == "abc"  # fullwidth letters, NFKC


# --------------------------------------------------------------------------- faults of the replaced scorer


def test_duplicate_predictions_are_spurious():
    gold = [doc((0, 7, "Drug"))]
    once = score_documents([doc((0, 7, "Drug"))], gold)
    twice = score_documents([doc((0, 7, "Drug"), (0, 7, "Drug"))], gold)
    for mode in ENTITY_MODES:
        assert micro(twice, "ner", mode)["precision"] < micro(once, "ner", mode)["precision"] == 1.0
        assert micro(twice, "ner", mode)["spurious"] == 1
    rel = doc((0, 7, "Drug"), (17, 25, "Symptom"), relations=(("treats", "T1", "T2"), ("treats", "T1", "T2")))
    gold_rel = [doc((0, 7, "Drug"), (17, 25, "Symptom"), relations=(("treats", "T1", "T2"),), text=TEXT)]
    assert micro(score_documents([rel], gold_rel), "re", "strict")["precision"] == 0.5


def test_partial_recall_never_exceeds_one():
    gold = [doc((10, 30, "Disease"))]
    pred = [doc(*[(10 + i, 12 + i, "Disease") for i in range(0, 18, 2)])]
    result = micro(score_documents(pred, gold), "ner", "partial")
    assert result["recall"] == 0.5 and result["partial"] == 1 and result["spurious"] == 8
    assert 0.0 <= result["precision"] <= 1.0


def test_type_mode_is_a_bag_of_type_and_normalized_text():
    gold = [doc((17, 25, "Symptom"), (30, 35, "Symptom"), (37, 42, "Symptom"), text=TEXT)]
    # offsets ignored, case ignored, multiplicity counted, wrong type is incorrect
    pred = [
        {
            "entities": [
                {"text": "FEVER", "type": "Symptom"},
                {"text": "fever", "type": "Symptom"},
                {"text": "fever", "type": "Symptom"},
                {"text": "headache", "type": "Disease"},
            ]
        }
    ]
    result = micro(score_documents(pred, gold), "ner", "type")
    assert counts(result) == (2, 1, 0, 0, 1)
    assert micro(score_documents(pred, gold), "ner", "strict")["correct"] == 0  # no spans, no span match


def test_entities_are_scoped_to_their_document():
    gold = [doc((0, 7, "Drug")), doc()]
    pred = [doc(), doc((0, 7, "Drug"))]
    for mode in ENTITY_MODES:
        assert micro(score_documents(pred, gold), "ner", mode)["correct"] == 0


def test_scores_are_never_nan_and_the_empty_convention_holds():
    nothing = score_documents([], [])
    both_empty = score_documents([doc()], [doc()])
    for report in (nothing, both_empty):
        assert report["ner"]["strict"]["macro"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
        assert micro(report, "re", "strict")["f1"] == 1.0
    only_pred = score_documents([doc((0, 3, "Drug"))], [doc()])
    only_gold = score_documents([doc()], [doc((0, 3, "Drug"))])
    for report in (only_pred, only_gold):
        for score in all_scores(report):
            assert all(not math.isnan(score[key]) for key in ("precision", "recall", "f1"))
        assert micro(report, "ner", "strict")["f1"] == 0.0
        assert report["ner"]["strict"]["macro"]["f1"] == 0.0


def test_overlap_search_visits_neighbours_only(monkeypatch):
    """Structural check, not a timing: work per prediction stays constant as documents grow."""
    visits = [0]
    sweep, overlaps = matching.sweep, matching.overlaps

    class CountingList(list):
        def __getitem__(self, index):
            visits[0] += 1
            return super().__getitem__(index)

    monkeypatch.setattr(matching, "sweep", lambda golds, preds: sweep(CountingList(golds), preds))
    monkeypatch.setattr(
        matching, "overlaps", lambda golds, preds, tally: overlaps(CountingList(golds), preds, tally)
    )

    def work(n: int) -> int:
        visits[0] = 0
        gold = [doc(*[(10 * i, 10 * i + 6, TYPES[i % 3]) for i in range(n)])]
        pred = [doc(*[(10 * i + 1, 10 * i + 6, TYPES[i % 3]) for i in range(n)])]  # all overlap-only
        report = score_documents(pred, gold)
        assert micro(report, "ner", "partial")["partial"] == n
        return visits[0]

    small, large = work(400), work(4000)
    assert large <= 12 * small  # linear growth; all pairs would be 100x
    assert large <= 12 * 4000


# --------------------------------------------------------------------------- agreement


def _random_spans(rng: random.Random, n: int, length: int, overlapping: bool) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for _ in range(n):
        start = rng.randrange(0, length - 1)
        span = (start, min(length, start + rng.randint(1, 8)), rng.choice(TYPES))
        if overlapping or not any(span[0] < b and a < span[1] for a, b, _ in spans):
            spans.append(span)
    return spans


def _perturbed(
    rng: random.Random, gold: list[tuple[int, int, str]], length: int
) -> list[tuple[int, int, str]]:
    """Predictions without duplicates or overlaps among themselves (where nervaluate is well defined)."""
    out = []
    for start, end, kind in gold:
        roll = rng.random()
        if roll < 0.4:
            out.append((start, end, kind))
        elif roll < 0.55:
            out.append((start, end, rng.choice(TYPES)))
        elif roll < 0.8:
            new_start = min(length - 1, max(0, start + rng.randint(-3, 3)))
            new_end = min(length, max(new_start + 1, end + rng.randint(-3, 3)))
            out.append((new_start, new_end, rng.choice((kind, kind, rng.choice(TYPES)))))
    out += _random_spans(rng, rng.randint(0, 3), length, overlapping=True)
    kept: list[tuple[int, int, str]] = []
    for span in sorted(out):
        if not any(span[0] < b and a < span[1] for a, b, _ in kept):
            kept.append(span)
    return kept


def _to_nervaluate(docs: list[list[tuple[int, int, str]]]) -> list[list[dict]]:
    # Our greedy order is (start, end, type); nervaluate follows list order, so sort the same way.
    return [[{"label": t, "start": s, "end": e - 1} for s, e, t in sorted(d)] for d in docs]


def test_agrees_with_nervaluate_on_random_documents():
    compared = 0
    for case in range(1200):
        rng = random.Random(case)
        gold = [
            _random_spans(rng, rng.randint(0, 6), 60, overlapping=rng.random() < 0.5)
            for _ in range(rng.randint(1, 4))
        ]
        pred = [_perturbed(rng, spans, 60) for spans in gold]
        if not any(gold) and not any(pred):
            continue  # nervaluate says 0 where the protocol says 1 (documented convention)
        theirs = Evaluator(
            _to_nervaluate(gold), _to_nervaluate(pred), tags=list(TYPES), loader="dict"
        ).evaluate()
        ours = score_documents([doc(*d) for d in pred], [doc(*d) for d in gold])
        for mode in ("strict", "exact", "partial", "ent_type"):
            pairs = [(theirs["overall"][mode], ours["ner"][mode]["micro"])]
            pairs += [
                (theirs["entities"][t][mode], ours["ner"][mode]["per_type"][t]) for t in theirs["entities"]
            ]
            for their, our in pairs:
                assert (
                    their.correct,
                    their.incorrect,
                    their.partial,
                    their.missed,
                    their.spurious,
                ) == counts(our)
                assert their.precision == pytest.approx(our["precision"])
                assert their.recall == pytest.approx(our["recall"])
                assert their.f1 == pytest.approx(our["f1"])
            assert set(theirs["entities"]) == set(ours["ner"][mode]["per_type"])
        compared += 1
    assert compared >= 1000


def _random_iob2(rng: random.Random, length: int, valid: bool) -> list[str]:
    tags = ["O"] + [f"{p}-{t}" for t in TYPES[:2] for p in "BI"]
    out: list[str] = []
    for _ in range(length):
        tag = rng.choice(tags)
        if valid and tag.startswith("I-") and (not out or out[-1][2:] != tag[2:]):
            tag = "B-" + tag[2:]
        out.append(tag)
    return out


def test_agrees_with_seqeval_strict_iob2_on_random_sequences():
    compared = 0
    for case in range(1100):
        rng = random.Random(10_000 + case)
        y_true = [_random_iob2(rng, rng.randint(1, 12), valid=True) for _ in range(rng.randint(1, 4))]
        y_pred = [
            [t if rng.random() < 0.6 else rng.choice(_random_iob2(rng, 3, False)) for t in s] for s in y_true
        ]
        gold = [doc(*bio_to_spans(s)) for s in y_true]
        pred = [doc(*bio_to_spans(s)) for s in y_pred]
        if not any(d["entities"] for d in gold + pred):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = classification_report(
                y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0
            )
        ours = score_documents(pred, gold)["ner"]["strict"]
        mapping = {"micro avg": ours["micro"], "macro avg": ours["macro"], **ours["per_type"]}
        assert set(theirs) - {"weighted avg"} == set(mapping)
        for name, our in mapping.items():
            for key, their_key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
                assert theirs[name][their_key] == pytest.approx(our[key]), (case, name, key)
        compared += 1
    assert compared >= 1000


def test_bio_to_spans_follows_strict_iob2():
    assert bio_to_spans(["B-A", "I-A", "O", "B-B"]) == [(0, 2, "A"), (3, 4, "B")]
    assert bio_to_spans(["I-A", "I-A", "B-A", "I-B"]) == [(2, 3, "A")]
    assert bio_to_spans(["B-A", "B-A", "I-A"]) == [(0, 1, "A"), (1, 3, "A")]
    assert bio_to_spans([]) == []


# --------------------------------------------------------------------------- invariants


def _random_case(rng: random.Random) -> tuple[list[dict], list[dict]]:
    gold, pred = [], []
    for index in range(rng.randint(1, 5)):
        gold_spans = _random_spans(rng, rng.randint(0, 6), 60, overlapping=True)
        pred_spans = _perturbed(rng, gold_spans, 60) + _random_spans(rng, rng.randint(0, 2), 60, True)
        if rng.random() < 0.2 and pred_spans:
            pred_spans.append(rng.choice(pred_spans))  # duplicates allowed here
        rels = [("treats", f"T{a + 1}", f"T{b + 1}") for a in range(len(gold_spans)) for b in range(a)][:3]
        gold.append(doc(*gold_spans, relations=tuple(rels), doc_id=f"d{index}"))
        pred_rels = [r for r in rels if rng.random() < 0.7 and int(r[1][1:]) <= len(pred_spans)]
        pred_rels = [r for r in pred_rels if int(r[2][1:]) <= len(pred_spans)]
        pred.append(doc(*pred_spans, relations=tuple(pred_rels), doc_id=f"d{index}"))
    return pred, gold


def test_invariants_on_random_inputs():
    for case in range(300):
        rng = random.Random(50_000 + case)
        pred, gold = _random_case(rng)
        report = score_documents(pred, gold)
        for score in all_scores(report):
            assert all(0.0 <= score[key] <= 1.0 for key in ("precision", "recall", "f1"))
            if "support" in score:
                credit_parts = score["correct"] + score["incorrect"] + score["partial"]
                assert credit_parts + score["missed"] == score["support"] == score["possible"]
                assert credit_parts + score["spurious"] == score["actual"]
                assert min(score[k] for k in COUNT_FIELDS) >= 0
        assert all(s == 1.0 for s in flatten(score_documents(gold, gold)).values() if s != 0)

        order = list(range(len(gold)))
        rng.shuffle(order)
        assert score_documents([pred[i] for i in order], [gold[i] for i in order]) == report
        shuffled = [dict(d, entities=rng.sample(d["entities"], len(d["entities"]))) for d in pred]
        assert score_documents(shuffled, gold)["ner"] == report["ner"]

        if pred[0]["entities"]:
            _check_a_duplicate_lowers_precision(pred, gold, report)


def _check_a_duplicate_lowers_precision(pred: list[dict], gold: list[dict], report: dict) -> None:
    """In the identity modes a copy has nothing left to match, unless the gold repeats its span.

    (In partial and ent_type a copy may rightly overlap a second gold entity.)
    """
    original = pred[0]["entities"][0]
    copy = dict(original, id="copy")
    worse = score_documents([dict(pred[0], entities=[*pred[0]["entities"], copy]), *pred[1:]], gold)
    span = (original["start"], original["end"])
    repeats = sum(1 for e in gold[0]["entities"] if (e["start"], e["end"]) == span)
    if repeats > 1:
        return  # the copy may rightly match the gold entity's twin
    for mode in ("strict", "exact"):
        before, after = micro(report, "ner", mode)["precision"], micro(worse, "ner", mode)["precision"]
        assert after < before or before == 0.0


# --------------------------------------------------------------------------- inputs


def test_accepts_documents_dataset_rows_and_label_indices():
    text = "Aspirin relieves headache."
    as_document = Document(
        id="n1",
        text=text,
        entities=[Entity("E1", "Aspirin", "Drug", 0, 7), Entity("E2", "headache", "Symptom", 17, 25)],
        relations=[Relation("R1", "treats", "E1", "E2")],
    )
    as_row = {  # a datasets row: structs as dicts of lists, ClassLabel indices
        "id": "n1",
        "text": text,
        "entities": {
            "id": ["E1", "E2"],
            "start": [0, 17],
            "end": [7, 25],
            "type": [2, 1],
            "text": ["Aspirin", "headache"],
        },
        "relations": {"type": [0], "head": ["E1"], "tail": ["E2"]},
    }
    as_row_list = dict(as_row, entities=reading._rows(as_row["entities"], None, "entities"))
    report = score_documents([as_row, as_row_list], [as_document, as_document])
    assert all(v == 1.0 for k, v in flatten(report).items() if k != "unaligned")
    custom = dict(as_row, entities=dict(as_row["entities"], type=[0, 1]))
    labels = score_documents([custom], [as_document], entity_labels=["Drug", "Symptom"])
    assert micro(labels, "ner", "strict")["f1"] == 1.0


def test_unknown_labels_in_predictions_are_spurious():
    report = score_documents([doc((0, 7, "Medication"))], [doc((0, 7, "Drug"))])
    assert report["ner"]["strict"]["per_type"]["Medication"]["spurious"] == 1
    assert micro(report, "ner", "exact")["f1"] == 1.0


def test_text_alignment_takes_the_first_unused_occurrence():
    assert align_mentions("fever, FEVER and fever", ["fever", "fever", "fever", "cough"]) == [
        (0, 5),
        (17, 22),
        (7, 12),  # case-insensitive fallback once the exact occurrences are taken
        None,
    ]
    gold = [doc((30, 35, "Symptom"), (37, 42, "Symptom"), text=TEXT)]
    pred = [
        {
            "entities": [
                {"id": "a", "text": "fever", "type": "Symptom"},
                {"id": "b", "text": "fever", "type": "Symptom"},
                {"id": "c", "text": "chills", "type": "Symptom"},
            ],
            "relations": [{"type": "causes", "head": "a", "tail": "c"}],
        }
    ]
    aligned = score_documents(pred, gold, align_text=True)
    assert (aligned["aligned"], aligned["unaligned"]) == (2, 1)
    assert counts(micro(aligned, "ner", "strict")) == (2, 0, 0, 0, 1)
    raw = score_documents(pred, gold)
    assert (raw["aligned"], raw["unaligned"]) == (0, 3)
    assert micro(raw, "ner", "strict")["correct"] == 0


@pytest.mark.parametrize(
    ("pred", "gold", "message"),
    [
        ([doc()], [doc(), doc()], "1 documents but references have 2"),
        (
            [doc((0, 99, "Drug"), text=TEXT, doc_id="x")],
            [doc(text=TEXT, doc_id="x")],
            "prediction document 0 (id 'x'): entity 0",
        ),
        ([doc()], [doc((5, 5, "Drug"))], "reference document 0: entity 0"),
        (
            [doc((0, 7, "Drug"), relations=(("treats", "T1", "T9"),))],
            [doc()],
            "relation 0 tail 'T9' is not an entity id",
        ),
        ([doc(doc_id="a")], [doc(doc_id="b")], "same order"),
        ([{"entities": [{"start": 0, "end": 3, "type": 9}]}], [doc()], "label index 9"),
        ([{"entities": "Drug"}], [doc()], "'entities' must be a list"),
    ],
)
def test_bad_inputs_raise_clear_errors(pred, gold, message):
    with pytest.raises(UserInputError, match=re.escape(message)) as caught:
        score_documents(pred, gold)
    assert isinstance(caught.value, ValueError)


def test_unknown_modes_are_rejected_with_the_valid_ones():
    with pytest.raises(ValueError, match="valid modes are strict, exact, partial, ent_type, type"):
        score_documents([], [], entity_modes=["fuzzy"])
    with pytest.raises(ValueError, match="boundaries"):
        score_documents([], [], relation_modes=["loose"])


def test_format_report_and_flatten_cover_every_mode_and_type():
    gold = [doc((0, 7, "Drug"), (17, 25, "Symptom"), relations=(("treats", "T1", "T2"),), text=TEXT)]
    report = score_documents([doc((0, 7, "Drug"))], gold)
    table = format_report(report)
    for mode in ENTITY_MODES:
        assert f"entities, {mode}" in table and f"ner {mode}" in table
    for mode in RELATION_MODES:
        assert f"relations, {mode}" in table
    assert "Symptom" in table and "macro" in table and "micro" in table
    flat = flatten(report)
    required = [
        "ner_strict_precision", "ner_strict_recall", "ner_strict_f1", "ner_exact_f1", "ner_partial_f1",
        "ner_ent_type_f1", "ner_strict_macro_f1", "re_strict_f1", "re_boundaries_f1", "re_strict_macro_f1",
    ]  # fmt: skip
    assert set(required) <= set(flat)
