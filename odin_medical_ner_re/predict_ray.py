"""``predict --engine ray``: the shards of :mod:`.predict_shards` on Ray actors, one model per actor.

An actor loads the model once and then takes shard after shard (Ray's ``ActorPool``), which is
what a worker process does locally; the shard function, its temporary + rename and the
manifest kept by the driver are the same, so resuming works the same. On a cluster the model,
the inputs and the output folder must be on storage every node sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .engines import connect_ray
from .predict_shards import Shard, ShardResult, predict_shard


class PredictActor:
    """Holds one loaded model; ``run`` predicts one shard into the output folder."""

    def __init__(self, model: str, threads: int) -> None:
        import torch

        from .inference import load_model

        torch.set_num_threads(threads)
        self.model, self.tokenizer = load_model(model)

    def run(self, shard: Shard, folder: str, batch_size: int) -> ShardResult:
        return predict_shard(self.model, self.tokenizer, shard, folder, batch_size=batch_size)


def ray_predict_runner(address: str | None) -> Callable[..., Iterator[ShardResult]]:
    """A runner for :func:`~.predict_shards.predict_corpus` that connects to Ray when it starts."""
    ray = connect_ray(address)  # before any shard is planned: a dead address fails at once

    def run(
        model: str,
        todo: Sequence[Shard],
        folder: Path,
        *,
        batch_size: int,
        num_workers: int,
        threads: int | None,
        progress: Callable[[int], Any],
    ) -> Iterator[ShardResult]:
        if not todo:
            return
        from ray.util import ActorPool

        per_actor = threads or 1
        # an actor the cluster has no CPUs for would never start, and its shards would wait forever
        room = max(1, int(ray.cluster_resources().get("CPU", 1)) // per_actor)
        actor = ray.remote(num_cpus=per_actor)(PredictActor)
        actors = [actor.remote(model, per_actor) for _ in range(min(num_workers, len(todo), room))]
        pool = ActorPool(actors)
        jobs = pool.map_unordered(lambda a, shard: a.run.remote(shard, str(folder), batch_size), list(todo))
        for result in jobs:
            progress(result.documents)
            yield result

    return run
