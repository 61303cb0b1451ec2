"""``odin-ner-re evaluate``: score predicted documents against references (NER and RE).

    odin-ner-re evaluate --predictions preds.jsonl --references test.jsonl --output report.json
    odin-ner-re evaluate --predictions lm_output.json --references test.json --align-text

Both files are JSON arrays, ``{"documents": [...]}`` objects or JSONL, paired by position. The
table (every mode: per type, micro, macro) goes to stdout; ``--output`` also writes the full
report as JSON, atomically, so an interrupted run never leaves half a report behind; it may not be
one of the inputs. Both files are checked as ``stats`` checks a dataset (mention text equals
``text[start:end]``, known types, no repeated document id); ``--lenient`` skips and counts instead.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..files import atomic_open, check_output_file
from ..schema import iter_raw_documents
from ..score_checks import check_scoring_inputs
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
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="skip (and count) entities whose text is not text[start:end], unknown types and repeated "
        "document ids instead of stopping at the first",
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


def write_json_atomically(data: Any, path: Path) -> Path:
    """Write ``data`` as JSON via a temporary file in the same folder and a rename."""
    check_output_file(path)
    with atomic_open(path, "w") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    return path


def run(args: argparse.Namespace) -> int:
    if args.output:
        check_output_file(args.output, inputs=(args.predictions, args.references))
    predictions, references = _read(args.predictions), _read(args.references)
    try:
        predictions, references, skipped = check_scoring_inputs(
            predictions, references, lenient=args.lenient
        )
        report = score_documents(predictions, references, align_text=args.align_text)
    except UserInputError as err:
        raise UserInputError(f"{args.predictions} vs {args.references}: {err}") from None
    print(format_report(report))
    if skipped:
        counts = ", ".join(f"{reason} {count}" for reason, count in sorted(skipped.items()))
        print(f"\nskipped (--lenient): {counts}")
    if args.output:
        full = {
            "predictions": str(args.predictions),
            "references": str(args.references),
            "align_text": args.align_text,
            "skipped": skipped,
            "metrics": flatten(report),
            **report,
        }
        write_json_atomically(full, args.output)
        print(f"\nreport written to {args.output}")
    return 0
