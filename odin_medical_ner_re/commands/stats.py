"""``odin-ner-re stats``: statistics of an existing JSON/JSONL dataset file.

Prints what ``odin-ner-re generate`` prints after writing (counts, entities and relations
per type and per document, distributions, one example document). The file may be in the
project's shape or the seed's (relations holding head/tail entity dicts); every document
is validated, and the first invalid one is reported with its id and all its problems.

Examples::

    odin-ner-re stats notes.json
    odin-ner-re stats notes.jsonl --example 3 --json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..schema import load_documents
from ..stats import dataset_statistics, format_statistics


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="print statistics of a JSON/JSONL dataset file",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("path", type=Path, help="dataset file (.json or .jsonl)")
    parser.add_argument(
        "--example", default="0", metavar="INDEX", help="index of the example document (default 0)"
    )
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        example = int(args.example)
    except ValueError:
        raise UserInputError(f"--example must be a non-negative integer, got {args.example!r}") from None
    if example < 0:
        raise UserInputError(f"--example must be a non-negative integer, got {example}")
    if args.path.is_dir():
        raise UserInputError(f"{args.path} is a directory; give a JSON or JSONL file")
    documents = load_documents(args.path)
    if not documents:  # as report and augment: statistics of nothing hide a wrong file
        raise UserInputError(f"{args.path}: no documents")
    stats = dataset_statistics(documents, example_index=example)
    print(json.dumps(stats, ensure_ascii=False, indent=1) if args.json else format_statistics(stats))
    return 0
