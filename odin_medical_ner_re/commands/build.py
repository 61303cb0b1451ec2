"""``odin-ner-re build``: prepare a dataset config, or write it as a Hub repository layout.

Without ``--output-dir`` the config is generated into the ``datasets`` cache (where
``odin_medical_ner_re.load_dataset`` finds it again) and its split sizes and per-type
counts are printed, so a user sees what they built before training on it. With
``--output-dir`` the Hub layout (parquet per config and split + README card) is written
and its file tree printed; ``datasets.load_dataset(DIR, CONFIG)`` then reads it.

Examples::

    odin-ner-re build --config 10k --num-proc 2
    odin-ner-re build --config 1k 10k complex --output-dir hub_export
    odin-ner-re build --config 1k --num-train 1000000 --num-proc 8
    odin-ner-re build --config 10k --num-shards 8 --output-dir hub_export            # local, one file per shard
    odin-ner-re build --config 10k --engine ray --num-shards 8 --output-dir hub_export
    odin-ner-re build --config 10k --engine ray --address head:6379 --num-shards 64 --output-dir /shared/hub

``--num-shards N`` cuts every split into N shards, each generated from its own seed and written
as one parquet file; the local build and the Ray engine then write the same files, byte for byte.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..builder import SPLITS, OdinNerRe
from ..distributed_build import refuse_other_plan
from ..engines import ENGINES
from ..errors import UserInputError
from ..files import file_tree, human_bytes
from ..hub_layout import DEFAULT_MAX_ROWS_PER_SHARD, checked_builder, export_hub_layout, scan_split

_SIZE_OPTIONS: tuple[str, ...] = tuple(f"num_{split}" for split in SPLITS)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "build",
        help="build a dataset config (into the datasets cache, or as a Hub layout with --output-dir)",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "--config",
        nargs="+",
        default=[OdinNerRe.DEFAULT_CONFIG_NAME],
        metavar="NAME",
        help=f"config name(s): 1k, 10k, complex, literature (default: {OdinNerRe.DEFAULT_CONFIG_NAME}, as load_dataset)",
    )
    parser.add_argument(
        "--output-dir", type=Path, help="write the Hub layout (parquet + README.md) to this folder"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --output-dir even if it holds other files (they are deleted)",
    )
    parser.add_argument("--num-proc", type=int, help="processes that generate shards in parallel")
    parser.add_argument("--cache-dir", help="datasets cache folder (default: the datasets default cache)")
    parser.add_argument("--max-rows-per-shard", type=int, help="rows per parquet file with --output-dir")
    for option in _SIZE_OPTIONS:
        parser.add_argument(
            f"--{option.replace('_', '-')}",
            type=int,
            dest=option,
            metavar="N",
            help=f"override the number of {option[4:]} notes",
        )
    parser.add_argument("--seed", type=int, help="override the seed (default 42)")
    parser.add_argument(
        "--num-shards",
        type=int,
        metavar="N",
        help="shards per split, one parquet file each (the shard plan; needed with --engine ray)",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local processes (--num-proc) or Ray tasks, one per shard (needs the [ray] extra)",
    )
    parser.add_argument("--address", help="Ray cluster address HOST:PORT (default: start a local Ray)")
    parser.set_defaults(func=run)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Only the options the user gave, so config defaults stay in one place (the builder)."""
    names = (*_SIZE_OPTIONS, "seed", "num_shards")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


#: Notes per split at most: ~1 kB each in the datasets cache (plus the parquet copy with
#: --output-dir), so 100 million is already ~100 GB and hours of generation.
MAX_SPLIT_NOTES = 100_000_000


def run(args: argparse.Namespace) -> int:
    overrides = _overrides(args)
    for option in _SIZE_OPTIONS:
        size = overrides.get(option)
        if size is not None and size > MAX_SPLIT_NOTES:
            raise UserInputError(
                f"--{option.replace('_', '-')} must be at most {MAX_SPLIT_NOTES:,}, got {size:,}: at about 1 kB "
                f"per note that is {human_bytes(size * 1000)} of cache and hours of generation or more"
            )
    if args.num_proc is not None and args.num_proc < 1:
        raise UserInputError(f"--num-proc must be a positive integer, got {args.num_proc}")
    if args.num_shards is not None and args.num_shards < 1:
        raise UserInputError(f"--num-shards must be a positive integer, got {args.num_shards}")
    if args.engine == "ray":
        return _export_ray(args, overrides)
    if args.address:
        raise UserInputError("--address only applies with --engine ray")
    if args.output_dir is not None:
        return _export(args, overrides)
    if args.max_rows_per_shard is not None:
        print("note: --max-rows-per-shard only applies with --output-dir")
    builders = [
        checked_builder(name, cache_dir=args.cache_dir, **overrides) for name in dict.fromkeys(args.config)
    ]
    for builder in builders:  # all names and options are checked before the first (long) build
        _prepare_and_describe(builder, args.num_proc)
    return 0


def _prepare_and_describe(builder: OdinNerRe, num_proc: int | None) -> None:
    builder.download_and_prepare(num_proc=num_proc)
    dataset_dict = builder.as_dataset()
    print(
        f"config {builder.config.name} (seed {builder.config.seed}, {builder.config.complexity}) in {builder.cache_dir}"
    )
    print(format_counts({split: scan_split(dataset).stats for split, dataset in dataset_dict.items()}))


def format_counts(split_stats: dict[str, dict[str, Any]]) -> str:
    """A plain-text table: documents, entities per type, negated mentions, relations per type."""
    first = next(iter(split_stats.values()))
    columns = ["documents", *first["entity_types"], "negated", *first["relation_types"]]
    rows = [
        [split, *(f"{_figure(figures, column):,}" for column in columns)]
        for split, figures in split_stats.items()
    ]
    table = [["split", *columns], *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(
            [row[0].ljust(widths[0]), *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True))]
        )
        for row in table
    )


def _figure(figures: dict[str, Any], column: str) -> int:
    for key in ("entity_types", "relation_types"):
        if column in figures[key]:
            return int(figures[key][column])
    return int(figures[column])


def _export(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    if args.num_shards is not None:
        builders = [checked_builder(name, **overrides) for name in dict.fromkeys(args.config)]
        refuse_other_plan(Path(args.output_dir).absolute(), builders, args.overwrite)
    folder = export_hub_layout(
        args.output_dir,
        args.config,
        overwrite=args.overwrite,
        num_proc=args.num_proc,
        cache_dir=args.cache_dir,
        max_rows_per_shard=DEFAULT_MAX_ROWS_PER_SHARD
        if args.max_rows_per_shard is None
        else args.max_rows_per_shard,
        **overrides,
    )
    print(file_tree(folder))
    return 0


def _export_ray(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    """The same layout from Ray tasks, one per shard (see :mod:`..distributed_build`)."""
    if args.output_dir is None:
        raise UserInputError("--engine ray writes a Hub layout: give --output-dir")
    if args.num_shards is None:
        raise UserInputError("--engine ray needs --num-shards N (the shard plan, one task per shard)")
    for option in ("num_proc", "cache_dir", "max_rows_per_shard"):
        if getattr(args, option) is not None:
            raise UserInputError(f"--{option.replace('_', '-')} does not apply with --engine ray")
    from ..distributed_build import export_hub_layout_ray

    rest = {key: value for key, value in overrides.items() if key != "num_shards"}
    folder = export_hub_layout_ray(
        args.output_dir,
        args.config,
        num_shards=args.num_shards,
        overwrite=args.overwrite,
        address=args.address,
        **rest,
    )
    print(file_tree(folder))
    return 0
