"""Fine-tune a causal LM to extract medical entities and relations (TRL SFT, completion-only loss).

Launch (the YAML file fills the dataclasses; any field can be overridden on the command line):

    # the embedded default: a tiny Llama trained from scratch on 2 CPU cores, then scored
    python recipes/train.py --config recipes/configs/tiny-cpu.yaml
    # the same through accelerate (2 CPU processes, DDP over gloo, one thread each)
    accelerate launch --config_file recipes/accelerate/cpu-ddp.yaml recipes/train.py --config recipes/configs/tiny-cpu.yaml
    # Llama 3.2 1B on a GPU with Unsloth (pip install '.[unsloth]'), or with plain PEFT
    accelerate launch recipes/train.py --config recipes/configs/llama-3.2-1b-unsloth.yaml
    accelerate launch --config_file recipes/accelerate/ddp.yaml recipes/train.py \
        --config recipes/configs/llama-3.2-1b-peft.yaml
    # TRL's flags, overrides and resuming
    python recipes/train.py --config recipes/configs/tiny-cpu.yaml --max_steps 5 --output_dir /tmp/run \
        --dataset_name odin_medical_ner_re --dataset_config 1k --evaluate_splits '[]' \
        --resume_from_checkpoint /tmp/run/checkpoint-500

The arguments are TRL's ``ScriptArguments``, ``SFTConfig`` and ``ModelConfig`` with this
project's fields added (``--help`` lists them all). ``--dataset_name`` takes
``odin_medical_ner_re`` (the default; ``--dataset_config`` picks 1k, 10k or complex), a
builder config, a JSON/JSONL documents file or a benchmark name. Mistakes end with one
``error:`` line and exit code 2.
"""

from __future__ import annotations

import logging
import sys

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.training.launch import prepare


def main(data_args, training_args, model_args) -> None:
    from odin_medical_ner_re.training.run import run_training

    results = run_training(data_args, training_args, model_args)
    if results:
        summary = ", ".join(
            f"{split}: NER {r['ner_strict_f1']:.3f} / RE {r['re_strict_f1']:.3f}" for split, r in results.items()
        )
        print(f"\nstrict micro-F1 -> {summary}\nmodel, tokenizer and report.json in {training_args.output_dir}")


def make_parser():
    from odin_medical_ner_re.training.arguments import training_parser

    return training_parser()


def parse(argv: list[str]):
    """(DataArguments, SFTConfig, ModelArguments) from ``--config`` and the command line."""
    from odin_medical_ner_re.training.arguments import parse_recipe_args
    from odin_medical_ner_re.training.slm import cpu_safe_argv

    return parse_recipe_args(make_parser(), cpu_safe_argv(argv))


if __name__ == "__main__":
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    try:
        # threads and the backend first: Unsloth must be imported before transformers, trl and peft
        prepare(sys.argv[1:])
        main(*parse(sys.argv[1:]))
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
