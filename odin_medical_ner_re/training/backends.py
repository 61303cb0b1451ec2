"""Load the model and tokenizer for the chosen backend: Unsloth, or transformers + PEFT.

The backend is chosen in :mod:`.launch` (before transformers is imported, so Unsloth can be
imported first). Unsloth is used the way its documentation shows: ``FastLanguageModel.
from_pretrained`` then ``get_peft_model`` with ``use_gradient_checkpointing="unsloth"`` and a
``random_state``, and ``for_inference`` before generating. Any loading failure (a missing
download, a folder without a tokenizer, a CUDA or bitsandbytes problem, a bad LoRA target)
ends in one line that names the model and says what to do, never a traceback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserInputError
from . import launch
from .launch import TINY, select_backend
from .tiny import build_tiny_model, train_tokenizer

if TYPE_CHECKING:
    from .arguments import ModelArguments

logger = logging.getLogger("odin_medical_ner_re.training")

__all__ = ["TINY", "load_model_and_tokenizer", "peft_config", "select_backend", "unsloth_gradient_checkpointing"]

#: Files of which a tokenizer folder holds at least one.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else "no message"


def _load_error(name: str, err: Exception, what: str = "load model") -> UserInputError:
    """One line for a failure inside ``from_pretrained``: offline or missing files get the download hint."""
    if isinstance(err, OSError) and not Path(name).exists():
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        why = "HF_HUB_OFFLINE=1 is set" if offline else "the Hugging Face Hub could not be reached"
        return UserInputError(
            f"cannot load model {name!r}: it is not in the local cache and {why} "
            f"({type(err).__name__}). Download it first (`hf download {name}`) on a machine with network "
            "access, or set model_name_or_path to a local folder, or use recipes/configs/tiny-cpu.yaml"
        )
    return UserInputError(f"cannot {what} {name!r}: {type(err).__name__}: {_first_line(err)}")


def check_model_location(name: str) -> None:
    """A local folder must exist and hold a config and a tokenizer; a Hub id is checked when loaded."""
    path = Path(name).expanduser()
    looks_local = name.startswith(("/", ".", "~")) or path.exists()
    if not looks_local:
        return
    if not path.is_dir():
        raise UserInputError(f"model folder {name} does not exist")
    if not (path / "config.json").is_file():
        raise UserInputError(f"model folder {name} holds no config.json: not a saved transformers model")
    if not any((path / file).is_file() for file in TOKENIZER_FILES):
        raise UserInputError(
            f"model folder {name} has no tokenizer (none of {', '.join(TOKENIZER_FILES)}): "
            "save it there with tokenizer.save_pretrained(folder)"
        )


def load_model_and_tokenizer(
    args: ModelArguments,
    backend: str,
    tokenizer_texts: Any = None,
    extra_tokens: Sequence[str] = (),
    *,
    seed: int = 42,
    gradient_checkpointing: bool = False,
    trust_remote_code: bool = False,
) -> tuple[Any, Any]:
    """The model (PEFT-wrapped by Unsloth when it is the backend) and its tokenizer."""
    if args.model_name_or_path == TINY:
        if tokenizer_texts is None:
            raise UserInputError("the tiny model needs training texts to train its tokenizer")
        spec = args.tiny_spec()
        tokenizer = train_tokenizer(tokenizer_texts, spec.vocab_size, extra_tokens)
        return build_tiny_model(tokenizer, spec, seed=seed), tokenizer  # --seed draws the weights too
    check_model_location(str(args.model_name_or_path))
    if backend == "unsloth":
        return _load_unsloth(args, seed=seed, gradient_checkpointing=gradient_checkpointing)
    return _load_transformers(args, trust_remote_code=trust_remote_code)


def _torch_dtype(name: str | None) -> Any:
    """``ModelArguments.dtype`` as torch wants it; unset means bfloat16 on a GPU, float32 on CPU."""
    import torch

    if name is None:
        return torch.bfloat16 if launch.cuda_available() else torch.float32
    return name if name == "auto" else getattr(torch, name)


def _load_transformers(args: ModelArguments, *, trust_remote_code: bool = False) -> tuple[Any, Any]:
    import dataclasses

    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import get_quantization_config

    name = str(args.model_name_or_path)
    kwargs: dict[str, Any] = {
        "revision": args.model_revision,
        "dtype": _torch_dtype(args.dtype),
        "attn_implementation": args.attn_implementation,
        "trust_remote_code": trust_remote_code,
    }
    if args.load_in_4bit or args.load_in_8bit:
        if not launch.cuda_available():
            raise UserInputError(
                "load_in_4bit / load_in_8bit need a CUDA GPU (bitsandbytes); set them to false on this machine"
            )
        # bitsandbytes computes in the dtype the weights are loaded in
        compute = None if kwargs["dtype"] == "auto" else kwargs["dtype"]
        kwargs["quantization_config"] = get_quantization_config(dataclasses.replace(args, dtype=compute))
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}  # each rank's own GPU
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            name, revision=args.model_revision, trust_remote_code=trust_remote_code
        )
    except Exception as err:  # every failure ends in one line naming the model
        raise _load_error(name, err, "load the tokenizer of") from None
    try:
        model = AutoModelForCausalLM.from_pretrained(name, **kwargs)
    except Exception as err:
        raise _load_error(name, err) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def _unsloth_dtype(name: str | None) -> Any:
    """Unsloth's ``dtype``: None lets it pick (bfloat16 where supported, else float16)."""
    if name in (None, "auto"):
        return None
    import torch

    return getattr(torch, name)


