"""``build --engine ray``: Ray tasks write, file for file and byte for byte, what the local build writes.

A local Ray cluster (two CPUs, no dashboard) is started by the module fixture; the builds are
a few dozen notes against the small fixture knowledge base.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import datasets
import pytest

from odin_medical_ner_re.builder import make_builder
from odin_medical_ner_re.cli import main
from odin_medical_ner_re.distributed_build import write_shard
from odin_medical_ner_re.engines import task_environment
from odin_medical_ner_re.shard_plan import split_shards

ray = pytest.importorskip("ray")

SIZES = ["--num-train", "50", "--num-validation", "7", "--num-test", "7", "--num-test-unseen", "5"]


@pytest.fixture(scope="module")
def cluster(knowledge_dir: str) -> Iterator[None]:
    """Started after the fixture knowledge base is chosen, so the workers inherit the same environment."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def build(*argv: str) -> int:
    return main(["build", "--config", "1k", *SIZES, "--seed", "5", *argv])


def parquet_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.glob("*/*.parquet"))}


def test_ray_shards_are_the_local_builds_byte_for_byte(
    cluster: None, cache_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local, distributed = tmp_path / "local", tmp_path / "ray"
    assert (
        build("--num-shards", "3", "--num-proc", "2", "--cache-dir", cache_dir, "--output-dir", str(local))
        == 0
    )
    assert build("--num-shards", "3", "--engine", "ray", "--output-dir", str(distributed)) == 0
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


def die_once_mid_shard(marker: str):
    """A task that, the first time it runs shard 1 of train, leaves half a file and kills its worker."""

    def task(config: str, options: dict, shard: dict, path: str, environment: dict):
        import os as _os
        from pathlib import Path as _Path

        if shard["split"] == "train" and shard["shard"] == 1 and not _os.path.exists(marker):
            _Path(marker).touch()
            partial = _Path(path).parent / f".{_Path(path).name}.dead.tmp"
            partial.write_bytes(b"PAR1 half a parquet file")
            _os._exit(1)  # the worker process dies: no handler, no cleanup
        return write_shard(config, options, shard, path, environment)

    return task


def test_a_worker_killed_mid_shard_is_retried_and_the_shard_written_whole(
    cluster: None, cache_dir: str, tmp_path: Path
) -> None:
    import cloudpickle

    from odin_medical_ner_re.distributed_build import export_hub_layout_ray

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    marker = tmp_path / "died-once"
    sizes = {"num_train": 50, "num_validation": 7, "num_test": 7, "num_test_unseen": 5, "seed": 5}
    target = export_hub_layout_ray(
        tmp_path / "ray",
        "1k",
        num_shards=3,
        show_progress=False,
        task=die_once_mid_shard(str(marker)),
        **sizes,
    )
    assert marker.exists()  # the worker really died once
    assert build("--num-shards", "3", "--cache-dir", cache_dir, "--output-dir", str(tmp_path / "local")) == 0
    assert parquet_files(target) == parquet_files(tmp_path / "local")
    assert not [p for p in target.rglob(".*")]  # the dead attempt's half file is gone
