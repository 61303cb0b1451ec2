"""Score a trained model by generating answers on a split and parsing them (greedy, no repetition penalty).

The parser and flag names are ``recipes/train.py``'s, so the training config scores what it trained:

    python recipes/evaluate_model.py --config recipes/configs/tiny-cpu.yaml          # output_dir, evaluate_splits
    python recipes/evaluate_model.py --model_path outputs/tiny-cpu-1k --dataset_config 1k \
        --evaluate_splits test test_unseen --max_eval_samples 200 --eval_batch_size 32
    python recipes/evaluate_model.py --model_path DIR --dataset_name bc5cdr --evaluate_splits test  # native labels

The model folder is ``--model_path`` (alias ``--model``), else ``--output_dir``; the splits
are ``--evaluate_splits`` (default: test). Writes ``--report_path`` (alias ``--output``;
default MODEL/report.json): the metric's flat keys such as ``ner_strict_f1`` and
``re_strict_f1``, the nested per-type report and the parse-problem counts; prints the tables.
The earlier flags (``--split`` repeated, ``--max_samples``, ``--batch_size``) still work.
"""

from __future__ import annotations

import sys
from pathlib import Path

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.training.launch import set_cpu_threads

#: Flags of the earlier argparse version, still accepted: benchmarks/RESULTS.md records commands that use them.
OLD_FLAGS = {"--max_samples": "--max_eval_samples", "--batch_size": "--eval_batch_size"}


def modern_argv(argv: list[str]) -> list[str]:
    """``--split A --split B`` -> ``--evaluate_splits A B``; ``--max_samples``/``--batch_size`` renamed."""
    splits: list[str] = []
    args: list[str] = []
    items = iter(argv)
    for item in items:
        if item == "--split":
            splits.append(next(items, ""))
        else:
            args.append(OLD_FLAGS.get(item, item))
    return args + (["--evaluate_splits", *splits] if splits else [])


def parse(argv: list[str]):
    """(DataArguments, SFTConfig, ModelArguments, EvaluationArguments), as recipes/train.py parses them."""
    from odin_medical_ner_re.training.arguments import evaluation_parser, parse_recipe_args
    from odin_medical_ner_re.training.slm import cpu_safe_argv

    return parse_recipe_args(evaluation_parser(), cpu_safe_argv(modern_argv(argv)))


def main(argv: list[str] | None = None) -> int:
    set_cpu_threads()
    data_args, training_args, _, eval_args = parse(sys.argv[1:] if argv is None else argv)
    from odin_medical_ner_re.inference import load_model
    from odin_medical_ner_re.training.data import load_corpus
    from odin_medical_ner_re.training.run import evaluate_splits

    folder = Path(eval_args.model_path or training_args.output_dir)
    data_args.evaluate_splits = data_args.evaluate_splits or ["test"]
    data_args.dataset_train_split = data_args.evaluate_splits[0]  # a documents file is read as this split
    model, tokenizer = load_model(folder)
    corpus = load_corpus(data_args)
    output = Path(eval_args.report_path) if eval_args.report_path else folder / "report.json"
    evaluate_splits(model, tokenizer, corpus, data_args, output.parent, report_name=output.name)
    print(f"\nreport written to {output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
