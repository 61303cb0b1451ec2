"""``odin-ner-re build``: the cache build prints sizes and counts, ``--output-dir`` writes the
Hub layout, and user mistakes give one ``error:`` line and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from odin_medical_ner_re.cli import main

SIZES = ["--num-train", "60", "--num-validation", "10", "--num-test", "10", "--num-test-unseen", "10"]


def test_build_into_the_cache_prints_sizes_and_counts(
    cache_dir: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--config", "1k", "--cache-dir", cache_dir, "--seed", "3", *SIZES]) == 0
    out = capsys.readouterr().out
    assert "config 1k (seed 3, simple)" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert lines["split"][:3] == ["split", "documents", "Disease"]
    assert "treats" in lines["split"]
    assert lines["train"][1] == "60" and lines["test_unseen"][1] == "10"


def test_build_with_output_dir_writes_and_lists_the_layout(
    cache_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "hub"
    assert (
        main(
            [
                "build",
                "--config",
                "1k",
                "complex",
                "--output-dir",
                str(target),
                "--cache-dir",
                cache_dir,
                *SIZES,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "README.md" in out and "train-00000-of-00001.parquet" in out
    assert sorted(p.name for p in target.iterdir()) == ["1k", "README.md", "complex"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--config", "2k"], "valid configs: 1k, 10k, complex"),
        (["--config", "1k", "--num-train", "0"], "num_train must be a positive integer"),
        (["--config", "1k", "--num-test", "-1"], "num_test must be a positive integer"),
        (["--config", "1k", "--num-proc", "0"], "--num-proc must be a positive integer"),
        (
            ["--config", "1k", "--output-dir", "never-written", "--max-rows-per-shard", "0"],
            "max_rows_per_shard",
        ),
    ],
)
def test_bad_arguments_give_one_error_line(
    argv: list[str], message: str, cache_dir: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--cache-dir", cache_dir, *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_unrelated_output_dir_needs_overwrite(
    cache_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    argv = ["build", "--config", "1k", "--output-dir", str(target), "--cache-dir", cache_dir, *SIZES]
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert main([*argv, "--overwrite"]) == 0
    assert sorted(p.name for p in target.iterdir()) == ["1k", "README.md"]
