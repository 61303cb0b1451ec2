"""The Hub layout built by Ray tasks, one task per shard, file for file what the local build writes.

Each task rebuilds the config from its name and options, generates one shard of the plan
(:mod:`.shard_plan`: its own random stream seeded from (config, split, seed, shard)) and
writes it as parquet through the same ``datasets`` writer the local export uses, so shard
*i* of a Ray run is byte for byte shard *i* of ``odin-ner-re build --num-shards N``. A task
that fails or whose worker dies is re-run by Ray and writes the same bytes (it depends on
nothing else); its file appears whole, by rename. Tasks return their shard's statistics, so
the dataset card is written without reading the rows back.

Tasks write into a hidden staging folder beside the output, which on a real cluster must be
on storage every node sees (NFS, a shared volume); the folder is swapped into place at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import datasets

from .builder import OdinNerRe, make_builder
from .cards import render_readme
from .engines import adopt_environment, connect_ray, task_environment
from .errors import UserInputError
from .files import check_output_parent, swap_into_place, temporary_path
from .hub_layout import (
    SplitScan,
    _builders,
    _check_target,
    _progress_bars_off,
    scan_split,
    stats_document,
    stats_from_scans,
)
from .knowledge import load_knowledge_base

#: How often Ray re-runs a task whose worker died or that raised (its rows are the same each time).
MAX_RETRIES = 3
_DATA_FILE = re.compile(r"^(?P<split>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.parquet$")


def shard_file_name(split: str, index: int, count: int) -> str:
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def planned_files(builders: Iterable[OdinNerRe]) -> dict[tuple[str, str], int]:
    """Files per (config, split) that a build with these builders' shard plans writes."""
    return {
        (builder.config.name, split): len(shards)
        for builder in builders
        for split, shards in builder.config.shard_plan().items()
    }


def found_files(folder: Path) -> dict[tuple[str, str], int]:
    """Files per (config, split) of a previous export in ``folder`` (from the ``-of-`` in their names)."""
    found: dict[tuple[str, str], int] = {}
    if not folder.is_dir():
        return found
    for path in folder.glob("*/*.parquet"):
        match = _DATA_FILE.match(path.name)
        if match:
            found[(path.parent.name, match["split"])] = int(match["count"])
    return found


def refuse_other_plan(folder: Path, builders: Iterable[OdinNerRe], overwrite: bool) -> None:
    """An output folder holding a build cut into other shards is replaced only with ``overwrite``.

    Its files would be mixed up with ours by anyone who copies one folder over the other, and a
    rerun with another ``--num-shards`` is more often a typo than a wish to throw the build away.
    """
    found = found_files(folder)
    if overwrite or not found:
        return
    planned = planned_files(builders)
    for key in sorted(set(found) | set(planned)):
        if found.get(key) != planned.get(key):
            config, split = key
            have = f"{found[key]} file(s)" if key in found else "no files"
            want = f"{planned[key]}" if key in planned else "none"
            raise UserInputError(
                f"output folder {folder} holds a build with another shard plan ({config}/{split}: {have}, "
                f"this build writes {want}); pass --overwrite to replace it or choose another folder"
            )


def write_shard(
    config_name: str,
    options: dict[str, Any],
    shard: dict[str, Any],
    path: str,
    environment: dict[str, str | None],
) -> SplitScan:
    """One Ray task: generate shard ``shard`` of the config and write it to ``path``; return its scan."""
    adopt_environment(environment)
    with tempfile.TemporaryDirectory(prefix="odin-task-cache-") as cache:
        builder = make_builder(config_name, cache_dir=cache, **options)
        table = builder.shard_table(shard)
        dataset = datasets.Dataset(
            datasets.table.InMemoryTable(table), info=datasets.DatasetInfo(features=builder.info.features)
        )
        with _progress_bars_off(), temporary_path(path) as tmp:
            dataset.to_parquet(str(tmp))
        return scan_split(dataset)


