"""``odin-ner-re train``: fine-tune a causal LM to extract entities and relations, as ``recipes/train.py``.

    odin-ner-re train --config recipes/configs/tiny-cpu.yaml
    odin-ner-re train --config recipes/configs/tiny-cpu.yaml --max_steps 5 --output_dir /tmp/run

The arguments are the recipe's, exactly: TRL's ``ScriptArguments``, ``SFTConfig`` and
``ModelConfig`` with this project's fields (:mod:`odin_medical_ner_re.training.arguments`),
filled from ``--config YAML`` and overridden by any flag; ``odin-ner-re train --help`` lists them.
Multi-process and GPU runs go through ``accelerate launch recipes/train.py``, the same code.

As TRL's scripts, the module exposes ``make_parser(subparsers=None)``: without ``subparsers`` the
recipe's parser, with them the ``train`` command, which hands its arguments to that same parser
once :func:`~odin_medical_ner_re.training.launch.prepare` has settled threads and the backend.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..training.launch import prepare

HELP = "fine-tune a causal LM on the notes (TRL SFT; the same as recipes/train.py)"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def make_parser(subparsers: Any = None, prog: str | None = None) -> Any:
    """The recipe's ``RecipeParser`` (DataArguments, SFTConfig, ModelArguments), or the CLI's ``train``."""
    return recipe_parser("training_parser", subparsers, prog, name="train", run=run, help=HELP)


register = make_parser  # the CLI's hook: make_parser(subparsers) adds the command


def recipe_parser(builder: str, subparsers: Any, prog: str | None, **command: Any) -> Any:
    """``training.arguments.<builder>()`` named ``prog``; given ``subparsers``, the command that defers to it.

    The name of the builder, not the builder, comes in: importing it imports TRL, which a
    command may do only once it runs (see :func:`odin_medical_ner_re.cli.add_passthrough_command`).
    """
    if subparsers is not None:
        from ..cli import add_passthrough_command

        return add_passthrough_command(subparsers, command.pop("name"), command.pop("run"), **command)
    from ..training import arguments

    parser = getattr(arguments, builder)()
    parser.prog = prog or parser.prog
    return parser


def parse(argv: Sequence[str], prog: str | None = None) -> tuple[Any, Any, Any]:
    """(DataArguments, SFTConfig, ModelArguments) from ``--config`` and the command line."""
    from ..training.arguments import parse_recipe_args
    from ..training.slm import cpu_safe_argv

    return parse_recipe_args(make_parser(prog=prog), cpu_safe_argv(list(argv)))


def train(data_args: Any, training_args: Any, model_args: Any) -> None:
    """Train, score the ``evaluate_splits`` and print the strict micro-F1 of each."""
    from ..training.run import run_training

    results = run_training(data_args, training_args, model_args)
    if results:
        summary = ", ".join(
            f"{split}: NER {r['ner_strict_f1']:.3f} / RE {r['re_strict_f1']:.3f}" for split, r in results.items()
        )
        print(f"\nstrict micro-F1 -> {summary}\nmodel, tokenizer and report.json in {training_args.output_dir}")


def main(argv: Sequence[str], prog: str | None = None) -> int:
    """The whole recipe; mistakes raise :class:`~odin_medical_ner_re.errors.UserInputError`."""
    prepare(argv)  # threads and the backend first: Unsloth must be imported before transformers, trl, peft
    train(*parse(argv, prog))
    return 0


def run(args: Any) -> int:
    logging.basicConfig(format=LOG_FORMAT, level=logging.WARNING)
    return main(args.argv, prog="odin-ner-re train")
