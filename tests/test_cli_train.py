"""``odin-ner-re train`` and ``odin-ner-re evaluate-model``: the recipes' runs, arguments and errors.

The commands hand their arguments to the recipes' own parser (``recipes/train.py`` and
``recipes/evaluate_model.py`` are thin entry points over the same modules), so what is checked
is that a user sees the same thing through either door: the same ``--help`` settings, the same
one-line errors, a real two-step run of the tiny model, and a report that ``evaluate-model``
reproduces. Runs are subprocesses with their own caches, as in ``test_training.py``.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_training import (
    TINY_CONFIG,
    TINY_RUN,
    UNSLOTH_STUB,
    error_lines,
    explain,
    run,
    run_env,
    save_pretrained_folder,
)

from odin_medical_ner_re import cli

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = {"train": ROOT / "recipes" / "train.py", "evaluate-model": ROOT / "recipes" / "evaluate_model.py"}
#: Two steps, no evaluation during training, two test notes scored with a short generation budget.
SHORT = shlex.split(
    "--max_steps 2 --eval_strategy no --save_strategy no --evaluate_splits test --max_eval_samples 2 "
    "--max_new_tokens 16"
)

#: The ``run_script`` fixture (conftest): ``python PATH ARGV`` in this process, its exit code.
Runner = Callable[[Path, list[str]], int]


def run_cli(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as exit_info:  # --help
        return int(exit_info.code or 0)


@pytest.mark.parametrize("command", list(SCRIPTS))
def test_help_lists_the_scripts_settings(
    command: str, run_script: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli([command, "--help"]) == 0
    through_cli = capsys.readouterr().out
    assert run_script(SCRIPTS[command], ["--help"]) == 0
    through_script = capsys.readouterr().out
    assert through_cli.startswith(f"usage: odin-ner-re {command} [-h] [--dataset_name DATASET_NAME]")
    # the usage block wraps by the program's name; the settings after it are the same, word for word
    settings = through_cli.split("\n\n", 1)[1]
    assert settings == through_script.split("\n\n", 1)[1]
    for flag in ("--max_steps", "--model_name_or_path", "--evaluate_splits", "--tiny_hidden_size"):
        assert flag in settings
    if command == "evaluate-model":
        assert "--model MODEL_PATH" in settings and "--report_path REPORT_PATH" in settings


def _mistakes(tmp_path: Path) -> dict[str, tuple[str, list[str], str]]:
    """case -> (command, arguments, what the error line must name)."""
    (tmp_path / "broken.yaml").write_text("max_steps: 2\n  learning_rate: [\n", encoding="utf-8")
    nowhere = str(tmp_path / "nowhere")
    return {
        "missing config": ("train", ["--config", str(tmp_path / "missing.yaml")], "missing.yaml does not exist"),
        "malformed config": ("train", ["--config", str(tmp_path / "broken.yaml")], "broken.yaml, line 2"),
        "unknown flag": ("train", ["--config", str(TINY_CONFIG), "--learning_rat", "1e-4"], "--learning_rat"),
        "stray argument": ("train", ["--config", str(TINY_CONFIG), "oops"], "oops"),
        "evaluate: missing model": ("evaluate-model", ["--model", nowhere, "--split", "test"], nowhere),
        "evaluate: unknown flag": ("evaluate-model", ["--model_paht", str(tmp_path)], "--model_paht"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing config", "malformed config", "unknown flag", "stray argument", "evaluate: missing model",
     "evaluate: unknown flag"],
)
def test_mistakes_are_the_scripts_one_error_line(
    case: str, tmp_path: Path, run_script: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    command, argv, named = _mistakes(tmp_path)[case]
    assert run_cli([command, *argv]) == 2
    out, err = capsys.readouterr()
    assert run_script(SCRIPTS[command], argv) == 2
    script_out, script_err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and named in err, err
    assert err == script_err and out == script_out == ""


# --------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two steps of the tiny model through ``python -m odin_medical_ner_re train``; (output, workdir)."""
    workdir = tmp_path_factory.mktemp("cli-train")
    output = workdir / "out"
    command = [sys.executable, "-m", "odin_medical_ner_re", "train", *TINY_RUN, *SHORT, "--output_dir", str(output)]
    proc = run(command, run_env(workdir))
    assert proc.returncode == 0, explain(proc)
    assert "backend: transformers" in proc.stderr  # the recipe's logging, set up by the command too
    assert "strict micro-F1 -> test: NER" in proc.stdout
    return output, workdir


