"""``build --engine ray``: Ray tasks write, file for file and byte for byte, what the local build writes.

The Ray builds run in a process of their own (``tests/fixtures/ray_builds.py``: a local cluster
of two CPUs, no dashboard), started once by a module fixture: a process that ran Ray can deadlock
in a later ``fork``. The local ``--num-proc 2`` build it is compared with runs in a fresh process
too: forking the test process itself (its torch and tokenizers threads) once left a ``datasets``
pool worker waiting forever under load. The builds are a few dozen notes against the small
fixture knowledge base.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from odin_medical_ner_re.builder import make_builder
from odin_medical_ner_re.cli import main
from odin_medical_ner_re.distributed_build import write_shard
from odin_medical_ner_re.engines import task_environment
from odin_medical_ner_re.shard_plan import split_shards

pytest.importorskip("ray")

SIZES = ["--num-train", "50", "--num-validation", "7", "--num-test", "7", "--num-test-unseen", "5"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ray_builds(knowledge_dir: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ray/`` (build --engine ray) and ``killed/`` (a worker killed once mid-shard), from their own process."""
    out = tmp_path_factory.mktemp("ray-builds")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "ODIN_KNOWLEDGE_DIR": knowledge_dir}
    script = ROOT / "tests" / "fixtures" / "ray_builds.py"
    proc = subprocess.run(
        [sys.executable, str(script), str(out)], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def build(*argv: str) -> int:
    return main(["build", "--config", "1k", *SIZES, "--seed", "5", *argv])


def build_in_fresh_process(knowledge_dir: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``build`` with ``--num-proc`` from a process without threads: forking the test process (torch
    and tokenizers threads, earlier pools) once left a ``datasets`` pool worker waiting forever."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "ODIN_KNOWLEDGE_DIR": knowledge_dir}
    command = [sys.executable, "-m", "odin_medical_ner_re", "build", "--config", "1k", *SIZES, "--seed", "5", *argv]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def parquet_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.glob("*/*.parquet"))}


def test_ray_shards_are_the_local_builds_byte_for_byte(
    ray_builds: Path, knowledge_dir: str, tmp_path: Path
) -> None:
    local, distributed = tmp_path / "local", ray_builds / "ray"
    options = ("--num-shards", "3", "--num-proc", "2", "--cache-dir", str(tmp_path / "cache"))
    done = build_in_fresh_process(knowledge_dir, *options, "--output-dir", str(local))
    assert done.returncode == 0, done.stderr[-4000:]
    local_files, ray_files = parquet_files(local), parquet_files(distributed)
    assert len(ray_files) == 12 and "1k/train-00002-of-00003.parquet" in ray_files
    assert ray_files == local_files
    card = (distributed / "README.md").read_text(encoding="utf-8")
    assert card == (local / "README.md").read_text(encoding="utf-8")  # statistics merged from the tasks
    assert "## Shard plan" in card and "`num_shards` = 3" in card
    assert "| 1k | train | 3 | 16-17 |" in card and "| 1k | test_unseen | 3 | 1-2 |" in card
    train = datasets.load_dataset(str(distributed), "1k", split="train", cache_dir=str(tmp_path / "c"))
    assert len(train) == 50 and train[0]["id"] == "1k-train-0000000" and train[-1]["id"] == "1k-train-0000049"
    assert train.features["entities"].feature["type"].names[0] == "Disease"


def test_a_rerun_task_writes_the_same_bytes(knowledge_dir: str, tmp_path: Path) -> None:
    options = {"num_train": 20, "num_validation": 3, "num_test": 3, "num_test_unseen": 3, "num_shards": 2}
    shard = make_builder("1k", cache_dir=str(tmp_path / "c"), **options).config.shard_plan()["train"][1]
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    scan = write_shard("1k", options, shard, str(first), task_environment())
    write_shard("1k", options, shard, str(second), task_environment())
    assert first.read_bytes() == second.read_bytes()
    assert scan.stats["documents"] == 10 and scan.chars > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet", "b.parquet", "c"]  # no temporaries


@pytest.mark.parametrize(("total", "num_shards"), [(50, 3), (7, 3), (5, 8), (6, 6), (1, 1)])
def test_the_shard_plan_is_the_datasets_contiguous_split(total: int, num_shards: int) -> None:
    shards = split_shards("train", total, 2000, num_shards)
    rows = datasets.Dataset.from_dict({"i": list(range(total))})
    assert len(shards) == min(total, num_shards)
    for shard in shards:
        expected = rows.shard(num_shards=len(shards), index=shard["shard"], contiguous=True)["i"]
        assert list(range(shard["start"], shard["start"] + shard["count"])) == expected


def test_without_num_shards_the_plan_is_shard_size_rows() -> None:
    assert [s["count"] for s in split_shards("train", 5, 2)] == [2, 2, 1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_address_that_does_not_answer_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"127.0.0.1:{free_port()}"
    code = build(
        "--num-shards", "2", "--engine", "ray", "--address", address, "--output-dir", str(tmp_path / "o")
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith(f"error: Ray cluster at {address} does not answer")
    assert not (tmp_path / "o").exists()


def test_ray_not_installed_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    code = build("--num-shards", "2", "--engine", "ray", "--output-dir", str(tmp_path / "o"))
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err
        == "error: the ray engine is not installed: pip install 'odin-medical-ner-re[ray]' (or pip install ray)\n"
    )


def test_a_folder_with_another_shard_plan_is_refused_unless_overwrite(
    cache_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "hub"
    assert build("--num-shards", "2", "--cache-dir", cache_dir, "--output-dir", str(target)) == 0
    before = parquet_files(target)
    capsys.readouterr()
    for engine in ("local", "ray"):  # refused before any cluster is contacted or any row built
        code = build("--num-shards", "3", "--engine", engine, "--output-dir", str(target))
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1
        assert "holds a build with another shard plan (1k/test: 2 file(s), this build writes 3)" in err
        assert parquet_files(target) == before
    assert build("--num-shards", "2", "--cache-dir", cache_dir, "--output-dir", str(target)) == 0  # same plan
    assert (
        build("--num-shards", "3", "--cache-dir", cache_dir, "--output-dir", str(target), "--overwrite") == 0
    )
    assert len(list((target / "1k").glob("train-*-of-00003.parquet"))) == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--engine", "ray", "--output-dir", "x"], "--engine ray needs --num-shards N"),
        (["--engine", "ray", "--num-shards", "2"], "--engine ray writes a Hub layout: give --output-dir"),
        (
            ["--engine", "ray", "--num-shards", "2", "--output-dir", "x", "--num-proc", "2"],
            "--num-proc does not apply",
        ),
        (["--num-shards", "0"], "--num-shards must be a positive integer, got 0"),
        (["--address", "h:1"], "--address only applies with --engine ray"),
        (
            ["--engine", "ray", "--num-shards", "2", "--output-dir", "x", "--address", "nohost"],
            "is not HOST:PORT",
        ),
    ],
)
def test_option_mistakes_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(*argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_worker_killed_mid_shard_is_retried_and_the_shard_written_whole(
    ray_builds: Path, cache_dir: str, tmp_path: Path
) -> None:
    assert (ray_builds / "died-once").exists()  # the worker really died once, leaving half a file
    assert build("--num-shards", "3", "--cache-dir", cache_dir, "--output-dir", str(tmp_path / "local")) == 0
    assert parquet_files(ray_builds / "killed") == parquet_files(tmp_path / "local")
    assert not list((ray_builds / "killed").rglob(".*"))  # the dead attempt's half file is gone
