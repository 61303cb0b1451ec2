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

``odin-ner-re train ARGS`` is the same run with the same arguments; this file is the entry point
``accelerate launch`` needs, and the code is :mod:`odin_medical_ner_re.commands.train`.
"""

from __future__ import annotations

import logging
import sys

# make_parser, parse and train stay importable from here for code that loaded the recipe by path
from odin_medical_ner_re.commands.train import LOG_FORMAT, main, make_parser, parse, train  # noqa: F401
from odin_medical_ner_re.errors import UserInputError

if __name__ == "__main__":
    logging.basicConfig(format=LOG_FORMAT, level=logging.WARNING)
    try:
        sys.exit(main(sys.argv[1:]))
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