def test_train_writes_the_recipes_outputs(trained: tuple[Path, Path]) -> None:
    output, _ = trained
    for name in ("config.json", "model.safetensors", "tokenizer.json", "odin_training.json", "report.json"):
        assert (output / name).is_file(), name
    info = json.loads((output / "odin_training.json").read_text())
    # 20 notes, an augmented variant of (nearly) each, then a renamed copy of every one: the recipe's data
    assert 40 < info["train_examples"] <= 80 and info["train_examples"] % 2 == 0
    assert info["data"]["tag_lookahead"] == 1  # the flags reached the run
    assert json.loads((output / "trainer_state.json").read_text())["global_step"] == 2
    report = json.loads((output / "report.json").read_text())
    assert list(report["splits"]) == ["test"] and report["splits"]["test"]["documents"] == 2


def test_evaluate_model_reproduces_the_training_report(trained: tuple[Path, Path]) -> None:
    """Greedy decoding of the same model on the same notes: the report train wrote, exactly."""
    output, workdir = trained
    again = workdir / "again.json"
    argv = [*TINY_RUN, *SHORT, "--model_path", str(output), "--report_path", str(again)]
    proc = run([sys.executable, "-m", "odin_medical_ner_re", "evaluate-model", *argv], run_env(workdir))
    assert proc.returncode == 0, explain(proc)
    assert f"report written to {again}" in proc.stdout
    assert json.loads(again.read_text()) == json.loads((output / "report.json").read_text())


def test_train_through_the_script_gives_the_same_model(trained: tuple[Path, Path]) -> None:
    """The same seed and arguments through ``recipes/train.py``: the same weights and the same report."""
    output, workdir = trained
    script_output = workdir / "script-out"
    argv = [*TINY_RUN, *SHORT, "--output_dir", str(script_output)]
    proc = run([sys.executable, str(SCRIPTS["train"]), *argv], run_env(workdir))
    assert proc.returncode == 0, explain(proc)
    for name in ("model.safetensors", "report.json", "tokenizer.json"):
        assert (script_output / name).read_bytes() == (output / name).read_bytes(), name


def test_train_imports_unsloth_before_transformers(tmp_path: Path) -> None:
    """The command settles the backend before the recipe parser imports TRL, as the script does.

    With the stand-in ``unsloth`` and a GPU reported, loading fails the way a CUDA problem does:
    one line, exit 2, and the stand-in saw transformers, trl and peft not yet loaded.
    """
    pretrained = save_pretrained_folder(tmp_path / "pretrained")
    log = tmp_path / "unsloth.jsonl"
    config = ROOT / "recipes" / "configs" / "llama-3.2-1b-unsloth.yaml"
    argv = ["train", "--config", str(config), "--model_name_or_path", str(pretrained), "--use_cpu", "true",
            "--bf16", "false", "--output_dir", str(tmp_path / "out")]
    wrapper = (
        "import sys\n"
        "from odin_medical_ner_re.training import launch\n"
        "launch.cuda_available = lambda: True\n"
        "from odin_medical_ner_re.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = run_env(tmp_path, UNSLOTH_STUB_LOG=str(log), UNSLOTH_STUB_FAIL="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(UNSLOTH_STUB), env.get("PYTHONPATH", "")])
    proc = run([sys.executable, "-c", wrapper, *argv], env)
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr + proc.stdout, explain(proc)
    (line,) = error_lines(proc)
    assert f"cannot load model {str(pretrained)!r}: RuntimeError: CUDA error" in line
    first = json.loads(log.read_text().splitlines()[0])
    assert first == {"event": "import", "already_loaded": []}
