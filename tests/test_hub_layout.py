"""The Hub export: ``datasets.load_dataset(folder, name)`` must give back the builder's rows
and features, the README must carry valid Hub metadata and a filled card, and a refused or
failed export must leave the target folder exactly as it was."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import datasets
import pytest
import yaml

from odin_medical_ner_re import hub_layout
from odin_medical_ner_re.builder import SPLITS, config_names, features, load_dataset
from odin_medical_ner_re.cards import render_dataset_card, size_category
from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.hub_layout import export_hub_layout, is_previous_export

SMALL: dict[str, int] = {"num_train": 150, "num_validation": 30, "num_test": 30, "num_test_unseen": 30}
ROWS_PER_FILE = 60  # train is written as 3 parquet files


@pytest.fixture(scope="module")
def exported(cache_dir: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("export") / "hub"
    return export_hub_layout(target, cache_dir=cache_dir, max_rows_per_shard=ROWS_PER_FILE, **SMALL)


def _front_matter(readme: str) -> dict[str, Any]:
    match = re.match(r"---\n(.*?)\n---\n", readme, flags=re.DOTALL)
    assert match, "README.md has no YAML front matter"
    return yaml.safe_load(match.group(1))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.")]


@pytest.mark.parametrize("name", config_names())
def test_load_dataset_on_the_export_equals_the_builder(
    exported: Path, cache_dir: str, name: str, tmp_path: Path
) -> None:
    loaded = datasets.load_dataset(str(exported), name, cache_dir=str(tmp_path))
    built = load_dataset(name, cache_dir=cache_dir, **SMALL)  # same cache: no regeneration
    assert list(loaded) == list(SPLITS)
    for split in SPLITS:
        assert loaded[split].features == built[split].features == features()
        assert loaded[split].to_list() == built[split].to_list(), split


def test_file_layout(exported: Path) -> None:
    assert sorted(p.name for p in exported.iterdir()) == sorted(["README.md", *config_names()])
    for name in config_names():
        files = sorted(p.name for p in (exported / name).iterdir())
        assert all(
            re.fullmatch(r"(train|validation|test|test_unseen)-\d{5}-of-\d{5}\.parquet", f) for f in files
        )
        assert [f for f in files if f.startswith("train-")] == [
            f"train-0000{i}-of-00003.parquet" for i in range(3)
        ]
    assert is_previous_export(exported)
    assert not _leftovers(exported)


def test_readme_metadata(exported: Path) -> None:
    meta = _front_matter((exported / "README.md").read_text(encoding="utf-8"))
    assert meta["license"] == "apache-2.0"
    assert meta["language"] == ["en"]
    assert "token-classification" in meta["task_categories"]
    assert {"medical", "clinical", "ner", "relation-extraction", "synthetic"} <= set(meta["tags"])
    assert meta["size_categories"] == [size_category(sum(SMALL.values()))]
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert set(configs) == set(config_names())
    for name, config in configs.items():
        assert {f["split"]: f["path"] for f in config["data_files"]} == {s: f"{name}/{s}-*" for s in SPLITS}
    for info in meta["dataset_info"]:
        assert datasets.Features._from_yaml_list(info["features"]) == features()
        assert {s["name"]: s["num_examples"] for s in info["splits"]} == {
            s: SMALL[f"num_{s}"] for s in SPLITS
        }


def test_card_is_filled(exported: Path) -> None:
    card = (exported / "README.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]
    for heading in (
        "## Schema",
        "## Configurations and sizes",
        "## Generation method",
        "### Knowledge-base provenance",
        "## Held-out surface forms",
        "## Leakage",
        "## Limitations",
        "## License",
        "## Citation",
    ):
        assert heading in card
    assert "$" not in card, "unfilled template placeholder"
    assert "not for clinical use" in card.lower()
    assert "0 of 30 (0.00%)" in card  # leakage figure of the test splits


def test_quality_figures_and_repo_id_reach_the_card(exported: Path, tmp_path: Path) -> None:
    loaded = datasets.load_dataset(str(exported), "1k", cache_dir=str(tmp_path))
    stats = hub_layout.collect_stats({"1k": (hub_layout.checked_builder("1k", **SMALL).config, loaded)})
    card = render_dataset_card(
        stats, quality={"distinct_2": 0.4567, "factual": {"consistency": 1.0}}, repo_id="org/odin"
    )
    assert "## Quality" in card and "`factual.consistency`" in card and "0.4567" in card
    assert 'load_dataset("org/odin", "1k")' in card
    assert "## Quality" not in render_dataset_card(stats)


def test_re_export_replaces_a_previous_export(exported: Path, cache_dir: str) -> None:
    export_hub_layout(
        exported,
        configs=["1k", "10k", "complex"],
        cache_dir=cache_dir,
        max_rows_per_shard=ROWS_PER_FILE,
        **SMALL,
    )
    assert is_previous_export(exported) and not _leftovers(exported)


def test_failed_export_leaves_the_previous_one_intact(
    exported: Path, cache_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(exported)

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(hub_layout, "render_readme", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        export_hub_layout(exported, configs="1k", cache_dir=cache_dir, **SMALL)
    assert _snapshot(exported) == before
    assert not _leftovers(exported)


def test_unrelated_folder_is_refused_and_untouched(tmp_path: Path, cache_dir: str) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(UserInputError, match="not a previous export"):
        export_hub_layout(target, configs="1k", cache_dir=cache_dir, **SMALL)
    assert _snapshot(target) == {"notes.txt": b"keep me"}
    assert not _leftovers(target)


def test_overwrite_replaces_an_unrelated_folder(tmp_path: Path, cache_dir: str) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("old")
    export_hub_layout(target, configs="1k", cache_dir=cache_dir, overwrite=True, **SMALL)
    assert sorted(p.name for p in target.iterdir()) == ["1k", "README.md"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"configs": ["1k", "2k"]}, "valid configs: 1k, 10k, complex"),
        ({"configs": []}, "no config"),
        ({"num_train": 0}, "num_train must be a positive integer"),
        ({"num_test_unseen": -1}, "num_test_unseen must be a positive integer"),
        ({"max_rows_per_shard": 0}, "max_rows_per_shard must be a positive integer"),
        ({"num_proc": 0}, "num_proc must be a positive integer"),
        ({"num_trian": 5}, "unknown option"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(
    tmp_path: Path, cache_dir: str, kwargs: dict[str, Any], message: str
) -> None:
    target = tmp_path / "out"
    with pytest.raises(UserInputError, match=message):
        export_hub_layout(target, cache_dir=cache_dir, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_a_file_is_not_an_output_folder(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("x")
    with pytest.raises(UserInputError, match="not a folder"):
        export_hub_layout(target, configs="1k", overwrite=True)


def test_the_current_folder_is_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "work.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserInputError, match="refusing to replace"):
        export_hub_layout(".", configs="1k", overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["work.txt"]


def test_size_categories() -> None:
    assert [size_category(n) for n in (999, 1_000, 13_000, 1_000_000)] == [
        "n<1K",
        "1K<n<10K",
        "10K<n<100K",
        "1M<n<10M",
    ]
