"""Write the dataset as a Hugging Face Hub repository layout: parquet shards plus ``README.md``.

``datasets`` >= 4 runs no loading scripts, so ``datasets.load_dataset(repo_or_folder, "10k")``
only works on data files described by the README's YAML ``configs:``. The layout is::

    output_dir/README.md                                  card + YAML (configs, dataset_info)
    output_dir/<config>/<split>-0000N-of-0000M.parquet    rows exactly as the builder makes them

``Dataset.to_parquet`` stores the ``datasets`` features in the parquet schema metadata and the
README repeats them in ``dataset_info``, so the loaded splits keep their ``ClassLabel`` columns.
The folder is written in a hidden sibling and renamed into place at the end: an interrupted or
failed export leaves the previous folder (or nothing) behind, never a half-written one.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import yaml

from . import __version__
from .builder import SPLITS, OdinNerRe, OdinNerReConfig, config_names, is_held_out, make_builder
from .cards import render_readme
from .errors import UserInputError
from .files import check_output_parent, swap_into_place
from .knowledge import DATA_DIR, KnowledgeBase, load_knowledge_base
from .shard_plan import describe as describe_plan

DEFAULT_CONFIGS: tuple[str, ...] = tuple(config_names())
#: Rows per parquet file. At ~0.4 kB (simple) to ~1 kB (complex) of parquet per note this keeps
#: files between ~40 and ~100 MB: small enough for the Hub viewer, few enough for 1M rows.
DEFAULT_MAX_ROWS_PER_SHARD = 100_000
#: Files a previous export may hold at its top level besides its config folders.
_EXPORT_FILES = frozenset({"README.md", ".gitattributes"})
_SCAN_BATCH = 10_000


def export_hub_layout(
    output_dir: str | os.PathLike[str],
    configs: Iterable[str] | str = DEFAULT_CONFIGS,
    *,
    overwrite: bool = False,
    num_proc: int | None = None,
    cache_dir: str | None = None,
    max_rows_per_shard: int = DEFAULT_MAX_ROWS_PER_SHARD,
    quality: dict[str, Any] | None = None,
    **overrides: Any,
) -> Path:
    """Build ``configs`` and write their Hub layout to ``output_dir``; return the folder.

    ``overrides`` (sizes, ``seed``, ...) apply to every config, as in :func:`~.builder.load_dataset`.
    Builds go through the ``datasets`` cache (``cache_dir``), so exporting a config that was
    already prepared with the same options costs only the parquet conversion.

    An existing ``output_dir`` is replaced only when it is empty, a previous export (just
    ``README.md`` and config folders of parquet files) or ``overwrite`` is true, in which case
    everything in it is deleted. All arguments are checked before anything is built.
    """
    target = Path(os.path.abspath(output_dir))  # so "." has a real name and parent
    builders = _builders(configs, cache_dir, overrides)
    _check_positive("max_rows_per_shard", max_rows_per_shard)
    if num_proc is not None:
        _check_positive("num_proc", num_proc)
    _check_target(target, overwrite)
    check_output_parent(target)  # writable, with room: before the (long) build, not after it
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        built = {}
        for builder in builders:
            builder.download_and_prepare(num_proc=num_proc)
            built[builder.config.name] = (builder.config, builder.as_dataset())
        write_layout(staging, built, max_rows_per_shard=max_rows_per_shard, quality=quality)
        swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def write_layout(
    folder: Path,
    built: Mapping[str, tuple[OdinNerReConfig, datasets.DatasetDict]],
    *,
    max_rows_per_shard: int = DEFAULT_MAX_ROWS_PER_SHARD,
    quality: dict[str, Any] | None = None,
    repo_id: str | None = None,
) -> dict[str, Any]:
    """Write parquet shards and ``README.md`` into an existing empty ``folder``; return the stats.

    This is the unguarded core of :func:`export_hub_layout` (no staging, no checks), for
    callers such as ``hub/push.py`` that already hold the built ``DatasetDict``s.
    """
    stats = collect_stats(built)
    for name, (config, dataset_dict) in built.items():
        plan = config.shard_plan() if config.num_shards is not None else {}
        for split, dataset in dataset_dict.items():
            num_files = len(plan[split]) if split in plan else None
            files = write_split(dataset, folder, name, split, max_rows_per_shard, num_files)
            stats["configs"][name]["splits"][split]["files"] = [
                f.relative_to(folder).as_posix() for f in files
            ]
        stats["configs"][name]["download_size"] = sum(f.stat().st_size for f in (folder / name).iterdir())
    (folder / "README.md").write_text(
        render_readme(stats, quality=quality, repo_id=repo_id), encoding="utf-8"
    )
    return stats


def write_split(
    dataset: datasets.Dataset,
    folder: Path,
    config: str,
    split: str,
    max_rows: int,
    num_shards: int | None = None,
) -> list[Path]:
    """``<config>/<split>-0000N-of-0000M.parquet`` files of at most ``max_rows`` rows each.

    With ``num_shards`` (a config's shard plan) file *i* holds generator shard *i* instead.
    """
    num_shards = num_shards or max(1, -(-len(dataset) // max_rows))
    (folder / config).mkdir(parents=True, exist_ok=True)
    paths = []
    with _progress_bars_off():
        for index in range(num_shards):
            path = folder / config / f"{split}-{index:05d}-of-{num_shards:05d}.parquet"
            dataset.shard(num_shards=num_shards, index=index, contiguous=True).to_parquet(str(path))
            paths.append(path)
    return paths


# --------------------------------------------------------------------------- statistics


@dataclass
class SplitScan:
    """What one pass over a split learns: card figures, text digests and entity texts."""

    stats: dict[str, Any]
    text_digests: list[bytes] = field(default_factory=list)
    entity_texts: set[str] = field(default_factory=set)
    #: Characters of all texts: shards' scans add up to the split's exact ``mean_chars``.
    chars: int = 0


def scan_split(dataset: datasets.Dataset) -> SplitScan:
    """Counts per type, negations, lengths, digests of texts and casefolded entity texts.

    Works on Arrow batches (no per-row Python dicts), so scanning a million notes takes
    seconds; texts are kept only as 16-byte digests to bound memory.
    """
    entity_names = dataset.features["entities"].feature["type"].names
    relation_names = dataset.features["relations"].feature["type"].names
    entity_counts: Counter[str] = Counter()
    relation_counts: Counter[str] = Counter()
    scan = SplitScan(stats={})
    negated = chars = 0
    for batch in dataset.with_format("arrow").iter(batch_size=_SCAN_BATCH):
        entities = batch["entities"].combine_chunks().flatten()
        relations = batch["relations"].combine_chunks().flatten()
        entity_counts.update(_label_counts(entities.field("type"), entity_names))
        relation_counts.update(_label_counts(relations.field("type"), relation_names))
        negated += entities.field("negated").to_pylist().count(True)
        texts = batch["text"].to_pylist()
        chars += sum(map(len, texts))
        scan.text_digests += [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts]
        scan.entity_texts.update(t.casefold() for t in entities.field("text").unique().to_pylist())
    documents = len(dataset)
    scan.chars = chars
    scan.stats = {
        "documents": documents,
        "entities": sum(entity_counts.values()),
        "relations": sum(relation_counts.values()),
        "negated": negated,
        "mean_chars": chars / documents if documents else 0.0,
        "num_bytes": dataset.data.nbytes,
        "entity_types": {name: entity_counts[name] for name in entity_names},
        "relation_types": {name: relation_counts[name] for name in relation_names},
    }
    return scan


def _label_counts(labels: pa.Array, names: list[str]) -> Counter[str]:
    counts = labels.value_counts().to_pylist()
    return Counter({names[item["values"]]: item["counts"] for item in counts if item["values"] is not None})


def collect_stats(built: Mapping[str, tuple[OdinNerReConfig, datasets.DatasetDict]]) -> dict[str, Any]:
    """The ``stats`` dict of :mod:`.cards` for built configs (file lists are added on writing)."""
    kb = load_knowledge_base()
    return stats_document(
        {name: config_stats(config, dataset_dict, kb) for name, (config, dataset_dict) in built.items()}, kb
    )


def stats_document(configs: dict[str, dict[str, Any]], kb: KnowledgeBase) -> dict[str, Any]:
    """Per-config figures wrapped with the version, default config and knowledge-base provenance."""
    default = (
        OdinNerRe.DEFAULT_CONFIG_NAME if OdinNerRe.DEFAULT_CONFIG_NAME in configs else next(iter(configs))
    )
    return {
        "version": __version__,
        "year": datetime.date.today().year,
        "default_config": default,
        "knowledge_base": knowledge_base_provenance(kb),
        "configs": configs,
    }


def config_stats(
    config: OdinNerReConfig, dataset_dict: datasets.DatasetDict, kb: KnowledgeBase
) -> dict[str, Any]:
    """Per-split figures plus the held-out share and the train/test leakage of one config."""
    order = [s for s in SPLITS if s in dataset_dict] + [s for s in dataset_dict if s not in SPLITS]
    return stats_from_scans(config, {split: scan_split(dataset_dict[split]) for split in order}, kb)


def stats_from_scans(
    config: OdinNerReConfig, scans: Mapping[str, SplitScan], kb: KnowledgeBase
) -> dict[str, Any]:
    """:func:`config_stats` from split scans already made (a distributed build merges its shards' scans)."""
    stats: dict[str, Any] = {
        "description": _description(config),
        "complexity": config.complexity if config.style == "clinical" else config.style,
        "seed": config.seed,
        "unseen_share": config.unseen_share,
        "download_size": 0,
        "splits": {split: scan.stats for split, scan in scans.items()},
    }
    if "train" in scans:
        train = scans["train"]
        digests = set(train.text_digests)
        stats["leakage"] = {
            split: sum(d in digests for d in scan.text_digests)
            for split, scan in scans.items()
            if split != "train"
        }
        stats["held_out"] = held_out_stats(config, kb, train.entity_texts, scans.get("test_unseen"))
    if config.num_shards is not None:
        stats["shard_plan"] = describe_plan(config.shard_plan(), config.num_shards, config.shard_size)
    return stats


def _description(config: OdinNerReConfig) -> str:
    """The registered description, unless sizes were overridden and it would state wrong sizes."""
    registered = next((c for c in OdinNerRe.BUILDER_CONFIGS if c.name == config.name), None)
    if registered is not None and all(config.size(s) == registered.size(s) for s in SPLITS):
        return registered.description or ""
    sizes = ", ".join(f"{s} {config.size(s):,}" for s in SPLITS)
    kind = f"{config.complexity} notes" if config.style == "clinical" else f"{config.style}-style abstracts"
    return f"{kind}; sizes set at build time ({sizes})."


def held_out_stats(
    config: OdinNerReConfig, kb: KnowledgeBase, train_texts: set[str], unseen: SplitScan | None
) -> dict[str, Any]:
    """Share of the knowledge base's distinct (casefolded) surface forms held out for ``test_unseen``,
    and how many ``test_unseen`` entity texts also occur as ``train`` entity texts (must be 0)."""
    forms = {form.casefold() for concept in kb.concepts.values() for form in concept.surface_forms}
    held = sum(is_held_out(form, config.seed, config.unseen_share) for form in forms)
    unseen_texts = unseen.entity_texts if unseen else set()
    return {
        "surface_forms": len(forms),
        "held_out": held,
        "share": held / len(forms) if forms else 0.0,
        "test_unseen_texts": len(unseen_texts),
        "test_unseen_texts_in_train": len(unseen_texts & train_texts),
    }


def knowledge_base_provenance(kb: KnowledgeBase) -> dict[str, Any]:
    """The ``source:`` statements and sizes of the knowledge base the generator uses."""
    directory = Path(os.environ.get("ODIN_KNOWLEDGE_DIR") or DATA_DIR)
    files = sorted(directory.glob("*.yaml"))
    sources: list[str] = []
    for path in files:
        match = re.search(r"^source:(.*)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
        source = str(yaml.safe_load(match.group(1)) or "").strip() if match else ""
        if source and source not in sources:
            sources.append(source)
    return {"sources": sources, "files": [p.name for p in files], "counts": kb.counts()}


# --------------------------------------------------------------------------- checks and safety


def _builders(
    configs: Iterable[str] | str, cache_dir: str | None, overrides: dict[str, Any]
) -> list[OdinNerRe]:
    """One builder per distinct config name; building them validates names and overrides."""
    names = [configs] if isinstance(configs, str) else list(dict.fromkeys(configs))
    if not names:
        raise UserInputError(f"no config to export; valid configs: {', '.join(config_names())}")
    unknown = [name for name in names if name not in config_names()]
    if unknown:
        raise UserInputError(
            f"unknown config(s) {', '.join(map(repr, unknown))}; valid configs: {', '.join(config_names())}"
        )
    return [checked_builder(name, cache_dir=cache_dir, **overrides) for name in names]


def checked_builder(config_name: str, cache_dir: str | None = None, **overrides: Any) -> OdinNerRe:
    """Kept for callers of the earlier name: :func:`~.builder.make_builder` validates overrides itself."""
    return make_builder(config_name, cache_dir=cache_dir, **overrides)


def _check_positive(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UserInputError(f"{name} must be a positive integer, got {value!r}")


def is_previous_export(folder: Path) -> bool:
    """Whether ``folder`` holds only what an export writes (so replacing it loses nothing)."""
    for entry in folder.iterdir():
        if entry.is_file() and entry.name in _EXPORT_FILES:
            continue
        if (
            entry.is_dir()
            and entry.name in config_names()
            and all(f.is_file() and f.suffix == ".parquet" for f in entry.iterdir())
        ):
            continue
        return False
    return True


def _check_target(target: Path, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise UserInputError(f"output {target} exists and is not a folder")
    if _is_precious(target):
        raise UserInputError(
            f"refusing to replace {target}: it is the root, your home or the current folder (or holds it)"
        )
    if target.is_dir() and any(target.iterdir()) and not overwrite and not is_previous_export(target):
        found = ", ".join(sorted(p.name for p in target.iterdir())[:5])
        raise UserInputError(
            f"output folder {target} is not empty and is not a previous export (it holds {found}); "
            "choose another folder or pass --overwrite (overwrite=True) to replace it and everything in it"
        )
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise UserInputError(f"cannot write to {parent}")


def _is_precious(target: Path) -> bool:
    """Folders that replacing would be a disaster, whatever ``overwrite`` says."""
    cwd, home = Path.cwd(), Path.home()
    return target == Path(target.anchor) or target in (home, *home.parents) or target in (cwd, *cwd.parents)


@contextlib.contextmanager
def _progress_bars_off() -> Iterator[None]:
    """Silence ``to_parquet``'s per-file progress bars (one per shard is noise), then restore."""
    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()
