"""``odin-ner-re evaluate-model``: score a trained model on a split, as ``recipes/evaluate_model.py``.

    odin-ner-re evaluate-model --config recipes/configs/tiny-cpu.yaml     # output_dir, evaluate_splits
    odin-ner-re evaluate-model --model_path outputs/tiny-cpu-1k --dataset_config 1k \
        --evaluate_splits test test_unseen --max_eval_samples 200 --eval_batch_size 32

Answers are generated (greedy, no repetition penalty) and parsed back into documents, then
scored. The parser and flag names are ``odin-ner-re train``'s plus ``--model_path`` and
``--report_path`` (:class:`~odin_medical_ner_re.training.arguments.EvaluationArguments`), so the
training config scores what it trained. The earlier flags (``--split`` repeated,
``--max_samples``, ``--batch_size``) still work: recorded commands use them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..training.launch import set_cpu_threads
from .train import recipe_parser

HELP = "score a trained model by generating answers on a split (the same as recipes/evaluate_model.py)"
#: Flags of the earlier argparse version, still accepted: RESULTS.md records commands that use them.
OLD_FLAGS = {"--max_samples": "--max_eval_samples", "--batch_size": "--eval_batch_size"}


def modern_argv(argv: Sequence[str]) -> list[str]:
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


def make_parser(subparsers: Any = None, prog: str | None = None) -> Any:
    """The recipe's parser (train's plus the folder to score), or the CLI's ``evaluate-model``."""
    return recipe_parser("evaluation_parser", subparsers, prog, name="evaluate-model", run=run, help=HELP)


register = make_parser  # the CLI's hook: make_parser(subparsers) adds the command


def parse(argv: Sequence[str], prog: str | None = None) -> tuple[Any, Any, Any, Any]:
    """(DataArguments, SFTConfig, ModelArguments, EvaluationArguments), as ``train`` parses them."""
    from ..training.arguments import parse_recipe_args
    from ..training.slm import cpu_safe_argv

    return parse_recipe_args(make_parser(prog=prog), cpu_safe_argv(modern_argv(argv)))


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Load the model folder, score each split, write the report; mistakes raise ``UserInputError``."""
    set_cpu_threads()
    data_args, training_args, _, eval_args = parse(sys.argv[1:] if argv is None else argv, prog)
    from ..inference import load_model
    from ..training.data import load_training_data
    from ..training.run import evaluate_splits

    folder = Path(eval_args.model_path or training_args.output_dir)
    data_args.evaluate_splits = data_args.evaluate_splits or ["test"]
    data_args.dataset_train_split = data_args.evaluate_splits[0]  # a documents file is read as this split
    model, tokenizer = load_model(folder)
    corpus = load_training_data(data_args)
    output = Path(eval_args.report_path) if eval_args.report_path else folder / "report.json"
    evaluate_splits(model, tokenizer, corpus, data_args, output.parent, report_name=output.name)
    print(f"\nreport written to {output}")
    return 0


def run(args: Any) -> int:
    return main(args.argv, prog="odin-ner-re evaluate-model")