def unsloth_gradient_checkpointing(training_args: Any) -> str | bool:
    """Turn the Trainer's checkpointing switch into Unsloth's, so checkpointing is set up once.

    Unsloth's own (``"unsloth"``, offloaded to CPU RAM) replaces the Trainer's when the
    config asks for checkpointing; the Trainer's switch is then turned off, or both would wrap
    the layers.
    """
    # transformers >= 5.25 names the switch activation_checkpointing; gradient_checkpointing mirrors it
    names = [n for n in ("activation_checkpointing", "gradient_checkpointing") if hasattr(training_args, n)]
    wanted = any(getattr(training_args, n) for n in names)
    for name in names:
        setattr(training_args, name, False)
    return "unsloth" if wanted else False


def _load_unsloth(args: ModelArguments, *, seed: int, gradient_checkpointing: str | bool) -> tuple[Any, Any]:
    """``FastLanguageModel.from_pretrained`` + ``get_peft_model``, per Unsloth's documented usage."""
    if not args.use_peft:
        raise UserInputError("backend unsloth trains LoRA adapters: set use_peft: true (or backend: transformers)")
    unsloth = launch.import_unsloth()  # already imported by recipes/train.py before transformers
    fast = unsloth.FastLanguageModel
    name = str(args.model_name_or_path)
    try:
        model, tokenizer = fast.from_pretrained(
            model_name=name,
            max_seq_length=args.max_seq_length,
            dtype=_unsloth_dtype(args.dtype),
            load_in_4bit=args.load_in_4bit,
        )
    except Exception as err:  # OSError offline, RuntimeError CUDA, ImportError bitsandbytes...: one line each
        raise _load_error(name, err) from None
    target = args.lora_target_modules
    try:
        model = fast.get_peft_model(
            model,
            r=args.lora_r,
            target_modules=[target] if isinstance(target, str) else target,
            lora_alpha=args.lora_alpha,
            lora_dropout=args.lora_dropout,
            bias="none",
            use_gradient_checkpointing=gradient_checkpointing,
            random_state=seed,
            use_rslora=args.use_rslora,
        )
    except Exception as err:
        raise _load_error(name, err, "add LoRA adapters to") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def peft_config(args: ModelArguments, backend: str) -> Any:
    """TRL's LoRA config for SFTTrainer, or None (full fine-tuning, or Unsloth already wrapped it)."""
    if backend == "unsloth":
        return None
    from trl import get_peft_config

    return get_peft_config(args)


def for_inference(model: Any, backend: str) -> None:
    """Unsloth's fast generation mode (its docs: call before ``generate``); nothing for transformers."""
    if backend == "unsloth":
        launch.import_unsloth().FastLanguageModel.for_inference(model)


def for_training(model: Any, backend: str) -> None:
    """Back to training mode after an evaluation that generated (Unsloth only)."""
    if backend == "unsloth":
        launch.import_unsloth().FastLanguageModel.for_training(model)
