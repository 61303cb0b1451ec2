"""``odin-ner-re generate``: write synthetic annotated notes to a JSON/JSONL file, then describe them.

``--config`` picks the note style of a dataset config (``1k`` and ``10k``: simple notes,
``complex``: long multi-section ones) and, without ``--num-samples``, its training-split
size. The notes come from one ``MedicalTextGenerator(seed)`` stream, the seed generator's
API: the same seed gives the same file, byte for byte. (``odin-ner-re build`` makes the
split-aware dataset with held-out surface forms.)

Examples::

    odin-ner-re generate --num-samples 1000 --output notes.json
    odin-ner-re generate --config complex --num-samples 500 --output complex.jsonl --seed 7
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..files import check_output_file, check_room, human_bytes
from ..generator import MedicalTextGenerator
from ..literature.generator import LiteratureGenerator
from ..schema import Document, save_documents
from ..stats import StatisticsAccumulator, format_statistics

FORMATS: tuple[str, ...] = ("json", "jsonl")
#: Notes per file at most: 10 million simple notes are already ~20 GB of JSON.
MAX_SAMPLES = 10_000_000
#: JSON bytes per note, measured on 500 notes (1k: 1,946, complex: 5,096), rounded up.
_BYTES_PER_NOTE: dict[str, int] = {"simple": 2_000, "complex": 5_200, "literature": 2_400}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate annotated synthetic clinical notes into a JSON/JSONL file and print statistics",
        description=__doc__.split("\n\n")[0],
    )
    # Values are checked in run() rather than by argparse, so that every mistake gets the
    # CLI's one-line "error: ..." message instead of a usage dump.
    parser.add_argument(
        "--num-samples",
        "--num_samples",
        dest="num_samples",
        metavar="N",
        help="number of notes (default: the config's training-split size)",
    )
    parser.add_argument("--output", "-o", required=True, type=Path, help="file to write (.json or .jsonl)")
    parser.add_argument("--seed", default="42", help="random seed (default 42)")
    parser.add_argument(
        "--config", default="1k", help="dataset config: 1k, 10k, complex or literature (default 1k)"
    )
    parser.add_argument("--format", dest="fmt", help="json or jsonl (default: from the output suffix)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    complexity, default_size, style = config_preset(args.config)
    num_samples = (
        positive_int(args.num_samples, "--num-samples") if args.num_samples is not None else default_size
    )
    per_note = _BYTES_PER_NOTE.get("literature" if style == "literature" else complexity, 5_200)
    if num_samples > MAX_SAMPLES:
        raise UserInputError(
            f"--num-samples must be at most {MAX_SAMPLES:,}, got {num_samples:,}: one JSON file of that many "
            f"notes is about {human_bytes(num_samples * per_note)}; "
            "`odin-ner-re build --num-train N` writes sharded parquet instead"
        )
    seed = integer(args.seed, "--seed")
    fmt = output_format(args.output, args.fmt)
    check_writable(args.output)
    check_room(
        args.output.parent if str(args.output.parent) else Path("."),
        num_samples * per_note,
    )
    generator = (
        LiteratureGenerator(seed=seed) if style == "literature" else MedicalTextGenerator(seed=seed, complexity=complexity)
    )
    accumulator = StatisticsAccumulator()
    show_progress = not args.quiet and sys.stderr.isatty()
    started = time.perf_counter()
    documents = _counted(generator.iter_documents(num_samples, show_progress=show_progress), accumulator)
    try:
        save_documents(documents, args.output, fmt)
    except OSError as err:
        raise UserInputError(f"cannot write {args.output}: {err.strerror or err}") from None
    elapsed = time.perf_counter() - started
    print(
        f"Wrote {num_samples:,} documents to {args.output} ({fmt}, config {args.config}, seed {seed}) "
        f"in {elapsed:.1f} s"
    )
    print(format_statistics(accumulator.result()))
    return 0


def _counted(documents: Iterator[Document], accumulator: StatisticsAccumulator) -> Iterator[Document]:
    """Pass documents through to the writer, counting them on the way (one pass, no copy)."""
    for doc in documents:
        accumulator.add(doc)
        yield doc


def config_preset(name: str) -> tuple[str, int, str]:
    """(note complexity, training-split size, writing style) of a dataset config, read from the builder.

    The builder owns the configs; importing it (and ``datasets``) only here keeps the
    other commands' start-up light.
    """
    from ..builder import OdinNerRe

    configs = {config.name: config for config in OdinNerRe.BUILDER_CONFIGS}
    if name not in configs:
        raise UserInputError(f"unknown --config {name!r}; valid configs: {', '.join(configs)}")
    return configs[name].complexity, configs[name].num_train, configs[name].style


def integer(value: str, option: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UserInputError(f"{option} must be an integer, got {value!r}") from None


def positive_int(value: str, option: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise UserInputError(f"{option} must be a positive integer, got {value!r}") from None
    if number < 1:
        raise UserInputError(f"{option} must be a positive integer, got {number}")
    return number


def output_format(path: Path, fmt: str | None) -> str:
    """``--format`` if given, else ``jsonl`` for a ``.jsonl`` file and ``json`` otherwise."""
    if fmt is None:
        return "jsonl" if path.suffix.lower() == ".jsonl" else "json"
    if fmt not in FORMATS:
        raise UserInputError(f"unknown --format {fmt!r}; use json or jsonl")
    return fmt


def check_writable(path: Path) -> None:
    """Fail before generating anything if the output cannot be written (see :func:`~..files.check_output_file`)."""
    check_output_file(path)
