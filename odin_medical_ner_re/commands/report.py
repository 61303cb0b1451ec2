"""``odin-ner-re report``: the data quality report (see :mod:`odin_medical_ner_re.quality`)."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import UserInputError

_EPILOG = """\
DATASET / OTHER: a JSON or JSONL file of documents, a folder written by
datasets.save_to_disk, a builder config (1k, 10k, complex, literature) or a benchmark
(biored, bc5cdr, ade, ncbi_disease).

examples:
  odin-ner-re report 1k --output reports/1k
  odin-ner-re report 1k --split train --compare bc5cdr --compare-split test --output reports/1k-vs-bc5cdr
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="data quality report: distributions, diversity, consistency, leakage, plots",
        description="Measure a dataset (optionally next to another) and write report.md, "
        "report.html, report.json and PNG plots to a folder.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dataset", metavar="DATASET")
    parser.add_argument(
        "--output", "-o", required=True, metavar="DIR", help="folder for the report (created)"
    )
    parser.add_argument("--compare", metavar="OTHER", help="a second dataset shown side by side")
    parser.add_argument(
        "--split", metavar="S", help="measure only this split of DATASET (default: all splits)"
    )
    parser.add_argument("--compare-split", metavar="S", help="measure only this split of OTHER")
    parser.add_argument(
        "--label-set",
        choices=("odin", "native"),
        default="odin",
        help="labels of benchmark corpora (default: odin, comparable with synthetic data)",
    )
    parser.add_argument(
        "--bleu-sample",
        type=int,
        default=200,
        metavar="N",
        help="documents sampled for self-BLEU (default: 200)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the self-BLEU sample (default: 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..quality import run_report

    if args.bleu_sample < 2:
        raise UserInputError(f"--bleu-sample must be at least 2, got {args.bleu_sample}")
    directory, reports = run_report(
        args.dataset,
        args.output,
        compare=args.compare,
        split=args.split,
        compare_split=args.compare_split,
        label_set=args.label_set,
        bleu_sample=args.bleu_sample,
        seed=args.seed,
    )
    for report in reports:
        _print_summary(report)
    print(f"report written to {directory / 'report.md'} (also report.html, report.json, plots)")
    return 0


def _print_summary(report: dict[str, Any]) -> None:
    diversity, consistency, validity = report["diversity"], report["consistency"], report["validity"]
    share = consistency.get("kb_edge_share")
    print(
        f"{report['name']}: {report['documents']:,} documents, distinct-2 {_num(diversity['distinct_2'])}, "
        f"self-BLEU {_num(diversity['self_bleu'])}, KB-edge relations "
        f"{'n/a' if share is None else f'{100 * share:.2f}%'}, schema violations {validity['schema_violations']}, "
        f"offset errors {validity['offset_errors']}"
    )
    for split, values in (report["leakage"] or {}).items():
        print(
            f"  leakage train -> {split}: identical texts {values['exact_text_overlap']}, "
            f"surface forms seen in train {_share(values['surface_overlap_share'])}"
        )


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
