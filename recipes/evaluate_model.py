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

``odin-ner-re evaluate-model ARGS`` is the same run with the same arguments; the code is
:mod:`odin_medical_ner_re.commands.evaluate_model`.
"""

from __future__ import annotations

import sys

# parse and modern_argv stay importable from here for code that loaded the recipe by path
from odin_medical_ner_re.commands.evaluate_model import OLD_FLAGS, main, modern_argv, parse  # noqa: F401
from odin_medical_ner_re.errors import UserInputError

if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
