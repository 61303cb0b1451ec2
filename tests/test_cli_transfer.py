"""``odin-ner-re transfer`` end to end on a tiny BC5CDR-format corpus, and each bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from transfer_corpus import FIXTURE_KB, TRAIN_SIZE, make_corpus, make_synthetic

from odin_medical_ner_re.builder import config_names
from odin_medical_ner_re.cli import main
from odin_medical_ner_re.corpora import transfer as transfer_module
from odin_medical_ner_re.corpora.corpus import ENV_VAR


@pytest.fixture(autouse=True)
def _small_corpora_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture corpora are small slices of the real files, on purpose."""
    monkeypatch.setenv("ODIN_BENCHMARKS_ALLOW_SUBSET", "1")



@pytest.fixture()
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(corpus root, synthetic JSONL), with the fixture knowledge base for generator and dictionary."""
    monkeypatch.setenv("ODIN_KNOWLEDGE_DIR", str(FIXTURE_KB))
    monkeypatch.delenv(ENV_VAR, raising=False)
    return make_corpus(tmp_path / "corpora"), make_synthetic(tmp_path / "synthetic.jsonl")


def _argv(setup: tuple[Path, Path], output: Path, *extra: str) -> list[str]:
    corpora, synthetic = setup
    return ["transfer", "--synthetic", str(synthetic), "--corpus", "bc5cdr", "--data-dir", str(corpora),
            "--output", str(output), "--real", "0,4,all", "--allow-subset", "--quiet", *extra]


def test_transfer_writes_table_json_and_plot(
    setup: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out"
    assert main(_argv(setup, output, "--seed", "3", "--real-repeat", "2")) == 0
    printed = capsys.readouterr().out
    assert "| real training documents (k) | real only | real + synthetic | delta |" in printed
    assert f"| all ({TRAIN_SIZE}) |" in printed and "written:" in printed
    report = json.loads((output / "transfer.json").read_text(encoding="utf-8"))
    assert (report["seed"], report["real"], report["real_repeat"], report["split"]) == (3, [0, 4, "all"], 2, "validation")
    assert [(r["k"], r["arm"], r["n_train_docs"]) for r in report["corpora"]["bc5cdr"]["runs"]] == [
        (0, "real", 0), (0, "real+synthetic", 12), (4, "real", 4), (4, "real+synthetic", 4 * 2 + 12),
        ("all", "real", TRAIN_SIZE), ("all", "real+synthetic", TRAIN_SIZE * 2 + 12),
    ]
    assert (output / "transfer.md").read_text(encoding="utf-8") in printed
    assert (output / "transfer.png").read_bytes().startswith(b"\x89PNG")
    # a second run into the same folder is refused, unless asked for
    assert main(_argv(setup, output)) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert main(_argv(setup, output, "--overwrite", "--num-synthetic", "5")) == 0
    assert json.loads((output / "transfer.json").read_text(encoding="utf-8"))["synthetic"]["documents"] == 5


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--corpus", "pubmed"], "unknown benchmark 'pubmed'"),
        (["--split", "test"], "split 'test' of bc5cdr not found; available: train, validation"),
        (["--real", "0,11"], f"--real 11: bc5cdr has only {TRAIN_SIZE} training documents"),
        (["--real", "0,-25"], "--real: -25 is negative"),
        (["--real", "0,1.5"], "--real: '1.5' is not an integer"),
        (["--real-repeat", "0"], "--real-repeat must be at least 1"),
        (["--num-synthetic", "x"], "--num-synthetic must be an integer"),
        (["--max-eval-docs", "0"], "--max-eval-docs must be at least 1"),
        (["--system", "bert"], "unknown system 'bert'; valid: crf, model"),
        (["--synthetic", "2k"], f"--synthetic '2k': no such file, and not a builder config; valid configs: {', '.join(config_names())}"),
    ],
)
def test_bad_inputs_are_one_error_line(
    setup: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    output = tmp_path / "out"
    argv = _argv(setup, output)
    if extra[0] == "--corpus":  # replaces the corpus
        argv[argv.index("--corpus") + 1] = extra[1]
    elif extra[0] == "--synthetic":
        argv[argv.index("--synthetic") + 1] = extra[1]
    else:
        argv += extra
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not output.exists()  # nothing is created for a run that never started


@pytest.mark.parametrize(
    ("content", "message"), [(b"\xff\xfe\x00", "not valid UTF-8"), (b"[{]", "line 1, column 3")]
)
def test_unreadable_synthetic_file(
    setup: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    argv = _argv(setup, tmp_path / "out")
    argv[argv.index("--synthetic") + 1] = str(bad)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(bad) in err and message in err and err.count("\n") == 1


def test_output_cannot_be_the_synthetic_file(setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, synthetic = setup
    assert main(_argv(setup, synthetic)) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
    synthetic_in_output = synthetic.parent / "out" / "transfer.json"
    synthetic_in_output.parent.mkdir()
    synthetic_in_output.write_bytes(synthetic.read_bytes())
    argv = _argv(setup, synthetic_in_output.parent, "--overwrite")
    argv[argv.index("--synthetic") + 1] = str(synthetic_in_output)
    assert main(argv) == 2
    assert "would overwrite the input" in capsys.readouterr().err


def test_the_model_system_finds_the_tiny_recipe_in_a_checkout_and_asks_for_one_when_installed(
    setup: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default recipe config is in the checkout, not in the wheel: an installed package says so."""
    default = transfer_module.DEFAULT_MODEL_CONFIG
    assert default == Path(__file__).resolve().parents[1] / "recipes" / "configs" / "tiny-cpu.yaml"
    assert default.is_file()
    monkeypatch.setattr(transfer_module, "DEFAULT_MODEL_CONFIG", None)  # as in site-packages
    output = tmp_path / "out"
    assert main(_argv(setup, output, "--system", "model")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --system model: no recipe config given") and err.count("\n") == 1
    assert "recipes/configs/tiny-cpu.yaml is only in a source checkout" in err and "--model-config FILE" in err
    missing = tmp_path / "missing.yaml"
    assert main(_argv(setup, output, "--system", "model", "--model-config", str(missing))) == 2
    assert capsys.readouterr().err == f"error: model recipe config {missing} not found; give --model-config FILE\n"
    assert not output.exists()


@pytest.mark.slow
def test_model_system_smoke(setup: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The tiny recipe, 2 steps per run: the plumbing (train on a documents file, decode, score), not a score."""
    started = time.perf_counter()
    output = tmp_path / "model"
    argv = _argv(setup, output, "--system", "model", "--max-steps", "2")
    argv[argv.index("--real") + 1] = "0,2"
    assert main(argv) == 0
    report = json.loads((output / "transfer.json").read_text(encoding="utf-8"))
    runs = report["corpora"]["bc5cdr"]["runs"]
    assert report["system"] == "model" and report["model"]["options"] == {"max_steps": "2"}
    assert [(r["k"], r["arm"], r["scores"] is None) for r in runs] == [
        (0, "real", True), (0, "real+synthetic", False), (2, "real", False), (2, "real+synthetic", False)
    ]
    assert all(0.0 <= r["scores"]["ner_strict_f1"] <= 1.0 for r in runs[1:])
    print(f"model system smoke: {time.perf_counter() - started:.0f} s")
