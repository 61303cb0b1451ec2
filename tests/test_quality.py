"""The quality report against values computed by hand on a four-document fixture."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from odin_medical_ner_re.cli import main
from odin_medical_ner_re.knowledge import load_knowledge_base
from odin_medical_ner_re.quality import (
    SplitDocuments,
    compute_report,
    distinct_n,
    load_split_documents,
)
from odin_medical_ner_re.schema import Document, Entity, Relation, save_documents

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"


def _doc(
    doc_id: str,
    split: str,
    text: str,
    entities: list[tuple[str, str, int, int]],
    relations: list[tuple[str, str, str]],
    templates: list[str],
) -> Document:
    return Document(
        doc_id,
        text,
        [Entity(f"T{i + 1}", t, ty, s, e) for i, (t, ty, s, e) in enumerate(entities)],
        [Relation(f"R{i + 1}", ty, h, t) for i, (ty, h, t) in enumerate(relations)],
        {"split": split, "templates": templates},
    )


def fixture_documents() -> list[Document]:
    """d1/d2 train, d3/d4 test; d3 repeats d1; d2 states a non-fact; d4 has a bad offset and a dangling relation."""
    return [
        _doc(
            "d1",
            "train",
            "Start metformin for T2DM.",
            [("metformin", "Drug", 6, 15), ("T2DM", "Disease", 20, 24)],
            [("treats", "T1", "T2")],
            ["treats.plan.0"],
        ),
        _doc(
            "d2",
            "train",
            "Aspirin for flu.",
            [("Aspirin", "Drug", 0, 7), ("flu", "Disease", 12, 15)],
            [("treats", "T1", "T2")],
            ["treats.plan.0"],
        ),
        _doc(
            "d3",
            "test",
            "Start metformin for T2DM.",
            [("metformin", "Drug", 6, 15), ("T2DM", "Disease", 20, 24)],
            [("treats", "T1", "T2")],
            ["treats.plan.0"],
        ),
        _doc(
            "d4",
            "test",
            "Fever from influenza.",
            [("Fever", "Symptom", 0, 5), ("influenza", "Disease", 11, 20), ("cough", "Symptom", 30, 35)],
            [("causes", "T2", "T1"), ("treats", "T9", "T2")],
            ["causes.hpi.0"],
        ),
    ]


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base(FIXTURE_KB)


@pytest.fixture(scope="module")
def report(kb):
    docs = fixture_documents()
    corpus = SplitDocuments("fixture", {"train": docs[:2], "test": docs[2:]}, "test")
    return compute_report(corpus, kb)


def test_distinct_n_by_hand(report):
    # unigrams 18 (10 distinct), bigrams 14 (10 distinct), trigrams 10 (7 distinct)
    assert report["diversity"]["distinct_1"] == pytest.approx(10 / 18)
    assert report["diversity"]["distinct_2"] == pytest.approx(10 / 14)
    assert report["diversity"]["distinct_3"] == pytest.approx(7 / 10)
    assert distinct_n([["a"]], 2) is None


def test_distributions_by_hand(report):
    assert report["documents"] == 4
    assert report["splits"] == {"train": 2, "test": 2}
    assert report["types"]["entities"]["by_type"] == {"Disease": 4, "Symptom": 2, "Drug": 3}
    assert report["types"]["entities"]["share"]["Drug"] == pytest.approx(3 / 9)
    assert report["types"]["relations"]["by_type"] == {"treats": 4, "causes": 1}
    per_doc = report["per_document"]
    assert per_doc["entities"]["mean"] == pytest.approx(2.25)
    assert per_doc["entities"]["histogram"] == {"2": 3, "3": 1}
    assert per_doc["relations"]["mean"] == pytest.approx(1.25)
    assert per_doc["tokens"]["mean"] == pytest.approx(4.5)
    assert (per_doc["tokens"]["min"], per_doc["tokens"]["max"]) == (4, 5)


def test_coverage_by_hand(report):
    coverage = report["coverage"]
    assert coverage["distinct_mentions_by_type"] == {"Disease": 3, "Symptom": 2, "Drug": 2}
    assert coverage["distinct_mentions"] == 7
    assert coverage["kb_concepts_used_by_type"]["Drug"] == {
        "used": 2,
        "total": 7,
        "share": pytest.approx(2 / 7),
    }
    assert (
        coverage["kb_concepts_used_by_type"]["Disease"]["used"] == 2
    )  # T2DM, and flu/influenza are one concept
    assert coverage["kb_concepts_used"] == 5
    assert coverage["kb_concepts_used_share"] == pytest.approx(5 / 28)
    assert coverage["distinct_mentions_not_in_kb"] == 1  # cough


def test_consistency_and_validity_by_hand(report):
    consistency = report["consistency"]
    assert consistency["relations_checked"] == 4
    assert consistency["relations_with_dangling_arguments"] == 1
    assert consistency["kb_edges"] == 3
    assert consistency["kb_edge_share"] == pytest.approx(0.75)
    assert consistency["not_an_edge"] == 1  # aspirin does not treat influenza
    assert consistency["unknown_arguments"] == 0
    validity = report["validity"]
    assert validity["offset_errors"] == 1
    assert validity["documents_with_offset_errors"] == 1
    assert validity["schema_violations"] == 1
    assert validity["schema_violations_by_kind"] == {"dangling argument": 1}


def test_leakage_and_templates_by_hand(report):
    test = report["leakage"]["test"]
    assert test["exact_text_overlap"] == 1
    assert test["exact_text_overlap_share"] == pytest.approx(0.5)
    assert test["distinct_surface_forms"] == 5
    assert test["surface_overlap"] == 2
    assert test["surface_overlap_share"] == pytest.approx(0.4)
    templates = report["diversity"]["templates"]
    assert templates["counts"] == {"treats.plan.0": 3, "causes.hpi.0": 1}
    assert templates["families"] == {"treats.plan": 3, "causes.hpi": 1}
    assert (templates["distinct"], templates["distinct_families"], templates["uses"]) == (2, 2, 4)
    # entropy of (3/4, 1/4) over its maximum ln 2
    assert templates["evenness"] == pytest.approx(
        -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(2)
    )


def test_no_kb_still_reports(kb):
    report = compute_report(SplitDocuments("x", {"all": fixture_documents()}), None, kb_problem="broken")
    assert report["knowledge_base"] == {"available": False, "problem": "broken"}
    assert "kb_edge_share" not in report["consistency"]
    assert report["leakage"] is None


def test_json_file_is_split_by_metadata(tmp_path):
    path = save_documents(fixture_documents(), tmp_path / "docs.jsonl")
    corpus = load_split_documents(str(path))
    assert {k: len(v) for k, v in corpus.splits.items()} == {"train": 2, "test": 2}
    assert len(load_split_documents(str(path), split="test").documents) == 2


def test_saved_dataset_folder(tmp_path):
    import datasets

    from odin_medical_ner_re.builder import document_to_example, features

    docs = fixture_documents()[:3]
    rows = [document_to_example(d, "fixture", d.metadata["split"], 0, 0) for d in docs]
    data = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(rows[:2], features=features()),
            "test": datasets.Dataset.from_list(rows[2:], features=features()),
        }
    )
    data.save_to_disk(str(tmp_path / "saved"))
    corpus = load_split_documents(str(tmp_path / "saved"))
    assert [d.id for d in corpus.splits["train"]] == ["d1", "d2"]
    assert corpus.splits["test"][0].entities[1].type == "Disease"
    assert corpus.splits["test"][0].metadata["templates"] == ["treats.plan.0"]


def test_cli_writes_report_and_compare(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ODIN_KNOWLEDGE_DIR", str(FIXTURE_KB))
    first = save_documents(fixture_documents(), tmp_path / "a.json")
    second = save_documents(fixture_documents()[:2], tmp_path / "b.jsonl")
    out = tmp_path / "report"
    assert main(["report", str(first), "--output", str(out), "--compare", str(second)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "report.md",
        "report.html",
        "report.json",
        "entity_types.png",
        "relation_types.png",
        "per_document.png",
        "coverage.png",
        "diversity.png",
        "templates.png",
        "leakage.png",
    } <= names
    assert not [n for n in names if n.endswith(".tmp")]
    payload = json.loads((out / "report.json").read_text())
    assert [d["name"] for d in payload["datasets"]] == ["a.json", "b.jsonl"]
    assert payload["datasets"][0]["consistency"]["kb_edge_share"] == pytest.approx(0.75)
    html = (out / "report.html").read_text()
    assert '<img src="diversity.png"' in html and "<script" not in html
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources and all("/" not in src and (out / src).is_file() for src in sources)  # relative, present
    markdown = (out / "report.md").read_text()
    assert "| distinct-2 | 0.7143 | 1 |" in markdown
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing.json"), "--output", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    path = save_documents(fixture_documents(), tmp_path / "a.json")
    assert main(["report", str(path), "--split", "nope", "--output", str(tmp_path / "r")]) == 2
    assert "available: train, test" in capsys.readouterr().err
