"""``odin-ner-re review-sample`` and ``review-score``: human expert review of annotations.

See :mod:`odin_medical_ner_re.review` for the sampling and the statistics.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

_SAMPLE_EPILOG = """\
DATASET: a JSON/JSONL file of documents, a folder written by datasets.save_to_disk, a builder
config (1k, 10k, complex, literature) or a benchmark name. Writes DIR/review.html (open it in a browser),
DIR/review.csv (fill `verdict`, optionally `comment`) and DIR/documents.jsonl (the sample).

example:
  odin-ner-re review-sample 1k --split train --n 50 --seed 0 --output review/
  odin-ner-re review-score review/review.csv
"""

_SCORE_EPILOG = """\
Accepted verdicts (any case, spaces ignored):
  correct:   correct, c, yes, y, ok, true, 1
  incorrect: incorrect, i, wrong, no, n, false, 0, x
  unsure:    unsure, u, ?, unknown, skip, n/a   (reported, not scored)
  empty:     not reviewed yet                    (reported, not scored)
The share correct is correct / (correct + incorrect), with a 95% Wilson score interval.
"""


def register(subparsers: Any) -> None:
    sample = subparsers.add_parser(
        "review-sample",
        help="write a stratified sample for expert review (review.html + review.csv)",
        description="Sample documents covering every relation type and template family and write a "
        "browser-readable review page and a sheet with one row per entity and relation.",
        epilog=_SAMPLE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sample.add_argument("dataset", metavar="DATASET")
    sample.add_argument("--n", type=int, default=50, help="documents to sample (default: 50)")
    sample.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")
    sample.add_argument("--split", help="sample only this split (default: all)")
    sample.add_argument("--output", "-o", required=True, metavar="DIR")
    sample.add_argument(
        "--overwrite", action="store_true", help="replace a review.csv in DIR that already holds verdicts"
    )
    sample.set_defaults(func=run_sample)

    score = subparsers.add_parser(
        "review-score",
        help="score a filled review.csv: share correct per type with 95%% confidence intervals",
        description="Read the reviewer's verdicts and report the share judged correct per entity and "
        "relation type; an unknown verdict stops with its row number.",
        epilog=_SCORE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    score.add_argument("sheet", metavar="REVIEW_CSV", help="the filled review.csv (or its folder)")
    score.add_argument("--json", metavar="PATH", help="also write the scores as JSON")
    score.set_defaults(func=run_score)


def run_sample(args: argparse.Namespace) -> int:
    from ..review import write_review_sample

    directory, sample, rows = write_review_sample(
        args.dataset, args.output, n=args.n, seed=args.seed, split=args.split, overwrite=args.overwrite
    )
    print(f"sampled {len(sample)} documents, {rows} items to review")
    print(f"open {directory / 'review.html'}; fill the verdict column of {directory / 'review.csv'}")
    return 0


def run_score(args: argparse.Namespace) -> int:
    from ..files import atomic_write_text, check_output_file
    from ..review import format_scores, score_sheet

    if args.json:
        sheet = Path(args.sheet) / "review.csv" if Path(args.sheet).is_dir() else Path(args.sheet)
        check_output_file(args.json, inputs=(sheet,))
    scores = score_sheet(args.sheet)
    print(format_scores(scores), end="")
    if args.json:
        atomic_write_text(Path(args.json), json.dumps(scores.as_dict(), indent=1) + "\n")
    return 0
