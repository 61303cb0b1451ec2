"""``perf/reproduce_main.py``: its refusals and its table, with the training runner mocked.

No test trains: the runner is replaced by one that writes the ``report.json`` a run would,
so what is checked is the script's own behaviour (argument checks, the output folder, the
budget message, the table), in milliseconds.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "perf" / "reproduce_main.py"


@pytest.fixture(scope="module")
def script() -> Any:
    spec = importlib.util.spec_from_file_location("reproduce_main", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["reproduce_main"] = module
    spec.loader.exec_module(module)
    return module


def fake_runner(scores: dict[int, float], calls: list[int] | None = None) -> Any:
    """A runner that 'trains' instantly: writes a report whose F1s are the seed's value."""

    def run(seed: int, output_dir: Path, log: Path, budget: float | None, probe: int, total: int) -> float:
        if calls is not None:
            calls.append(seed)
        output_dir.mkdir(parents=True)
        value = scores[seed]
        splits = {split: {"ner_strict_f1": value, "re_strict_f1": value - 0.1} for split in ("test", "test_unseen")}
        (output_dir / "report.json").write_text(json.dumps({"splits": splits}))
        log.write_text("done\n")
        return 60.0 * (seed + 20)

    return run


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.mark.parametrize("seeds", ["", " ", "0,,1", "0,a", "1.5", "-1", "0,1,0"])
def test_bad_seed_lists_are_refused_in_one_line(
    script: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], seeds: str
) -> None:
    calls: list[int] = []
    code = script.main(["--seeds", seeds, "--output", str(tmp_path / "out")], runner=fake_runner({}, calls))
    assert code == 2 and calls == []
    assert "--seeds" in error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_a_folder_with_results_is_refused_without_overwrite_and_left_as_it_was(
    script: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    (out / "seed-0").mkdir(parents=True)
    (out / "seed-0" / "report.json").write_text("old")
    calls: list[int] = []
    assert script.main(["--seeds", "0", "--output", str(out)], runner=fake_runner({0: 0.9}, calls)) == 2
    assert calls == []
    line = error_line(capsys)
    assert "already holds results" in line and "--overwrite" in line and "report.json" in line
    assert (out / "seed-0" / "report.json").read_text() == "old"


def test_overwrite_replaces_the_old_results(script: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    (out / "seed-0").mkdir(parents=True)
    (out / "seed-0" / "report.json").write_text("old")
    assert script.main(["--seeds", "0", "--output", str(out), "--overwrite"], runner=fake_runner({0: 0.9})) == 0
    assert json.loads((out / "seed-0" / "report.json").read_text())["splits"]["test"]["ner_strict_f1"] == 0.9


def test_an_over_budget_machine_is_stopped_saying_by_how_much_and_old_results_survive(
    script: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    (out / "seed-0").mkdir(parents=True)
    (out / "seed-0" / "report.json").write_text("old")

    def slow(seed: int, output_dir: Path, log: Path, budget: float | None, probe: int, total: int) -> float:
        output_dir.mkdir(parents=True)
        (output_dir / "checkpoint-1").mkdir()
        estimate = script.budget_estimate(0.0, (1, 10.0), (1 + probe, 10.0 + 4.0 * probe), total)
        assert budget is not None and estimate > budget  # 4 s a step for 600 steps: 40 min
        raise script.InputError(f"too slow: about {estimate / 60:.1f} min, {(estimate - budget) / 60:.1f} min over")

    code = script.main(["--seeds", "0,1", "--output", str(out), "--overwrite"], runner=slow)
    assert code == 2
    assert "min over" in error_line(capsys)
    assert (out / "seed-0" / "report.json").read_text() == "old"
    assert not (out / "seed-0.running").exists() and not (out / "results.md").exists()


def test_the_budget_estimate_adds_the_remaining_steps_at_the_measured_pace(script: Any) -> None:
    # started at 0, step 1 at 100 s (data, tokenizer), step 21 at 140 s: 2 s a step, 579 steps to go
    assert script.budget_estimate(0.0, (1, 100.0), (21, 140.0), 600) == pytest.approx(140 + 579 * 2)


def test_only_the_first_run_is_budget_checked(script: Any, tmp_path: Path) -> None:
    budgets: list[float | None] = []
    inner = fake_runner({0: 0.9, 1: 0.92})

    def run(seed: int, output_dir: Path, log: Path, budget: float | None, probe: int, total: int) -> float:
        budgets.append(budget)
        return inner(seed, output_dir, log, budget, probe, total)

    assert script.main(["--seeds", "0,1", "--output", str(tmp_path / "o"), "--budget-minutes", "25"], runner=run) == 0
    assert budgets == [25 * 60, None]


def test_the_table_lists_each_run_then_mean_and_sd(script: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert script.main(["--seeds", "0,1,2", "--output", str(out)], runner=fake_runner({0: 0.90, 1: 0.92, 2: 0.94})) == 0
    table = (out / "results.md").read_text()
    assert table in capsys.readouterr().out
    assert "| 1 | 0.920 | 0.820 | 0.920 | 0.820 | 21.0 |" in table
    assert "| mean ± sd | 0.920 ± 0.020 | 0.820 ± 0.020 | 0.920 ± 0.020 | 0.820 ± 0.020 | 21.0 ± 1.0 |" in table
    assert script.cpu_model() in table
    saved = json.loads((out / "results.json").read_text())
    assert [run["seed"] for run in saved["runs"]] == [0, 1, 2]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["seed-0", "seed-1", "seed-2"]


def test_one_run_has_no_spread_row(script: Any, tmp_path: Path) -> None:
    """A standard deviation of one run would print as nan: the table then lists the run alone."""
    out = tmp_path / "out"
    assert script.main(["--seeds", "42", "--output", str(out)], runner=fake_runner({42: 0.93})) == 0
    table = (out / "results.md").read_text()
    assert "| 42 | 0.930 |" in table and "mean" not in table and "nan" not in table


def test_a_failed_training_is_an_error_not_a_row(script: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def crash(seed: int, output_dir: Path, log: Path, budget: float | None, probe: int, total: int) -> float:
        raise RuntimeError(f"training for seed {seed} failed (exit 1); its log: {log}")

    assert script.main(["--seeds", "3", "--output", str(tmp_path / "o")], runner=crash) == 1
    assert "seed 3 failed" in error_line(capsys)
    assert not (tmp_path / "o" / "results.md").exists()


def test_the_command_is_the_readme_one_with_the_seed_and_a_fresh_folder(script: Any, tmp_path: Path) -> None:
    command = script.train_command(7, tmp_path / "seed-7.running")
    assert command[1:] == [
        "recipes/train.py", "--config", "recipes/configs/tiny-cpu.yaml", "--seed", "7",
        "--output_dir", str(tmp_path / "seed-7.running"),
    ]
    assert script.config_steps(SCRIPT.parent.parent / script.CONFIG) > 0


FAKE_TRAINING = """
import sys, time
for step in range(0, 11):
    sys.stderr.write(f"\\r  {step}/600 [00:0{step}<10:00, 1.00s/it]")
    sys.stderr.flush()
    time.sleep(0.2)
"""


def test_the_real_runner_stops_a_training_whose_pace_overruns_the_budget(
    script: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A (fake, 0.2 s a step) progress bar is read from step 1 on; 600 steps would take ~2 min, the budget is 1."""
    monkeypatch.setattr(script, "train_command", lambda seed, output_dir: [sys.executable, "-c", FAKE_TRAINING])
    over = r"1-minute budget: after 3 of 600 steps, training alone would take about \d+\.\d min, \d+\.\d min \(\d+%\) over"
    with pytest.raises(script.InputError, match=over):
        script.run_training(0, tmp_path / "run", tmp_path / "run.log", 60.0, 2, 600)
    assert "3/600" in (tmp_path / "run.log").read_text()


def test_the_real_runner_returns_the_wall_time_of_a_run_within_budget(
    script: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(script, "train_command", lambda seed, output_dir: [sys.executable, "-c", FAKE_TRAINING])
    wall = script.run_training(0, tmp_path / "run", tmp_path / "run.log", 3600.0, 2, 600)
    assert wall >= 2.0
    assert "10/600" in (tmp_path / "run.log").read_text()


def test_an_output_that_is_a_file_is_refused(script: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out"
    target.write_text("notes")
    assert script.main(["--seeds", "0", "--output", str(target)], runner=fake_runner({0: 0.9})) == 2
    assert "is a file" in error_line(capsys)
    assert target.read_text() == "notes"
