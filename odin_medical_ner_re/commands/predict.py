"""``odin-ner-re predict``: a trained model's entities and relations for sharded notes, resumable.

Each input file (JSONL/JSON documents, or parquet with ``id`` and ``text`` columns such as a
Hub layout's shards) is one shard and gives ``OUTPUT/<stem>.jsonl`` of predicted documents,
written whole or not at all; a rerun skips the shards already written and redoes whole any
shard a killed worker left unfinished. ``OUTPUT/manifest.json`` records notes/s per worker.

Examples::

    odin-ner-re predict --model outputs/tiny-cpu-1k --input corpus/*.jsonl --output predictions
    odin-ner-re predict --model outputs/tiny-cpu-1k --input hub/10k/test-*.parquet --output preds \\
        --num-workers 2
    odin-ner-re predict --model /shared/model --input /shared/corpus/*.parquet --output /shared/preds \\
        --engine ray --address ray://head:10001
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..inference import check_model_dir
from ..predict_shards import DEFAULT_BATCH_SIZE, plan_shards, predict_corpus


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="predict entities and relations for sharded notes (resumable, one output per input file)",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--model", required=True, type=Path, help="trained model folder")
    parser.add_argument(
        "--input",
        required=True,
        nargs="+",
        type=Path,
        metavar="FILE",
        help="input shards (.jsonl, .json, .parquet)",
    )
    parser.add_argument(
        "--output", required=True, type=Path, help="output folder (created; never an input's)"
    )
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="notes decoded together")
    parser.add_argument("--num-workers", type=int, default=1, help="worker processes (each loads the model)")
    parser.add_argument("--threads", type=int, help="torch threads per worker (default: cores / workers)")
    parser.add_argument(
        "--engine", choices=("local", "ray"), default="local", help="local processes or Ray workers"
    )
    parser.add_argument("--address", help="Ray cluster address with --engine ray (default: a local Ray)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="delete the outputs and manifest found for these inputs and redo",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.threads is not None and args.threads < 1:
        raise UserInputError(f"--threads must be a positive integer, got {args.threads}")
    if args.address and args.engine != "ray":
        raise UserInputError("--address only applies with --engine ray")
    runner = None
    if args.engine == "ray":  # inputs and model checked before a cluster is started or joined
        from ..predict_ray import ray_predict_runner

        check_model_dir(args.model)
        plan_shards(args.input, args.output)
        runner = ray_predict_runner(args.address)
    summary = predict_corpus(
        args.model,
        args.input,
        args.output,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        threads=args.threads,
        overwrite=args.overwrite,
        show_progress=not args.quiet,
        runner=runner,
    )
    notes = sum(r.documents for r in summary.done)
    print(
        f"predicted {notes:,} notes in {len(summary.done)} shard(s); {len(summary.skipped)} shard(s) "
        f"already done, skipped; manifest: {summary.folder / 'manifest.json'}"
    )
    for worker, figures in summary.worker_rates().items():
        print(
            f"  worker {worker}: {figures['documents']:,} notes in {figures['seconds']:.1f} s "
            f"({figures['notes_per_s']:.1f} notes/s)"
        )
    return 0
