"""Which rows each shard of a split holds: the one plan every engine follows.

A shard is the unit of generation (it draws from its own random stream, seeded from
(config, split, seed, shard)) and, with ``num_shards``, also the unit of output (one parquet
file). Whoever runs shard *i* — a ``datasets`` process of the local build or a Ray task —
therefore writes exactly the same rows. Without ``num_shards`` a split is cut into
``shard_size`` rows per shard (the builder's historical plan); with it, into
``min(num_shards, rows)`` shards whose sizes differ by one at most, the larger first: the
rule of ``datasets.Dataset.shard(contiguous=True)``, so the Hub export's file *i* is
generator shard *i*.
"""

from __future__ import annotations

from typing import Any


def split_shards(
    split: str, total: int, shard_size: int, num_shards: int | None = None
) -> list[dict[str, Any]]:
    """``{"split", "shard", "start", "count"}`` for every shard of a split of ``total`` rows."""
    if num_shards is None:
        return [
            {"split": split, "shard": i, "start": start, "count": min(shard_size, total - start)}
            for i, start in enumerate(range(0, total, shard_size))
        ]
    count = min(num_shards, total)
    div, mod = divmod(total, count)
    return [
        {"split": split, "shard": i, "start": div * i + min(i, mod), "count": div + (1 if i < mod else 0)}
        for i in range(count)
    ]


def describe(
    plan: dict[str, list[dict[str, Any]]], num_shards: int | None, shard_size: int
) -> dict[str, Any]:
    """What the dataset card records: the rule and the rows of every shard per split."""
    return {
        "num_shards": num_shards,
        "shard_size": None if num_shards is not None else shard_size,
        "seeding": "stable_int(config, split, seed, shard)",
        "splits": {split: [shard["count"] for shard in shards] for split, shards in plan.items()},
    }
