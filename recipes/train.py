"""Fine-tune a causal LM to extract medical entities and relations (TRL SFT, completion-only loss).

Launch (the YAML file fills the dataclasses; any field can be overridden on the command line):

    # the embedded default: a tiny Llama trained from scratch on 2 CPU cores, then scored
    python recipes/train.py --config recipes/configs/tiny-cpu.yaml
    # the same through accelerate (2 CPU processes, DDP over gloo)
    accelerate launch --config_file recipes/accelerate/cpu-ddp.yaml recipes/train.py --config recipes/configs/tiny-cpu.yaml
    # Llama 3.2 1B on a GPU with Unsloth (pip install '.[unsloth]'), or with plain PEFT
    accelerate launch recipes/train.py --config recipes/configs/llama-3.2-1b-unsloth.yaml
    accelerate launch --config_file recipes/accelerate/ddp.yaml recipes/train.py \
        --config recipes/configs/llama-3.2-1b-peft.yaml
    # overrides and resuming
    python recipes/train.py --config recipes/configs/tiny-cpu.yaml --max_steps 5 --output_dir /tmp/run \
        --dataset_config 1k --resume_from_checkpoint /tmp/run/checkpoint-500
"""

from __future__ import annotations

import logging
import sys

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.training import DataArguments, ModelArguments, cpu_safe_argv, run_training


def main(data_args: DataArguments, training_args, model_args: ModelArguments) -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    results = run_training(data_args, training_args, model_args)
    if results:
        summary = ", ".join(
            f"{split}: NER {r['ner_strict_f1']:.3f} / RE {r['re_strict_f1']:.3f}" for split, r in results.items()
        )
        print(f"\nstrict micro-F1 -> {summary}\nmodel, tokenizer and report.json in {training_args.output_dir}")


def make_parser():
    from trl import SFTConfig, TrlParser

    return TrlParser((DataArguments, SFTConfig, ModelArguments))


if __name__ == "__main__":
    try:
        data_args, training_args, model_args = make_parser().parse_args_and_config(args=cpu_safe_argv(sys.argv[1:]))
        main(data_args, training_args, model_args)
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