def merge_scans(scans: list[SplitScan]) -> SplitScan:
    """A split's scan from its shards' scans, in shard order (counts add up, digests concatenate)."""
    first = scans[0].stats
    documents = sum(s.stats["documents"] for s in scans)
    chars = sum(s.chars for s in scans)
    merged = SplitScan(stats={}, chars=chars)
    for scan in scans:
        merged.text_digests += scan.text_digests
        merged.entity_texts |= scan.entity_texts
    merged.stats = {
        "documents": documents,
        **{key: sum(s.stats[key] for s in scans) for key in ("entities", "relations", "negated")},
        "mean_chars": chars / documents if documents else 0.0,
        "num_bytes": sum(s.stats["num_bytes"] for s in scans),
        **{
            key: {name: sum(s.stats[key][name] for s in scans) for name in first[key]}
            for key in ("entity_types", "relation_types")
        },
    }
    return merged


def export_hub_layout_ray(
    output_dir: str | os.PathLike[str],
    configs: Iterable[str] | str,
    *,
    num_shards: int,
    overwrite: bool = False,
    address: str | None = None,
    show_progress: bool = True,
    task: Callable[..., SplitScan] = write_shard,
    **overrides: Any,
) -> Path:
    """Build ``configs`` with ``num_shards`` shards per split on Ray and write the Hub layout; return it.

    Everything is checked before the cluster is contacted: names, options, the output folder
    (as the local export checks it) and the shard plan of a previous build in it. ``task`` is
    what each Ray task runs, :func:`write_shard` or a wrapper around it (instrumentation, or a
    test that kills a worker mid-shard).
    """
    target = Path(os.path.abspath(output_dir))
    options = {**overrides, "num_shards": num_shards}
    builders = _builders(configs, None, options)
    _check_target(target, overwrite)
    refuse_other_plan(target, builders, overwrite)
    check_output_parent(target)
    ray = connect_ray(address)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        scans = _run_tasks(ray, task, builders, options, staging, show_progress)
        kb = load_knowledge_base()
        stats = stats_document(
            {b.config.name: stats_from_scans(b.config, scans[b.config.name], kb) for b in builders},
            kb,
        )
        _remove_leftovers(staging)
        for name, config_stats in stats["configs"].items():
            for split, figures in config_stats["splits"].items():
                figures["files"] = sorted(
                    p.relative_to(staging).as_posix() for p in (staging / name).glob(f"{split}-*.parquet")
                )
            config_stats["download_size"] = sum(f.stat().st_size for f in (staging / name).iterdir())
        (staging / "README.md").write_text(render_readme(stats), encoding="utf-8")
        swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _run_tasks(
    ray: Any,
    function: Callable[..., SplitScan],
    builders: list[OdinNerRe],
    options: dict[str, Any],
    staging: Path,
    show_progress: bool,
) -> dict[str, dict[str, SplitScan]]:
    """Submit one task per shard, wait for all (progress per finished shard), merge their scans."""
    from tqdm.auto import tqdm

    task = ray.remote(max_retries=MAX_RETRIES, retry_exceptions=False)(function)
    environment = task_environment()
    where: dict[Any, tuple[str, str, int]] = {}
    for builder in builders:
        name = builder.config.name
        (staging / name).mkdir()
        for split, shards in builder.config.shard_plan().items():
            for shard in shards:
                path = staging / name / shard_file_name(split, shard["shard"], len(shards))
                where[task.remote(name, options, shard, str(path), environment)] = (
                    name,
                    split,
                    shard["shard"],
                )
    results: dict[tuple[str, str, int], SplitScan] = {}
    pending = list(where)
    with tqdm(total=len(pending), unit="shard", desc="build (ray)", disable=not show_progress) as bar:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                results[where[ref]] = _task_result(ray, ref)
                bar.update(1)
    scans: dict[str, dict[str, SplitScan]] = {}
    for builder in builders:
        name = builder.config.name
        scans[name] = {
            split: merge_scans([results[(name, split, shard["shard"])] for shard in shards])
            for split, shards in builder.config.shard_plan().items()
        }
    return scans


def _task_result(ray: Any, ref: Any) -> SplitScan:
    """A task's scan; a user error raised inside the task comes out as that one line."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, UserInputError):
            raise UserInputError(str(cause)) from None
        raise


def _remove_leftovers(staging: Path) -> None:
    """Hidden temporaries of task attempts whose worker died mid-write (the retry wrote the file)."""
    for leftover in staging.glob("*/.*"):
        leftover.unlink(missing_ok=True)
