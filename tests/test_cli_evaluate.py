"""``odin-ner-re evaluate``: files in, a table out, the full report written atomically."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from odin_medical_ner_re import cli
from odin_medical_ner_re.commands import evaluate as command
from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.scoring import ENTITY_MODES, RELATION_MODES

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
        "relations": [{"id": "R1", "type": "treats", "head": "E1", "tail": "E2"}],
    }
]
PREDICTIONS = [
    {
        "id": "n1",
        "entities": [
            {"id": "a", "start": 0, "end": 7, "type": "Drug", "text": "Aspirin"},
            {"id": "b", "start": 17, "end": 25, "type": "Symptom", "text": "headache"},
        ],
        "relations": [{"type": "treats", "head": "a", "tail": "b"}],
    }
]


def _main(*argv: str) -> int:
    """Run the command through a parser holding only it, as ``cli.main`` would."""
    parser = argparse.ArgumentParser(prog="odin-ner-re")
    command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserInputError as err:
        print(f"error: {err}")
        return 2


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("".join(json.dumps(d) + "\n" for d in PREDICTIONS), encoding="utf-8")
    references = tmp_path / "references.json"
    references.write_text(json.dumps(REFERENCES), encoding="utf-8")
    return predictions, references


def test_prints_every_mode_and_writes_the_report(files, tmp_path, capsys):
    predictions, references = files
    output = tmp_path / "report.json"
    assert (
        _main(
            "evaluate",
            "--predictions",
            str(predictions),
            "--references",
            str(references),
            "--output",
            str(output),
        )
        == 0
    )
    out = capsys.readouterr().out
    for mode in ENTITY_MODES:
        assert f"entities, {mode}" in out
    for mode in RELATION_MODES:
        assert f"relations, {mode}" in out
    assert "Symptom" in out and "micro" in out and "macro" in out
    report = json.loads(output.read_text(encoding="utf-8"))
    assert report["metrics"]["ner_strict_recall"] == pytest.approx(2 / 3)
    assert report["metrics"]["re_strict_f1"] == 1.0
    assert report["ner"]["strict"]["per_type"]["Symptom"]["missed"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_align_text_places_text_only_predictions(tmp_path, files, capsys):
    _, references = files
    text_only = tmp_path / "lm.json"
    text_only.write_text(json.dumps({"documents": [{"entities": [{"text": "fever", "type": "Symptom"}]}]}))
    output = tmp_path / "report.json"
    argv = [
        "evaluate",
        "--predictions",
        str(text_only),
        "--references",
        str(references),
        "--output",
        str(output),
    ]
    assert _main(*argv, "--align-text") == 0
    report = json.loads(output.read_text(encoding="utf-8"))
    assert (report["aligned"], report["unaligned"], report["align_text"]) == (1, 0, True)
    assert report["ner"]["strict"]["micro"]["correct"] == 1
    assert _main(*argv) == 0
    assert json.loads(output.read_text(encoding="utf-8"))["unaligned"] == 1


def test_bad_inputs_fail_with_one_line_and_leave_the_old_report(files, tmp_path, capsys):
    predictions, references = files
    output = tmp_path / "report.json"
    output.write_text("previous")
    two = tmp_path / "two.json"
    two.write_text(json.dumps(REFERENCES * 2))
    argv = ["--predictions", str(predictions), "--references", str(two), "--output", str(output)]
    assert _main("evaluate", *argv) == 2
    assert "1 documents but references have 2" in capsys.readouterr().out
    assert output.read_text() == "previous"
    assert (
        _main("evaluate", "--predictions", str(tmp_path / "missing.json"), "--references", str(references))
        == 2
    )
    assert "no such file" in capsys.readouterr().out
    nowhere = str(tmp_path / "no" / "report.json")
    assert (
        _main(
            "evaluate",
            "--predictions",
            str(predictions),
            "--references",
            str(references),
            "--output",
            nowhere,
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().out


def test_runs_through_the_console_entry_point(files, capsys):
    predictions, references = files
    assert cli.main(["evaluate", "--predictions", str(predictions), "--references", str(references)]) == 0
    assert "entities, strict" in capsys.readouterr().out
    assert (
        cli.main(["evaluate", "--predictions", str(references) + ".missing", "--references", str(references)])
        == 2
    )
    assert capsys.readouterr().err.startswith("error: ")
