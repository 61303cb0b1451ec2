"""The ``datasets`` builder: sizes, features, determinism, split hygiene and the BigBIO view.

Builds use small size overrides (the properties do not depend on size) and, unless the
caller set ``ODIN_KNOWLEDGE_DIR``, the small fixture knowledge base, so the module runs in
seconds. No assertion names a fixture concept: the same tests hold on the packaged base.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest

from odin_medical_ner_re.builder import (
    SPLITS,
    bigbio_kb_features,
    config_names,
    features,
    load_dataset,
    make_builder,
    to_bigbio_kb,
)
from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.tokenize import spans_from_bio, tokenize

#: Small sizes; shard_size=50 cuts train into 4 shards so num_proc=2 really splits the work.
SMALL: dict[str, int] = {
    "num_train": 200,
    "num_validation": 40,
    "num_test": 40,
    "num_test_unseen": 40,
    "shard_size": 50,
}
REGISTERED_SIZES = {
    "1k": (1_000, 200, 200, 200),
    "10k": (10_000, 1_000, 1_000, 1_000),
    "complex": (10_000, 1_000, 1_000, 1_000),
}


@pytest.fixture(scope="module")
def built(knowledge_dir: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, datasets.DatasetDict]:
    cache = str(tmp_path_factory.mktemp("cache"))
    return {name: load_dataset(name, cache_dir=cache, **SMALL) for name in config_names()}


def _rows(dataset_dict: datasets.DatasetDict) -> dict[str, list[dict[str, Any]]]:
    return {split: dataset_dict[split].to_list() for split in SPLITS}


def _entity_texts(dataset: datasets.Dataset) -> set[str]:
    return {e["text"].casefold() for entities in dataset["entities"] for e in entities}


def test_registered_configs_have_the_documented_sizes() -> None:
    for name, sizes in REGISTERED_SIZES.items():
        config = make_builder(name).config
        assert tuple(config.size(split) for split in SPLITS) == sizes
    assert make_builder("complex").config.complexity == "complex"


@pytest.mark.parametrize("name", config_names())
def test_sizes_and_features(built: dict[str, datasets.DatasetDict], name: str) -> None:
    dataset_dict = built[name]
    assert list(dataset_dict) == list(SPLITS)
    for split in SPLITS:
        assert dataset_dict[split].num_rows == SMALL[f"num_{split}"]
        assert dataset_dict[split].features == features()
    assert isinstance(dataset_dict["train"].features["entities"].feature["type"], datasets.ClassLabel)
    assert isinstance(dataset_dict["train"].features["ner_tags"].feature, datasets.ClassLabel)
    ids = [row_id for split in SPLITS for row_id in dataset_dict[split]["id"]]
    assert len(ids) == len(set(ids))


def test_complex_notes_are_longer_and_richer(built: dict[str, datasets.DatasetDict]) -> None:
    def mean(dataset: datasets.Dataset, column: str) -> float:
        return sum(map(len, dataset[column])) / dataset.num_rows

    simple, complex_ = built["1k"]["train"], built["complex"]["train"]
    for column in ("text", "entities", "relations"):
        assert mean(complex_, column) > 1.3 * mean(simple, column), column


def test_deterministic_across_runs_and_num_proc(
    built: dict[str, datasets.DatasetDict], tmp_path: Path
) -> None:
    """Fresh caches, so each build really regenerates; num_proc=2 spreads the 4 train shards."""
    again = load_dataset("1k", cache_dir=str(tmp_path / "one"), num_proc=1, **SMALL)
    parallel = load_dataset("1k", cache_dir=str(tmp_path / "two"), num_proc=2, **SMALL)
    reference = _rows(built["1k"])
    assert _rows(again) == reference
    assert _rows(parallel) == reference


def test_seed_changes_the_rows(built: dict[str, datasets.DatasetDict], tmp_path: Path) -> None:
    other = load_dataset("1k", cache_dir=str(tmp_path), seed=7, **SMALL)
    assert other["train"]["text"] != built["1k"]["train"]["text"]


@pytest.mark.parametrize("name", config_names())
def test_no_text_in_train_and_a_test_split(built: dict[str, datasets.DatasetDict], name: str) -> None:
    train = set(built[name]["train"]["text"])
    for split in ("test", "test_unseen"):
        assert not train & set(built[name][split]["text"]), split


@pytest.mark.parametrize("name", config_names())
def test_test_unseen_entities_never_occur_in_train(built: dict[str, datasets.DatasetDict], name: str) -> None:
    unseen = _entity_texts(built[name]["test_unseen"])
    assert unseen, "test_unseen has no entities"
    assert not unseen & _entity_texts(built[name]["train"])


@pytest.mark.parametrize("name", config_names())
def test_spans_and_bio_tags_agree_over_whole_splits(
    built: dict[str, datasets.DatasetDict], name: str
) -> None:
    for split in ("train", "test_unseen"):
        dataset = built[name][split]
        type_names = dataset.features["entities"].feature["type"].names
        tag_names = dataset.features["ner_tags"].feature.names
        for row in dataset:
            tokens = tokenize(row["text"])
            assert [t for t, _, _ in tokens] == row["tokens"], row["id"]
            tags = [tag_names[tag] for tag in row["ner_tags"]]
            spans = sorted((e["start"], e["end"], type_names[e["type"]]) for e in row["entities"])
            assert spans_from_bio(tokens, tags) == spans, row["id"]
            assert all(row["text"][e["start"] : e["end"]] == e["text"] for e in row["entities"]), row["id"]


def test_bigbio_kb_view(built: dict[str, datasets.DatasetDict]) -> None:
    source = built["1k"]["validation"]
    view = to_bigbio_kb(source)
    assert view.features == bigbio_kb_features()
    assert view.num_rows == source.num_rows
    for original, row in zip(source, view, strict=True):
        assert row["document_id"] == original["id"]
        assert row["passages"][0]["text"] == [original["text"]]
        entity_ids = {e["id"] for e in row["entities"]}
        assert len(row["entities"]) == len(original["entities"])
        for entity in row["entities"]:
            ((start, end),) = entity["offsets"]
            assert original["text"][start:end] == entity["text"][0]
        assert len(row["relations"]) == len(original["relations"])
        assert all(r["arg1_id"] in entity_ids and r["arg2_id"] in entity_ids for r in row["relations"])


def test_unknown_config_lists_the_valid_ones() -> None:
    with pytest.raises(UserInputError, match="1k, 10k, complex"):
        load_dataset("2k")


def test_unknown_option_is_refused() -> None:
    with pytest.raises(UserInputError, match="num_trian"):
        make_builder("1k", num_trian=10)


def test_unknown_style_is_refused() -> None:
    with pytest.raises(UserInputError, match="unknown style 'poetry'; valid: clinical, literature"):
        make_builder("1k", style="poetry")


@pytest.mark.parametrize("value", [0, -1])
def test_non_positive_size_is_refused_by_the_builder(value: int, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="num_train must be a positive integer"):
        make_builder("1k", cache_dir=str(tmp_path), num_train=value)


# --------------------------------------------------------------------------- load_dataset's arguments


def test_load_dataset_takes_split_and_streaming_like_datasets(knowledge_dir: str, tmp_path: Path) -> None:
    """``split=`` gives one ``Dataset`` (slices too); ``streaming=True`` yields the same rows, nothing cached."""
    tiny = {"num_train": 6, "num_validation": 3, "num_test": 3, "num_test_unseen": 3}
    cache = tmp_path / "cache"
    whole = load_dataset("1k", cache_dir=str(cache), **tiny)
    assert isinstance(whole, datasets.DatasetDict) and set(whole) == set(SPLITS)
    train = load_dataset("1k", split="train", cache_dir=str(cache), **tiny)
    assert isinstance(train, datasets.Dataset) and train.to_list() == whole["train"].to_list()
    assert load_dataset("1k", split="test[:2]", cache_dir=str(cache), **tiny).to_list() == whole["test"].to_list()[:2]
    stream_cache = tmp_path / "stream-cache"
    streamed = load_dataset("1k", split="validation", streaming=True, cache_dir=str(stream_cache), **tiny)
    assert isinstance(streamed, datasets.IterableDataset)
    assert list(streamed) == whole["validation"].to_list()
    assert streamed.features == whole["validation"].features
    every = load_dataset("1k", streaming=True, cache_dir=str(stream_cache), **tiny)
    assert isinstance(every, datasets.IterableDatasetDict) and set(every) == set(SPLITS)
    assert not list(stream_cache.glob("**/*.arrow"))  # generated on the fly


def test_load_dataset_names_an_unknown_split() -> None:
    with pytest.raises(UserInputError, match="unknown split 'dev'.*train, validation, test, test_unseen"):
        load_dataset("1k", split="dev")


def test_one_default_config_everywhere() -> None:
    """The builder, load_dataset, make_builder and ``odin-ner-re build`` all default to the same config."""
    import inspect

    from odin_medical_ner_re.builder import OdinNerRe
    from odin_medical_ner_re.cli import build_parser

    assert OdinNerRe.DEFAULT_CONFIG_NAME == "1k"
    for function in (load_dataset, make_builder):
        assert next(iter(inspect.signature(function).parameters.values())).default == "1k"
    assert build_parser().parse_args(["build"]).config == ["1k"]
