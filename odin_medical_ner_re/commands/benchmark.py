"""``odin-ner-re benchmark``: score a baseline or a trained model on a real corpus.

The corpus files are read from ``--data-dir``, else ``$ODIN_BENCHMARKS_DIR``, else
``../shared/benchmarks``. The dictionary baseline is zero-shot and uses odin labels; the CRF
trains on the corpus's train split (native labels by default); ``--model`` evaluates a trained
model folder (odin labels by default: a model trained on synthetic notes, tested zero-shot).

Examples::

    odin-ner-re benchmark bc5cdr --baseline dictionary
    odin-ner-re benchmark bc5cdr --baseline crf --output bc5cdr-crf.json
    odin-ner-re benchmark biored --split validation --baseline crf --label-set odin
    odin-ner-re benchmark ade --model outputs/tiny-cpu
"""

from __future__ import annotations

import argparse
from typing import Any

from ..corpora import CORPORA
from ..corpora.labels import LABEL_SETS
from ..corpora.runner import SYSTEMS, format_benchmark_report, run_benchmark, write_json
from ..errors import UserInputError
from ..files import check_output_file


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "benchmark",
        help="score a baseline or a trained model on BioRED, BC5CDR, ADE or NCBI disease",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", metavar="NAME", help=f"corpus: {', '.join(CORPORA)}")
    parser.add_argument(
        "--split", default="test", help="split to score (default: test; BioRED here: validation)"
    )
    system = parser.add_mutually_exclusive_group()
    system.add_argument("--baseline", choices=SYSTEMS, help="a built-in baseline")
    system.add_argument(
        "--model", metavar="DIR", help="a trained model folder (uses odin_medical_ner_re.inference)"
    )
    parser.add_argument(
        "--label-set", choices=LABEL_SETS, help="native or odin labels (default: odin, native for crf)"
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", help="folder holding the corpus files (or one folder per corpus)"
    )
    parser.add_argument("--output", metavar="report.json", help="also write the report as JSON")
    parser.add_argument(
        "--batch-size", type=int, default=32, metavar="N", help="--model: documents decoded together (default: 32)"
    )
    parser.add_argument(
        "--include-negatives",
        action="store_true",
        help="ADE: also train on and score the unannotated negative sentences (left out by default)",
    )
    parser.add_argument(
        "--allow-subset",
        action="store_true",
        help="score corpus files whose document or mention counts differ from the originals (a sample)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.baseline and not args.model:
        raise UserInputError("give --baseline dictionary|crf or --model DIR")
    if args.output:
        check_output_file(args.output)  # before the (long) run, not after it
    report = run_benchmark(
        args.name,
        split=args.split,
        system=args.baseline or "model",
        label_set=args.label_set,
        data_dir=args.data_dir,
        model_dir=args.model,
        include_negatives=args.include_negatives,
        batch_size=args.batch_size,
        allow_subset=args.allow_subset,
    )
    print(format_benchmark_report(report))
    if args.output:
        print(f"\nreport written to {write_json(report, args.output)}")
    return 0
