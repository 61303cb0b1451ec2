"""The ``odin-ner-re`` command line: one sub-command per module in :mod:`.commands`.

Each command module exposes ``register(subparsers)``, which adds its parser and sets
``func``. ``train``, ``evaluate-model`` and ``push`` are the scripts ``recipes/train.py``,
``recipes/evaluate_model.py`` and ``hub/push.py`` (TRL's ``make_parser(subparsers)``: one parser
serves the script and the sub-command). User mistakes raise
:class:`~odin_medical_ner_re.errors.UserInputError` and are printed as one ``error: ...`` line
with exit code 2, never as a traceback. SIGTERM and SIGHUP unwind like Ctrl-C (see
:func:`~odin_medical_ner_re.files.signals_cleanup`), so no temporary file outlives a killed
command; the exit code is then 128 + the signal number.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__
from .errors import EngineConnectionError, Terminated, UserInputError

#: Command modules, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "generate",
    "stats",
    "build",
    "evaluate",
    "benchmark",
    "transfer",
    "report",
    "augment",
    "llm_generate",
    "review",
    "train",
    "evaluate_model",
    "push",
    "predict",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="odin-ner-re",
        description="Synthetic medical NER/RE data, scoring and fine-tuning tools.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f".commands.{name}", __package__).register(subparsers)
    return parser


def add_passthrough_command(subparsers: Any, name: str, func: Callable[..., int], **kwargs: Any) -> Any:
    """A sub-command whose arguments, ``--help`` included, all go to ``func`` as ``args.argv``.

    For the recipes: their parser is TRL's, and building it imports transformers, which must
    wait until the backend is settled (Unsloth is imported before it) and which would slow every
    other command down. So the command parses its arguments itself when it runs.
    """
    parser = subparsers.add_parser(name, add_help=False, **kwargs)
    parser.set_defaults(func=func, passthrough=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "passthrough", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")  # what parse_args says
    args.argv = rest
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .files import signals_cleanup

    try:
        with signals_cleanup():
            return int(args.func(args) or 0)
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except EngineConnectionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Terminated as err:
        print(f"error: terminated by signal {err.signum}; partial outputs removed", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
