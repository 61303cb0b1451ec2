"""``odin-ner-re generate`` and ``odin-ner-re stats``: happy paths and every documented bad input.

Bad input must give exit code 2, one ``error: ...`` line naming the problem, no traceback
and no file (not even a temporary one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from odin_medical_ner_re.cli import main
from odin_medical_ner_re.schema import load_documents


@pytest.fixture(autouse=True)
def packaged_knowledge_base() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ODIN_KNOWLEDGE_DIR", raising=False)
        yield


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_generate_writes_documents_and_prints_statistics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "notes.json"
    assert main(["generate", "--num-samples", "25", "--output", str(out), "--seed", "3", "--quiet"]) == 0
    printed = capsys.readouterr().out
    documents = load_documents(out)
    assert len(documents) == 25
    for fragment in (
        "Wrote 25 documents",
        "Documents: 25",
        "Entities:",
        "Relations:",
        "treats",
        "Example document",
    ):
        assert fragment in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.json"]


def test_stats_prints_the_same_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "notes.jsonl"
    assert main(["generate", "--num_samples", "12", "--output", str(out), "--quiet"]) == 0
    generated = capsys.readouterr().out
    assert main(["stats", str(out)]) == 0
    reported = capsys.readouterr().out
    assert reported.strip() == generated.split("\n", 1)[1].strip()
    assert main(["stats", str(out), "--json", "--example", "2"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["documents"] == 12 and stats["example"]["id"] == "doc-000003"


def test_same_seed_same_file(tmp_path: Path) -> None:
    paths = [tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"]
    for path, seed in zip(paths, ("7", "7", "8"), strict=True):
        assert (
            main(["generate", "--num-samples", "20", "--output", str(path), "--seed", seed, "--quiet"]) == 0
        )
    assert paths[0].read_bytes() == paths[1].read_bytes() != paths[2].read_bytes()


def test_format_option_and_config_presets(tmp_path: Path) -> None:
    jsonl = tmp_path / "notes.txt"
    assert (
        main(["generate", "--num-samples", "5", "--output", str(jsonl), "--format", "jsonl", "--quiet"]) == 0
    )
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == 5
    simple, complex_ = tmp_path / "simple.json", tmp_path / "complex.json"
    assert main(["generate", "--num-samples", "40", "--output", str(simple), "--quiet"]) == 0
    assert (
        main(["generate", "--num-samples", "40", "--output", str(complex_), "--config", "complex", "--quiet"])
        == 0
    )

    def mean_entities(path: Path) -> float:
        return sum(len(doc.entities) for doc in load_documents(path)) / 40

    assert mean_entities(complex_) > 1.5 * mean_entities(simple)


def test_the_config_gives_the_default_size(tmp_path: Path) -> None:
    out = tmp_path / "one_k.jsonl"
    assert main(["generate", "--config", "1k", "--output", str(out), "--quiet"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1_000


@pytest.mark.parametrize("value", ["0", "-3", "abc", "2.5", ""])
def test_bad_num_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    assert main(["generate", "--num-samples", value, "--output", str(tmp_path / "x.json")]) == 2
    assert "--num-samples must be a positive integer" in _error_line(capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("missing_dir/x.json", "does not exist"),
        ("a_file/x.json", "is not a directory"),
        ("a_dir", "existing directory"),
    ],
)
def test_bad_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str, message: str) -> None:
    (tmp_path / "a_file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "a_dir").mkdir()
    assert main(["generate", "--num-samples", "3", "--output", str(tmp_path / output)]) == 2
    assert message in _error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_dir", "a_file"]
    assert list((tmp_path / "a_dir").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root writes anywhere")
def test_unwritable_output_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert main(["generate", "--num-samples", "3", "--output", str(locked / "x.json")]) == 2
        assert "not writable" in _error_line(capsys)
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--config", "5k"], "unknown --config '5k'; valid configs: 1k, 10k, complex"),
        (["--format", "xml"], "unknown --format 'xml'"),
        (["--seed", "s"], "--seed must be an integer"),
    ],
)
def test_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["generate", "--num-samples", "3", "--output", str(tmp_path / "x.json"), *arguments]) == 2
    assert message in _error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_stats_reports_malformed_json_with_file_and_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"text": "x",\n "entities": [}]', encoding="utf-8")
    assert main(["stats", str(path)]) == 2
    assert "broken.json: line 2, column 15" in _error_line(capsys)


def test_stats_reports_an_invalid_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    document = {
        "id": "note-9",
        "text": "abc",
        "entities": [{"text": "ab", "type": "Disease", "start": 0, "end": 3}],
    }
    path.write_text(json.dumps([document]), encoding="utf-8")
    assert main(["stats", str(path)]) == 2
    line = _error_line(capsys)
    assert "note-9" in line and "text 'ab' != text[0:3] 'abc'" in line


@pytest.mark.parametrize("name", ["nothere.json", "."])
def test_stats_on_a_missing_file_or_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert main(["stats", str(tmp_path / name)]) == 2
    _error_line(capsys)


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    """The module entry point, in a fresh process, as a user would call it."""
    out = tmp_path / "notes.json"
    env = {k: v for k, v in os.environ.items() if k != "ODIN_KNOWLEDGE_DIR"}
    command = [sys.executable, "-m", "odin_medical_ner_re"]
    ok = subprocess.run(
        [*command, "generate", "--num-samples", "4", "--output", str(out)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Documents: 4" in ok.stdout and len(load_documents(out)) == 4
    bad = subprocess.run(
        [*command, "generate", "--num-samples", "0", "--output", str(tmp_path / "y.json")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: --num-samples must be a positive integer, got 0"
    assert not (tmp_path / "y.json").exists()


def test_literature_config_writes_abstracts(tmp_path: Path) -> None:
    out = tmp_path / "abstracts.jsonl"
    assert main(["generate", "--config", "literature", "--num-samples", "30", "--output", str(out), "--quiet"]) == 0
    documents = load_documents(out)
    assert len(documents) == 30
    assert all(doc.metadata["style"] == "literature" for doc in documents)
    assert sum(len(doc.text) for doc in documents) / 30 > 300  # abstracts, not one-line notes
