"""What a recipe must settle before ``torch``, ``transformers``, ``trl`` or ``peft`` are imported.

Two things cannot wait for the full argument parser, because that parser imports TRL
(and with it transformers and peft):

* **Unsloth patches transformers, TRL and PEFT when it is imported**, and its
  documentation requires ``import unsloth`` before any of them. So the backend is decided
  here, from the raw command line and the YAML file alone, and Unsloth is imported at once
  when it will be used.
* **Threads per process.** Several CPU processes on one machine (``accelerate launch`` with
  ``recipes/accelerate/cpu-ddp.yaml``) each default to one thread per core, and together
  they oversubscribe the cores (issue 15 measured 214 s per step on 2 cores; with one
  thread each the whole run took 43 s). ``OMP_NUM_THREADS`` is best set before torch starts.

Nothing here imports more than ``yaml`` until the thread count is set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserInputError

logger = logging.getLogger("odin_medical_ner_re.training")

TINY = "tiny"
BACKENDS = ("auto", "unsloth", "transformers")


def flag_value(argv: Sequence[str], flag: str) -> str | None:
    """The last value given to ``flag`` (``--flag value`` or ``--flag=value``), else None."""
    value = None
    for index, item in enumerate(argv):
        if item == flag and index + 1 < len(argv):
            value = argv[index + 1]
        elif item.startswith(flag + "="):
            value = item.split("=", 1)[1]
    return value


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The YAML mapping of a recipe config, or one error naming the file (and line) at fault."""
    import yaml

    file = Path(path)
    if not file.is_file():
        raise UserInputError(f"config file {file} does not exist" if not file.exists() else f"{file} is not a file")
    try:
        config = yaml.safe_load(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserInputError(f"config file {file} is not UTF-8 text") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise UserInputError(f"config file {file}{where}: not valid YAML ({problem})") from None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise UserInputError(
            f"config file {file} must be a YAML mapping of `field: value` lines, not a {type(config).__name__}"
        )
    return config


def config_from_argv(argv: Sequence[str]) -> tuple[str | None, dict[str, Any]]:
    """(path, mapping) of the ``--config`` file named in ``argv``; (None, {}) when there is none."""
    for index, item in enumerate(argv):
        if item == "--config" and (index + 1 == len(argv) or argv[index + 1].startswith("--")):
            raise UserInputError("--config needs a file path")
    path = flag_value(argv, "--config")
    return (path, read_config(path)) if path else (None, {})


def setting(argv: Sequence[str], config: dict[str, Any], name: str, default: Any) -> Any:
    """A setting as the full parser will see it: the command line wins over the YAML file."""
    value = flag_value(argv, f"--{name}")
    return value if value is not None else config.get(name, default)


# --------------------------------------------------------------------------- threads


def process_count() -> int:
    """Processes of this job on this machine (1 outside a distributed launch)."""
    for name in ("LOCAL_WORLD_SIZE", "WORLD_SIZE"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def on_cpu_launch() -> bool:
    """True when the ranks run on the CPU: accelerate's ``use_cpu``, or no CUDA GPU at all."""
    if os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes"):
        return True
    return not cuda_available()


def threads_per_process(processes: int, cores: int, requested: str | None) -> int:
    """Threads for each of ``processes`` CPU processes sharing ``cores``: never more than its share."""
    share = max(1, cores // max(1, processes))
    if requested and requested.isdigit() and int(requested) > 0:
        return min(int(requested), share)
    return share


def set_cpu_threads() -> int | None:
    """Cap each process's threads under a multi-process CPU launch; the count set, else None.

    ``OMP_NUM_THREADS`` is set for torch to read when it starts; if torch is already
    loaded (a caller imported it first) ``torch.set_num_threads`` applies the same cap.
    """
    processes = process_count()
    if processes < 2 or not on_cpu_launch():
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = threads_per_process(processes, cores, os.environ.get("OMP_NUM_THREADS"))
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    logger.warning("%d CPU processes on %d cores: %d thread(s) each", processes, cores, threads)
    return threads


# --------------------------------------------------------------------------- backend


@dataclass(frozen=True)
class BackendChoice:
    """The backend a run uses and why (logged, and saved in ``odin_training.json``)."""

    name: str
    reason: str


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def unsloth_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("unsloth") is not None


def select_backend(
    requested: str, *, has_unsloth: bool | None = None, has_gpu: bool | None = None
) -> tuple[str, str]:
    """(backend, reason). ``requested`` is ``auto``, ``unsloth`` or ``transformers``."""
    if requested not in BACKENDS:
        raise UserInputError(f"unknown backend {requested!r}: use auto, unsloth or transformers")
    if requested == "transformers":
        return "transformers", "requested in the config"
    has_unsloth = unsloth_installed() if has_unsloth is None else has_unsloth
    has_gpu = cuda_available() if has_gpu is None else has_gpu
    if requested == "unsloth":
        if not has_unsloth:
            raise UserInputError(
                "this config needs Unsloth, which is not installed: run `pip install '.[unsloth]'` on a machine "
                "with a CUDA GPU, or use recipes/configs/llama-3.2-1b-peft.yaml"
            )
        if not has_gpu:
            raise UserInputError(
                "this config needs Unsloth, which needs a CUDA GPU, and none is visible: "
                "use recipes/configs/llama-3.2-1b-peft.yaml or tiny-cpu.yaml on this machine"
            )
        return "unsloth", "requested in the config; Unsloth and a CUDA GPU are present"
    if has_unsloth and has_gpu:
        return "unsloth", "auto: Unsloth is installed and a CUDA GPU is present"
    missing = "no CUDA GPU" if not has_gpu else "Unsloth not installed"
    return "transformers", f"auto: {missing}, using transformers + PEFT"


def choose_backend(requested: str, model_name_or_path: str) -> BackendChoice:
    """The backend for this model: the tiny model is always built with plain transformers."""
    if model_name_or_path == TINY:
        if requested not in BACKENDS:
            select_backend(requested)  # the same error for a misspelt name
        if requested == "unsloth":
            raise UserInputError("backend: unsloth needs a pretrained model_name_or_path, not the tiny model")
        return BackendChoice("transformers", "the tiny model is built and trained with plain transformers")
    return BackendChoice(*select_backend(requested))


def import_unsloth() -> Any:
    """``import unsloth``, warning when transformers, trl or peft were imported first."""
    import sys

    early = [name for name in ("transformers", "trl", "peft") if name in sys.modules and "unsloth" not in sys.modules]
    if early:
        logger.warning(
            "unsloth imported after %s: its patches may not apply; launch through recipes/train.py, which "
            "imports it first", ", ".join(early),
        )
    try:
        import unsloth
    except Exception as err:  # an ImportError, a CUDA or version check: all end the run the same way
        raise UserInputError(f"importing unsloth failed: {type(err).__name__}: {_first_line(err)}") from None
    return unsloth


def prepare(argv: Sequence[str]) -> BackendChoice:
    """Settle threads and the backend from the raw command line, importing Unsloth first if used."""
    set_cpu_threads()
    _, config = config_from_argv(argv)
    requested = str(setting(argv, config, "backend", "auto"))
    model = str(setting(argv, config, "model_name_or_path", TINY))
    choice = choose_backend(requested, model)
    if choice.name == "unsloth":
        import_unsloth()
    return choice


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else "no message"
