"""Check that two versions of the builder make the same rows (a before/after check, not a test).

Each ``write`` run builds configs with whichever ``odin_medical_ner_re`` is importable and
writes every split as parquet with ``Dataset.to_parquet`` (as the Hub export does); ``compare``
then reads two such folders and checks that every split holds equal tables (same schema, same
values, same order) and says whether the parquet files are byte-identical too::

    # before: the installed main checkout (PYTHONPATH unset); after: this working copy
    (cd /tmp && python /path/to/perf/same_rows.py write /tmp/rows-main --num-proc 1)
    PYTHONPATH=$PWD python perf/same_rows.py write /tmp/rows-new --num-proc 2
    python perf/same_rows.py compare /tmp/rows-main /tmp/rows-new

Sizes are small by default (``--num-train 2500 --num-eval 300 --shard-size 1000``: several shards
per split, so ``num_proc`` really splits the work); any config name the builder registers can
be given.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

DEFAULT_CONFIGS = ("1k", "10k", "complex")


def write(
    folder: Path, configs: list[str], num_proc: int, num_train: int, num_eval: int, shard_size: int
) -> None:
    import datasets

    from odin_medical_ner_re.builder import load_dataset

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    sizes = {"num_train": num_train, "shard_size": shard_size}
    sizes.update({f"num_{split}": num_eval for split in ("validation", "test", "test_unseen")})
    with tempfile.TemporaryDirectory(prefix="same-rows-") as cache:
        for config in configs:
            built = load_dataset(config, cache_dir=cache, num_proc=num_proc, **sizes)
            for split, dataset in built.items():
                path = folder / config / f"{split}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                dataset.to_parquet(str(path))
                print(f"{config}/{split}: {len(dataset):,} rows -> {path}")


def compare(before: Path, after: Path) -> int:
    files = sorted(p.relative_to(before) for p in before.rglob("*.parquet"))
    others = sorted(p.relative_to(after) for p in after.rglob("*.parquet"))
    if files != others:
        print(f"different files: {[str(p) for p in files]} vs {[str(p) for p in others]}")
        return 1
    failures = 0
    for name in files:
        old, new = pq.read_table(before / name), pq.read_table(after / name)
        same_table = old.schema.equals(new.schema, check_metadata=True) and old.equals(new)
        same_bytes = (before / name).read_bytes() == (after / name).read_bytes()
        failures += not same_table
        print(
            f"{name}: {old.num_rows:,} rows, tables {'equal' if same_table else 'DIFFERENT'}, "
            f"files {'byte-identical' if same_bytes else 'differ in bytes'}"
        )
    print("same rows" if not failures else f"{failures} split(s) differ")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    writing = commands.add_parser("write", help="build configs and write their splits as parquet")
    writing.add_argument("folder", type=Path)
    writing.add_argument("--config", action="append", dest="configs", help="default: 1k, 10k, complex")
    writing.add_argument("--num-proc", type=int, default=1)
    writing.add_argument("--num-train", type=int, default=2_500)
    writing.add_argument("--num-eval", type=int, default=300)
    writing.add_argument("--shard-size", type=int, default=1_000)
    comparing = commands.add_parser("compare", help="compare two folders written by 'write'")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "write":
        write(
            args.folder,
            args.configs or list(DEFAULT_CONFIGS),
            args.num_proc,
            args.num_train,
            args.num_eval,
            args.shard_size,
        )
    else:
        sys.exit(compare(args.before, args.after))


if __name__ == "__main__":
    main()
