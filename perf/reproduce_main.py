"""The README's first command once per seed, and the table of what it scores: mean ± sd, not one lucky run.

    python perf/reproduce_main.py --seeds 0,1,2
    python perf/reproduce_main.py --seeds 0,1,2 --output outputs/reproduce-main --overwrite

Each seed runs ``python recipes/train.py --config recipes/configs/tiny-cpu.yaml`` (the
README's first command, after ``pip install -e .``) in a subprocess, with ``--seed S`` and a
fresh ``--output_dir DIR/seed-S``; its log goes to ``DIR/seed-S.log``. The table (each run,
then mean ± sample standard deviation of test and test_unseen NER/RE strict micro-F1 and
of the wall time of the whole command: data, training, scoring; not ``pip install``), with
the CPU named, is printed and written to ``DIR/results.md`` and ``DIR/results.json``.
``--seed`` is TRL's ``seed``: the order of the batches, the renamed copies of the notes, and
whatever else the recipe draws from it.

Why a script: one run on one CPU can land on either side of a threshold (CPU kernels and
the seed move the scores by a few points), so the figure the README shows is this table.

Refused with one ``error:`` line and exit 2, before anything is overwritten: a seeds list
that is empty, not integers or repeats a seed; an output folder that already holds results
(unless ``--overwrite``; the old results are then replaced seed by seed, only once each new
run has finished); and a machine too slow for the budget. The budget (``--budget-minutes``,
30 as the README promises) is checked on the first run: once ``--probe-steps`` training steps
are logged, the time so far plus the remaining steps at the measured pace (a lower bound:
the final scoring is not counted) is compared with it, and an over-budget run is stopped
there, saying by how much it would overrun.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from odin_medical_ner_re.files import atomic_write_text, swap_into_place

ROOT = Path(__file__).resolve().parent.parent
CONFIG = "recipes/configs/tiny-cpu.yaml"
SPLITS = ("test", "test_unseen")
#: A step of the training progress bar as tqdm writes it: "123/600 [".
_PROGRESS = re.compile(r"(\d+)/(\d+) \[")


class InputError(Exception):
    """A bad argument or an over-budget machine: reported as one ``error:`` line, exit 2."""


@dataclass
class Run:
    seed: int
    scores: dict[str, dict[str, float]]  # split -> {"ner": F1, "re": F1}
    wall_seconds: float


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` -> [0, 1, 2]; empty, non-integer or repeated entries are refused."""
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not part for part in parts):
        raise InputError(f"--seeds {text!r}: give comma-separated integers, e.g. --seeds 0,1,2 (an entry is empty)")
    seeds = []
    for part in parts:
        if not re.fullmatch(r"\d+", part):
            raise InputError(f"--seeds {text!r}: {part!r} is not a non-negative integer")
        seeds.append(int(part))
    repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if repeated:
        raise InputError(f"--seeds {text!r}: seed {repeated[0]} is given twice (each run needs its own folder)")
    return seeds


def existing_results(output: Path) -> list[Path]:
    """What in ``output`` a new study would replace: its table, and any run's report."""
    if not output.is_dir():
        return []
    found = [output / name for name in ("results.md", "results.json") if (output / name).exists()]
    return found + sorted(output.glob("seed-*/report.json"))


def cpu_model() -> str:
    """The CPU's model name (what the figures depend on), as ``lscpu`` would print it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def config_steps(config: Path) -> int:
    """``max_steps`` of the recipe's YAML (what the progress bar counts to)."""
    import yaml

    return int(yaml.safe_load(config.read_text())["max_steps"])


def budget_estimate(started: float, first: tuple[int, float], latest: tuple[int, float], total: int) -> float:
    """Seconds the whole training would take: time so far, plus the remaining steps at the pace since step ``first``."""
    (first_step, first_time), (step, now) = first, latest
    pace = (now - first_time) / max(step - first_step, 1)
    return (now - started) + (total - step) * pace


def train_command(seed: int, output_dir: Path) -> list[str]:
    return [sys.executable, "recipes/train.py", "--config", CONFIG, "--seed", str(seed), "--output_dir", str(output_dir)]


def run_training(
    seed: int, output_dir: Path, log_path: Path, budget_seconds: float | None, probe_steps: int, total_steps: int
) -> float:
    """Run one seed's training in a subprocess; its wall time. Stops it (InputError) when the budget cannot be met."""
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            train_command(seed, output_dir), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert process.stdout is not None
        first: tuple[int, float] | None = None
        pending = ""
        # os.read returns what is there: tqdm rewrites one line with \r, so line-buffered reads would wait
        for raw in iter(lambda: os.read(process.stdout.fileno(), 4096), b""):
            chunk = decoder.decode(raw)
            log.write(chunk)
            if budget_seconds is None:
                continue
            *lines, pending = re.split(r"[\r\n]", pending + chunk)
            for line in lines:
                match = _PROGRESS.search(line)
                if not match or int(match[2]) != total_steps:
                    continue
                step, now = int(match[1]), time.perf_counter()
                if first is None:
                    if step >= 1:  # the pace is taken from the end of the first step (its warm-up excluded)
                        first = (step, now)
                elif step >= first[0] + probe_steps:
                    estimate = budget_estimate(started, first, (step, now), total_steps)
                    if estimate > budget_seconds:
                        process.kill()
                        process.wait()
                        raise InputError(
                            f"this machine is too slow for the {budget_seconds / 60:.0f}-minute budget: after "
                            f"{step} of {total_steps} steps, training alone would take about {estimate / 60:.1f} "
                            f"min, {(estimate - budget_seconds) / 60:.1f} min ({estimate / budget_seconds - 1:.0%}) "
                            f"over ({cpu_model()}, {os.cpu_count()} CPUs); stopped, log in {log_path}"
                        )
                    budget_seconds = None  # checked once, on the first run's first steps
                    break
        code = process.wait()
    if code != 0:
        raise RuntimeError(f"training for seed {seed} failed (exit {code}); its log: {log_path}")
    return time.perf_counter() - started


