"""``odin-ner-re transfer``: does the synthetic data help a system on real text? Learning curves per corpus.

For each k in --real the system is trained on k real training documents of the corpus (a fixed,
nested sample: --seed) and on the same k plus the synthetic documents, and scored on --split
with odin labels (strict micro-F1 over the types the corpus annotates, as ``benchmark`` scores).
Writes transfer.json (every setting and score), transfer.md (one table per corpus) and
transfer.png (the curves) to --output. --synthetic is a JSON/JSONL documents file or a builder
config name, whose train split is generated with --seed.

The crf system marks every training document's features with its source (--mix domain, the
default, in both arms) so that the synthetic text adds names and contexts without overruling how
the corpus draws its boundaries; --mix concat trains on the plain concatenation.

Examples::

    odin-ner-re transfer --synthetic literature --num-synthetic 1000 --corpus bc5cdr --corpus ncbi_disease \
        --corpus ade --corpus biored --real 0,25,100,all --split validation --output transfer/literature
    odin-ner-re generate --num-samples 1000 --seed 7 --output notes.jsonl
    odin-ner-re transfer --synthetic notes.jsonl --corpus bc5cdr --real 0,25,100,all --output transfer/bc5cdr
    odin-ner-re transfer --synthetic 1k --corpus ncbi_disease --system model --real 0,25 --output transfer/model
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..corpora import CORPORA
from ..corpora.transfer import MIXES
from ..errors import UserInputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "transfer",
        help="learning curves on real corpora: k real documents with and without the synthetic data",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--synthetic", required=True, metavar="CONFIG_OR_FILE", help="a JSON/JSONL documents file or a builder config"
    )
    parser.add_argument(
        "--corpus",
        action="append",
        required=True,
        metavar="NAME",
        help=f"corpus to score on, repeatable or comma-separated: {', '.join(CORPORA)}",
    )
    parser.add_argument("--system", default="crf", help="crf (default) or model (the tiny recipe; slow on CPU)")
    parser.add_argument(
        "--real", metavar="K,K,...", help="real training documents per run, integers or 'all' "
        "(default: 0,25,100,all for crf, 0,25 for model)"
    )
    parser.add_argument("--seed", default="0", help="seed of the real sample and of a builder config (default 0)")
    parser.add_argument("--split", default="validation", help="split to score (default: validation)")
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="folder for the three outputs")
    parser.add_argument("--num-synthetic", metavar="N", help="synthetic documents: a config's count, a file's first N")
    parser.add_argument(
        "--real-repeat", default="1", metavar="R", help="repeat the k real documents R times in the mix (default 1)"
    )
    parser.add_argument("--data-dir", metavar="DIR", help="folder holding the corpus files (or one folder per corpus)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing transfer.json in --output")
    parser.add_argument(
        "--model-config", metavar="YAML", help="--system model: recipe config (default recipes/configs/tiny-cpu.yaml)"
    )
    parser.add_argument("--max-steps", metavar="N", help="--system model: training steps per run (default: the config's)")
    parser.add_argument(
        "--max-eval-docs", metavar="N", help="score only the first N documents of --split (quick model checks)"
    )
    parser.add_argument(
        "--mix",
        choices=MIXES,
        default="domain",
        help="crf: 'domain' marks features with their source in both arms (default), 'concat' plainly concatenates",
    )
    parser.add_argument(
        "--allow-subset",
        action="store_true",
        help="accept corpus files whose document/mention counts differ from the originals (a sample on purpose)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _integer(value: str | None, option: str, minimum: int | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise UserInputError(f"{option} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise UserInputError(f"{option} must be at least {minimum}, got {number}")
    return number


def run(args: argparse.Namespace) -> int:
    from ..corpora.transfer import check_output_dir, format_transfer_markdown, run_transfer, write_transfer

    seed = _integer(args.seed, "--seed", None)
    num_synthetic = _integer(args.num_synthetic, "--num-synthetic", 1)
    real_repeat = _integer(args.real_repeat, "--real-repeat", 1)
    max_steps = _integer(args.max_steps, "--max-steps", 1)
    max_eval_docs = _integer(args.max_eval_docs, "--max-eval-docs", 1)
    corpora = [name.strip() for value in args.corpus for name in value.split(",") if name.strip()]
    # before minutes of training, not after; the folder itself is made only once there is something to write
    check_output_dir(args.output, args.overwrite, [args.synthetic], create=False)
    report = run_transfer(
        args.synthetic,
        corpora,
        system=args.system,
        real=args.real,
        seed=seed,
        split=args.split,
        num_synthetic=num_synthetic,
        real_repeat=real_repeat,
        data_dir=args.data_dir,
        model_config=args.model_config,
        model_options={"max_steps": max_steps} if max_steps else None,
        max_eval_docs=max_eval_docs,
        mix=args.mix,
        allow_subset=args.allow_subset,
        show_progress=not args.quiet and sys.stderr.isatty(),
    )
    paths = write_transfer(report, args.output, overwrite=True)
    print(format_transfer_markdown(report))
    print(f"written: {', '.join(str(p) for p in paths)} ({report['seconds']:.0f} s)")
    return 0
