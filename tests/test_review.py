"""Expert review: sample -> filled CSV -> score, with the numbers checked by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from odin_medical_ner_re.cli import main
from odin_medical_ner_re.review import (
    CSV_COLUMNS,
    score_sheet,
    sheet_rows,
    strata,
    stratified_sample,
    wilson_interval,
)
from odin_medical_ner_re.schema import Document, Entity, Relation, save_documents


def _doc(doc_id: str, relation: str, template: str) -> Document:
    if relation == "prevents":
        text, head, tail = "Start aspirin to prevent MI & stroke.", ("aspirin", "Drug"), ("MI", "Disease")
    else:
        text, head, tail = "Start metformin for <T2DM>.", ("metformin", "Drug"), ("T2DM", "Disease")
    entities = []
    for i, (surface, entity_type) in enumerate((head, tail), start=1):
        start = text.index(surface)
        entities.append(Entity(f"T{i}", surface, entity_type, start, start + len(surface)))
    return Document(doc_id, text, entities, [Relation("R1", relation, "T1", "T2")], {"templates": [template]})


def corpus() -> list[Document]:
    docs = [_doc(f"common-{i:02d}", "treats", f"treats.plan.{i % 3}.{i % 2}") for i in range(30)]
    docs.insert(17, _doc("rare", "prevents", "prevents_drug.plan.2.0"))
    return docs


def test_strata_use_relation_types_and_template_families():
    assert strata(_doc("d", "treats", "treats.plan.3.1")) == {"relation:treats", "template:treats.plan"}
    cross = Document("c", "x", metadata={"templates": ["cross.treats.0a", "cross.treats.0b", "intro.4"]})
    assert strata(cross) == {"template:cross.treats", "template:intro"}
    assert strata(Document("e", "x")) == {"none"}


@pytest.mark.parametrize("seed", range(8))
def test_rare_stratum_is_always_sampled(seed):
    sample = stratified_sample(corpus(), 3, seed)
    assert len(sample) == 3 and len({d.id for d in sample}) == 3
    assert "rare" in [d.id for d in sample]
    assert [d.id for d in stratified_sample(corpus(), 3, seed)] == [d.id for d in sample]


def test_sample_larger_than_corpus_takes_everything():
    assert len(stratified_sample(corpus(), 100, 0)) == 31


def test_wilson_interval_known_values():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    low, high = wilson_interval(10, 10)
    assert round(low, 4) == 0.7225 and high == 1.0
    assert wilson_interval(0, 0) is None


def test_sheet_rows_and_context():
    rows = sheet_rows([_doc("d1", "treats", "treats.plan.0.0")])
    assert [(r["item"], r["item_id"], r["type"], r["text"]) for r in rows] == [
        ("entity", "T1", "Drug", "metformin"),
        ("entity", "T2", "Disease", "T2DM"),
        ("relation", "R1", "treats", "metformin -> T2DM"),
    ]
    assert rows[0]["context"] == "Start [metformin] for <T2DM>."
    assert rows[2]["context"] == "Start [metformin] for <[T2DM]>."
    assert all(r["verdict"] == "" and r["comment"] == "" for r in rows)


def _fill(sheet: Path, verdicts: dict[tuple[str, str], str]) -> list[dict[str, str]]:
    with sheet.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["verdict"] = verdicts.get((row["doc_id"], row["item_id"]), row["verdict"])
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def test_round_trip_sample_fill_score(tmp_path, capsys):
    source = save_documents(corpus(), tmp_path / "docs.json")
    out = tmp_path / "review"
    assert main(["review-sample", str(source), "--n", "10", "--seed", "5", "--output", str(out)]) == 0
    page = (out / "review.html").read_text()
    assert page.count('<div class="note"') == 10 and "<mark" in page
    assert "<script" not in page.lower()
    assert "&lt;<mark" in page and "&amp; stroke" in page and "<T2DM>" not in page  # note text is escaped
    with (out / "review.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(CSV_COLUMNS) and len(rows) == 30
    # Drugs: 7 correct, 3 wrong; diseases: 9 correct, 1 unsure; relations: 5 yes, 2 NO, 3 blank.
    plan: dict[tuple[str, str], str] = {}
    drugs = [r for r in rows if r["type"] == "Drug"]
    diseases = [r for r in rows if r["type"] == "Disease"]
    relations = [r for r in rows if r["item"] == "relation"]
    for i, r in enumerate(drugs):
        plan[r["doc_id"], r["item_id"]] = " Correct " if i < 7 else "x"
    for i, r in enumerate(diseases):
        plan[r["doc_id"], r["item_id"]] = "c" if i < 9 else "?"
    for i, r in enumerate(relations):
        plan[r["doc_id"], r["item_id"]] = "yes" if i < 5 else ("NO" if i < 7 else "")
    _fill(out / "review.csv", plan)
    capsys.readouterr()
    assert main(["review-score", str(out / "review.csv"), "--json", str(tmp_path / "scores.json")]) == 0
    table = capsys.readouterr().out
    assert "entity:Drug" in table and "70.0%" in table
    scores = json.loads((tmp_path / "scores.json").read_text())
    drug = scores["by_type"]["entity:Drug"]
    assert (drug["correct"], drug["incorrect"], drug["share_correct"]) == (7, 3, 0.7)
    assert drug["ci95"] == pytest.approx(list(wilson_interval(7, 10)))
    disease = scores["by_type"]["entity:Disease"]
    assert (disease["correct"], disease["unsure"], disease["share_correct"]) == (9, 1, 1.0)
    treats = {k: v for k, v in scores["by_type"].items() if k.startswith("relation:")}
    assert sum(v["correct"] for v in treats.values()) == 5
    assert sum(v["incorrect"] for v in treats.values()) == 2
    assert sum(v["not_reviewed"] for v in treats.values()) == 3
    assert scores["overall"]["entity:all"]["correct"] == 16
    assert scores["overall"]["entity:all"]["ci95"] == pytest.approx(list(wilson_interval(16, 19)))


def test_unknown_verdict_names_the_row(tmp_path, capsys):
    source = save_documents(corpus()[:4], tmp_path / "docs.jsonl")
    out = tmp_path / "review"
    assert main(["review-sample", str(source), "--n", "2", "--output", str(out)]) == 0
    rows = _fill(out / "review.csv", {})
    rows[3]["verdict"] = "maybe"
    with (out / "review.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    capsys.readouterr()
    assert main(["review-score", str(out)]) == 2
    err = capsys.readouterr().err
    assert "row 5: unknown verdict 'maybe'" in err and err.count("\n") == 1


def test_score_sheet_rejects_a_foreign_csv(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(Exception, match="missing column"):
        score_sheet(path)


@pytest.mark.parametrize("command", ["report", "augment", "llm-generate", "review-sample", "review-score"])
def test_help_renders(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and "usage:" in capsys.readouterr().out
