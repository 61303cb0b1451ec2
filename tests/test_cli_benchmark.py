"""``odin-ner-re benchmark`` on a tiny hand-made BC5CDR-format corpus (no shared files needed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from odin_medical_ner_re.cli import main
from odin_medical_ner_re.corpora.corpus import ENV_VAR

FIXTURE_KB = Path(__file__).resolve().parent / "fixtures" / "kb"

_SENTENCES = [
    ("Metformin for type 2 diabetes and lisinopril for hypertension.", [("Metformin", "Chemical", "D1"), ("type 2 diabetes", "Disease", "D2"), ("lisinopril", "Chemical", "D3"), ("hypertension", "Disease", "D4")]),
    ("Aspirin caused headache in a patient with influenza.", [("Aspirin", "Chemical", "D5"), ("headache", "Disease", "D6"), ("influenza", "Disease", "D7")]),
    ("Oseltamivir shortened influenza; atorvastatin was continued.", [("Oseltamivir", "Chemical", "D8"), ("influenza", "Disease", "D7"), ("atorvastatin", "Chemical", "D9")]),
]


def _pubtator(first_pmid: int, count: int) -> str:
    """``count`` abstracts: a fixed title and one of the sentences above as abstract."""
    lines = []
    for n in range(count):
        pmid = str(first_pmid + n)
        title = "Case report."
        abstract, mentions = _SENTENCES[n % len(_SENTENCES)]
        lines += [f"{pmid}|t|{title}", f"{pmid}|a|{abstract}"]
        text = f"{title} {abstract}"
        cursor = 0
        for mention, kind, concept in mentions:
            start = text.index(mention, cursor)
            cursor = start + len(mention)
            lines.append("\t".join([pmid, str(start), str(cursor), mention, kind, concept]))
        lines.append("\t".join([pmid, "CID", mentions[0][2], mentions[1][2]]))
        lines.append("")
    return "\n".join(lines) + "\n"


@pytest.fixture()
def corpus_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bc5cdr"
    folder.mkdir()
    (folder / "CDR_TrainingSet.PubTator.txt").write_text(_pubtator(1000, 12), encoding="utf-8")
    (folder / "CDR_TestSet.PubTator.txt").write_text(_pubtator(2000, 3), encoding="utf-8")
    monkeypatch.setenv("ODIN_KNOWLEDGE_DIR", str(FIXTURE_KB))
    monkeypatch.delenv(ENV_VAR, raising=False)
    return tmp_path


def test_dictionary_baseline_report(corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "report.json"
    assert main(["benchmark", "bc5cdr", "--baseline", "dictionary", "--data-dir", str(corpus_dir), "--output", str(output), "--allow-subset"]) == 0
    printed = capsys.readouterr().out
    # every mention is found except "headache": a Symptom in the knowledge base, and BC5CDR
    # annotates no Symptom, so it is not predicted (predictions are limited to Disease and Drug)
    assert "bc5cdr / test / odin labels / dictionary" in printed and "NER strict micro-F1 0.9474" in printed
    report = json.loads(output.read_text(encoding="utf-8"))
    assert report["benchmark"] == "bc5cdr" and report["label_set"] == "odin" and report["documents"] == 3
    assert report["scored_entity_types"] == ["Disease", "Drug"] and report["relation_types"] == []
    strict = report["ner"]["strict"]["micro"]
    assert (strict["support"], strict["correct"], strict["missed"], strict["spurious"]) == (10, 9, 1, 0)
    assert report["ner_strict_f1"] == pytest.approx(0.9474, abs=1e-4)
    assert "document_level_re" not in report  # CID has no odin relation


def test_crf_baseline_native_labels(corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmark", "bc5cdr", "--baseline", "crf", "--data-dir", str(corpus_dir / "bc5cdr"), "--allow-subset"]) == 0
    printed = capsys.readouterr().out
    assert "native labels / crf" in printed and "RE document level (official protocol)" in printed
    assert "NER strict micro-F1 1.0000" in printed  # the test sentences are the training sentences


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["benchmark", "bc5cdr", "--baseline", "dictionary", "--data-dir", "/nonexistent"], "looked in /nonexistent/bc5cdr"),
        (["benchmark", "bc5cdr", "--split", "validation", "--baseline", "crf", "--allow-subset"], "split 'validation' of bc5cdr not found"),
        (["benchmark", "bc5cdr", "--baseline", "dictionary", "--label-set", "native", "--allow-subset"], "use --label-set odin"),
        (["benchmark", "bc5cdr"], "give --baseline"),
        (["benchmark", "pubmed", "--baseline", "crf"], "unknown benchmark 'pubmed'"),
        (["benchmark", "bc5cdr", "--baseline", "crf"], "has 12 documents and"),
    ],
)
def test_user_errors_are_one_line(
    corpus_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    if "--data-dir" not in argv:
        monkeypatch.setenv(ENV_VAR, str(corpus_dir))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_model_without_inference_module(corpus_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "odin_medical_ner_re.inference", None)  # import now fails
    assert main(["benchmark", "bc5cdr", "--model", str(corpus_dir), "--data-dir", str(corpus_dir), "--allow-subset"]) == 2
    assert "odin_medical_ner_re.inference.predict_documents" in capsys.readouterr().err


def test_model_predictions_are_scored(corpus_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import types

    calls: list[tuple[str, tuple[list[str], list[str]], dict]] = []

    def predict_documents(
        model_dir: str, documents: list[dict], label_names: tuple[list[str], list[str]], **options: object
    ) -> list[dict]:
        calls.append((model_dir, label_names, options))
        assert all(not d["entities"] for d in documents)  # the model never sees gold annotations
        return [{"id": d["id"], "text": d["text"], "entities": [], "relations": []} for d in documents]

    fake = types.ModuleType("odin_medical_ner_re.inference")
    fake.predict_documents = predict_documents  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "odin_medical_ner_re.inference", fake)
    argv = ["benchmark", "bc5cdr", "--model", "some/dir", "--data-dir", str(corpus_dir), "--allow-subset", "--batch-size", "8"]
    assert main(argv) == 0
    assert "NER strict micro-F1 0.0000" in capsys.readouterr().out
    assert calls[0][0] == "some/dir" and "Drug" in calls[0][1][0]
    assert calls[0][2] == {"batch_size": 8, "show_progress": True}  # long decoding shows a progress bar
    assert main([*argv[:-1], "0"]) == 2
    assert "batch size must be at least 1" in capsys.readouterr().err
