"""Distributed build and sharded predict on this machine, and what they promise for a cluster.

1. Build throughput of ``10k`` (13,000 notes) cut into ``--num-shards`` shards: the local
   builder (``num_proc=2``, fresh cache) against Ray tasks on a local 2-CPU Ray started in the
   same run (its start-up timed apart), notes per wall second each; the files are compared
   byte for byte.
2. ``predict`` notes/s per worker: the tiny default architecture (random weights unless
   ``--model``; the forced-word decoder does the same work per word whatever the weights) over
   ``1k`` test notes cut into shards, with one local worker, then two.
3. A paper estimate for 100M notes on 32 workers from the per-worker rates measured above
   (perfect scaling assumed: the shards are independent; storage and scheduling are not counted).

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 nice -n 10 python perf/bench_distributed.py
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

CORPUS_NOTES = 100_000_000
CLUSTER_WORKERS = 32


def build_figures(num_shards: int, folder: Path) -> dict[str, float]:
    import ray

    from odin_medical_ner_re.distributed_build import export_hub_layout_ray
    from odin_medical_ner_re.hub_layout import export_hub_layout

    notes = 13_000
    started = time.perf_counter()
    export_hub_layout(
        folder / "local", "10k", num_proc=2, cache_dir=str(folder / "cache"), num_shards=num_shards
    )
    local = time.perf_counter() - started
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - started
    started = time.perf_counter()
    export_hub_layout_ray(folder / "ray", "10k", num_shards=num_shards, show_progress=False)
    distributed = time.perf_counter() - started
    ray.shutdown()
    files = sorted((folder / "local" / "10k").glob("*.parquet"))
    same = all(f.read_bytes() == (folder / "ray" / "10k" / f.name).read_bytes() for f in files)
    print(f"build 10k ({notes:,} notes, {num_shards} shards per split, {len(files)} files):")
    print(f"  local, num_proc=2      {local:7.1f} s  {notes / local:8,.0f} notes/s")
    print(
        f"  ray, 2 CPUs            {distributed:7.1f} s  {notes / distributed:8,.0f} notes/s  (+ {ray_start:.1f} s ray.init)"
    )
    print(f"  ray / local: {local / distributed:.2f}x; files byte-identical: {same}")
    return {"local": notes / local, "ray": notes / distributed, "ray_per_worker": notes / distributed / 2}


def tiny_model(folder: Path, model: str | None) -> Path:
    if model:
        return Path(model)
    from odin_medical_ner_re.builder import load_dataset, row_to_document
    from odin_medical_ner_re.formats import build_completion, build_prompt, tag_vocabulary
    from odin_medical_ner_re.training.tiny import TinyModelSpec, build_tiny_model, train_tokenizer

    train = load_dataset("1k", split="train[:300]", cache_dir=str(folder / "cache"))
    docs = [row_to_document(row) for row in train]
    tokenizer = train_tokenizer(
        [build_prompt(d.text, with_text=False) + build_completion(d) for d in docs], 2048, tag_vocabulary()
    )
    path = folder / "model"
    build_tiny_model(tokenizer, TinyModelSpec()).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def predict_figures(model: Path, folder: Path, notes: int, shards: int, batch_size: int) -> dict[str, float]:
    from odin_medical_ner_re.builder import load_dataset, row_to_document
    from odin_medical_ner_re.predict_shards import predict_corpus
    from odin_medical_ner_re.schema import save_documents

    test = load_dataset("1k", split=f"test[:{notes}]", cache_dir=str(folder / "cache"))
    docs = [row_to_document(row) for row in test]
    inputs = []
    (folder / "notes").mkdir()
    for index in range(shards):
        inputs.append(save_documents(docs[index::shards], folder / "notes" / f"part-{index}.jsonl"))
    rates = {}
    for workers in (1, 2):
        out = folder / f"preds-{workers}"
        started = time.perf_counter()
        predict_corpus(
            model, inputs, out, batch_size=batch_size, num_workers=workers, threads=1, show_progress=False
        )
        wall = time.perf_counter() - started
        per_worker = json.loads((out / "manifest.json").read_text())["workers"]
        rate = sum(w["documents"] for w in per_worker.values()) / sum(
            w["seconds"] for w in per_worker.values()
        )
        print(
            f"predict {notes} notes in {shards} shards, {workers} worker(s), 1 thread each, batch {batch_size}: "
            f"{wall:.1f} s wall (model loading included), {notes / wall:.1f} notes/s; "
            f"per worker busy: "
            + ", ".join(f"{w['notes_per_s']:.1f}" for w in per_worker.values())
            + " notes/s"
        )
        rates[workers] = rate
    return {"per_worker": rates[1], "per_worker_2": rates[2]}


def estimate(label: str, per_worker: float) -> None:
    hours = CORPUS_NOTES / (CLUSTER_WORKERS * per_worker) / 3600
    print(
        f"  {label}: {per_worker:,.1f} notes/s per worker -> {hours:,.1f} h for {CORPUS_NOTES:,} notes on {CLUSTER_WORKERS} workers"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-shards", type=int, default=8)
    parser.add_argument(
        "--model", help="a trained model folder (default: the tiny architecture, random weights)"
    )
    parser.add_argument("--notes", type=int, default=96)
    parser.add_argument("--predict-shards", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp:
        folder = Path(tmp)
        build = build_figures(args.num_shards, folder)
        predict = predict_figures(
            tiny_model(folder, args.model), folder, args.notes, args.predict_shards, args.batch_size
        )
    print(f"paper estimate (load average now {os.getloadavg()[0]:.1f}):")
    estimate("build, Ray task", build["ray_per_worker"])
    estimate("predict, tiny model", predict["per_worker"])


if __name__ == "__main__":
    main()
