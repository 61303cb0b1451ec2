"""Score a trained model by generating answers on a split and parsing them (greedy, no repetition penalty).

    python recipes/evaluate_model.py --model outputs/tiny-cpu-1k --dataset_config 1k --split test \
        --output outputs/tiny-cpu-1k/report.json
    python recipes/evaluate_model.py --model DIR --dataset_config complex --split test_unseen --max_samples 200
    python recipes/evaluate_model.py --model DIR --benchmark bc5cdr --split test   # native labels

Writes report.json (the metric's flat keys such as ``ner_strict_f1`` and ``re_strict_f1``,
the nested per-type report and the parse-problem counts) and prints the score table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from odin_medical_ner_re.errors import UserInputError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="trained output folder (full model or PEFT adapter)")
    parser.add_argument("--dataset_config", default="1k", help="builder config: 1k, 10k or complex")
    parser.add_argument("--dataset_path", help="a JSON/JSONL file of documents instead of a builder config")
    parser.add_argument("--benchmark", help="a real corpus (bc5cdr, biored, ade, ncbi_disease) with native labels")
    parser.add_argument("--split", action="append", help="split(s) to score (repeatable; default: test)")
    parser.add_argument("--max_samples", type=int, help="score only the first N documents of each split")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--max_new_tokens", type=int, default=1024)
    parser.add_argument("--output", help="report path (default: MODEL/report.json)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from odin_medical_ner_re.inference import load_model
    from odin_medical_ner_re.training.data import DataArguments, load_corpus
    from odin_medical_ner_re.training.run import evaluate_splits

    args = parse_args(argv)
    data_args = DataArguments(
        dataset_config=args.dataset_config,
        dataset_path=args.dataset_path,
        benchmark=args.benchmark,
        train_split="test",
        evaluate_splits=args.split or ["test"],
        max_eval_samples=args.max_samples,
        eval_batch_size=args.batch_size,
        max_new_tokens=args.max_new_tokens,
    )
    model, tokenizer = load_model(args.model)
    corpus = load_corpus(data_args)
    output = Path(args.output) if args.output else Path(args.model) / "report.json"
    evaluate_splits(model, tokenizer, corpus, data_args, output.parent, report_name=output.name)
    print(f"\nreport written to {output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