def read_scores(report: Path) -> dict[str, dict[str, float]]:
    """Strict micro-F1 per split from a run's ``report.json``."""
    splits = json.loads(report.read_text())["splits"]
    missing = [split for split in SPLITS if split not in splits]
    if missing:
        raise RuntimeError(f"{report} has no {', '.join(missing)} scores")
    return {split: {"ner": splits[split]["ner_strict_f1"], "re": splits[split]["re_strict_f1"]} for split in SPLITS}


Runner = Callable[[int, Path, Path, "float | None", int, int], float]


def summary(values: Sequence[float], digits: int = 3) -> str:
    mean = statistics.mean(values)
    spread = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{mean:.{digits}f} ± {spread:.{digits}f}"


def format_table(runs: Sequence[Run]) -> str:
    """Markdown: one row per run, then mean ± sd (sample standard deviation over the runs)."""
    header = (
        "| seed | test NER | test RE | test_unseen NER | test_unseen RE | wall (min) |\n"
        "|---|---|---|---|---|---|\n"
    )
    rows = "".join(
        f"| {run.seed} | {run.scores['test']['ner']:.3f} | {run.scores['test']['re']:.3f} | "
        f"{run.scores['test_unseen']['ner']:.3f} | {run.scores['test_unseen']['re']:.3f} | "
        f"{run.wall_seconds / 60:.1f} |\n"
        for run in runs
    )
    if len(runs) < 2:  # one run has no spread to show
        return header + rows
    columns = [[run.scores[split][task] for run in runs] for split in SPLITS for task in ("ner", "re")]
    means = " | ".join(summary(column) for column in columns)
    wall = summary([run.wall_seconds / 60 for run in runs], 1)
    return header + rows + f"| mean ± sd | {means} | {wall} |\n"


def main(argv: Sequence[str] | None = None, runner: Runner = run_training) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", required=True, help="comma-separated training seeds, e.g. 0,1,2")
    parser.add_argument("--output", default="outputs/reproduce-main", help="folder for the runs and the table")
    parser.add_argument("--overwrite", action="store_true", help="replace results already in --output")
    parser.add_argument("--budget-minutes", type=float, default=30.0, help="the README's budget for one run")
    parser.add_argument("--probe-steps", type=int, default=20, help="steps timed before the budget is judged")
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
        if args.budget_minutes <= 0 or args.probe_steps < 1:
            raise InputError("--budget-minutes must be above 0 and --probe-steps at least 1")
        output = Path(args.output)
        if output.exists() and not output.is_dir():
            raise InputError(f"--output {output} is a file, not a folder")
        found = existing_results(output)
        if found and not args.overwrite:
            raise InputError(
                f"--output {output} already holds results ({found[0]}{' and more' if len(found) > 1 else ''}); "
                "pass --overwrite to replace them, or choose another folder"
            )
        total_steps = config_steps(ROOT / CONFIG)
        output.mkdir(parents=True, exist_ok=True)
        runs = []
        for number, seed in enumerate(seeds):
            staging = output / f"seed-{seed}.running"
            shutil.rmtree(staging, ignore_errors=True)
            budget = args.budget_minutes * 60 if number == 0 else None
            try:
                wall = runner(seed, staging, output / f"seed-{seed}.log", budget, args.probe_steps, total_steps)
            except InputError:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            scores = read_scores(staging / "report.json")
            # only now: a failed run leaves the old results alone
            swap_into_place(staging, output / f"seed-{seed}")
            runs.append(Run(seed, scores, wall))
            print(f"seed {seed}: {json.dumps(scores)} in {wall / 60:.1f} min", flush=True)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    machine = f"{cpu_model()}, {os.cpu_count()} CPUs, python {platform.python_version()}"
    table = format_table(runs)
    text = (
        f"`python recipes/train.py --config {CONFIG} --seed S` for S in {','.join(map(str, seeds))}; "
        f"strict micro-F1; {machine}\n\n{table}"
    )
    atomic_write_text(output / "results.md", text)
    atomic_write_text(
        output / "results.json", json.dumps({"machine": machine, "runs": [vars(run) for run in runs]}, indent=2) + "\n"
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
