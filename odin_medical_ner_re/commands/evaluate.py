"""``odin-ner-re evaluate``: score predicted documents against references (NER and RE).

    odin-ner-re evaluate --predictions preds.jsonl --references test.jsonl --output report.json
    odin-ner-re evaluate --predictions lm_output.json --references test.json --align-text

Both files are JSON arrays, ``{"documents": [...]}`` objects or JSONL, paired by position. The
table (every mode: per type, micro, macro) goes to stdout; ``--output`` also writes the full
report as JSON, atomically, so an interrupted run never leaves half a report behind.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..schema import iter_raw_documents
from ..scoring import flatten, format_report, score_documents


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score predicted documents against references (entities and relations, every mode)",
        description="Score predicted documents against reference documents: entities and relations, "
        "every matching mode, per type, micro and macro.",
    )
    parser.add_argument("--predictions", required=True, type=Path, help="predicted documents (JSON or JSONL)")
    parser.add_argument("--references", required=True, type=Path, help="reference documents (JSON or JSONL)")
    parser.add_argument("--output", type=Path, help="write the full report here as JSON")
    parser.add_argument(
        "--align-text",
        action="store_true",
        help="place predicted entities that have no offsets at the first unused occurrence of their text",
    )
    parser.set_defaults(func=run)


def _read(path: Path) -> list[dict[str, Any]]:
    """Raw documents: predictions may lack text or offsets, which Document would reject."""
    documents = []
    for location, raw in iter_raw_documents(path):
        if not isinstance(raw, dict):
            raise UserInputError(f"{location}: expected a JSON object (a document), got {type(raw).__name__}")
        documents.append(raw)
    return documents


def _check_output(path: Path) -> Path:
    """The folder the report goes to; checked before scoring so a typo fails fast."""
    if path.is_dir():
        raise UserInputError(f"output {path} is an existing directory; give a file path")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UserInputError(f"output directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UserInputError(f"output directory {parent} is not writable")
    return parent


def write_json_atomically(data: Any, path: Path) -> Path:
    """Write ``data`` as JSON via a temporary file in the same folder and a rename."""
    parent = _check_output(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def run(args: argparse.Namespace) -> int:
    if args.output:
        _check_output(args.output)
    predictions, references = _read(args.predictions), _read(args.references)
    try:
        report = score_documents(predictions, references, align_text=args.align_text)
    except UserInputError as err:
        raise UserInputError(f"{args.predictions} vs {args.references}: {err}") from None
    print(format_report(report))
    if args.output:
        full = {
            "predictions": str(args.predictions),
            "references": str(args.references),
            "align_text": args.align_text,
            "metrics": flatten(report),
            **report,
        }
        write_json_atomically(full, args.output)
        print(f"\nreport written to {args.output}")
    return 0
