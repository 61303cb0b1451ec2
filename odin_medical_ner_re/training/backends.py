"""Pick and load the training backend: Unsloth on a GPU when installed, else transformers + PEFT.

The choice is made at run time and logged with its reason, so the same config runs on a
laptop and on a GPU box. Anything that needs a download or a GPU fails with one line
that says what to install or fetch, never a traceback.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import UserInputError
from .tiny import TinyModelSpec, build_tiny_model, train_tokenizer

logger = logging.getLogger(__name__)

TINY = "tiny"


@dataclass
class ModelArguments:
    """The model to train and how (see ``recipes/configs/*.yaml``)."""

    model_name_or_path: str = TINY
    backend: str = "auto"  # auto | unsloth | transformers
    use_peft: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    load_in_4bit: bool = False
    max_seq_length: int = 2048
    tiny_hidden_size: int = 256
    tiny_num_layers: int = 4
    tiny_num_heads: int = 4
    tiny_intermediate_size: int = 1024
    tiny_vocab_size: int = 2048

    def tiny_spec(self) -> TinyModelSpec:
        return TinyModelSpec(
            hidden_size=self.tiny_hidden_size,
            num_hidden_layers=self.tiny_num_layers,
            num_attention_heads=self.tiny_num_heads,
            intermediate_size=self.tiny_intermediate_size,
            max_position_embeddings=max(self.max_seq_length, 512),
            vocab_size=self.tiny_vocab_size,
        )


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def unsloth_installed() -> bool:
    return importlib.util.find_spec("unsloth") is not None


def select_backend(
    requested: str, *, has_unsloth: bool | None = None, has_gpu: bool | None = None
) -> tuple[str, str]:
    """(backend, reason). ``requested`` is ``auto``, ``unsloth`` or ``transformers``."""
    has_unsloth = unsloth_installed() if has_unsloth is None else has_unsloth
    has_gpu = cuda_available() if has_gpu is None else has_gpu
    if requested not in ("auto", "unsloth", "transformers"):
        raise UserInputError(f"unknown backend {requested!r}: use auto, unsloth or transformers")
    if requested == "transformers":
        return "transformers", "requested in the config"
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


def _offline_error(name: str, err: Exception) -> UserInputError:
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    why = "HF_HUB_OFFLINE=1 is set" if offline else "the Hugging Face Hub could not be reached"
    return UserInputError(
        f"cannot load model {name!r}: it is not in the local cache and {why} "
        f"({type(err).__name__}). Download it first (`hf download {name}`) on a machine with network "
        "access, or set model_name_or_path to a local folder, or use recipes/configs/tiny-cpu.yaml"
    )


def load_model_and_tokenizer(
    args: ModelArguments, backend: str, tokenizer_texts: Any = None, extra_tokens: Sequence[str] = ()
) -> tuple[Any, Any]:
    """The model (PEFT-wrapped if asked) and tokenizer for ``args`` on ``backend``."""
    if args.model_name_or_path == TINY:
        if tokenizer_texts is None:
            raise UserInputError("the tiny model needs training texts to train its tokenizer")
        spec = args.tiny_spec()
        tokenizer = train_tokenizer(tokenizer_texts, spec.vocab_size, extra_tokens)
        return build_tiny_model(tokenizer, spec), tokenizer
    if backend == "unsloth":
        return _load_unsloth(args)
    return _load_transformers(args)


def _load_transformers(args: ModelArguments) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name = args.model_name_or_path
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if cuda_available() else torch.float32}
        if args.load_in_4bit:
            if not cuda_available():
                raise UserInputError("load_in_4bit needs a CUDA GPU (bitsandbytes); set load_in_4bit: false")
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16
            )
        model = AutoModelForCausalLM.from_pretrained(name, **kwargs)
    except UserInputError:
        raise
    except OSError as err:
        raise _offline_error(name, err) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def _load_unsloth(args: ModelArguments) -> tuple[Any, Any]:  # pragma: no cover - needs a GPU
    from unsloth import FastLanguageModel

    try:
        model, tokenizer = FastLanguageModel.from_pretrained(
            model_name=args.model_name_or_path,
            max_seq_length=args.max_seq_length,
            load_in_4bit=args.load_in_4bit,
        )
    except OSError as err:
        raise _offline_error(args.model_name_or_path, err) from None
    model = FastLanguageModel.get_peft_model(
        model,
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=args.lora_target_modules,
        use_gradient_checkpointing="unsloth",
    )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def peft_config(args: ModelArguments, backend: str) -> Any:
    """A LoRA config for SFTTrainer, or None (full fine-tuning, or Unsloth already wrapped it)."""
    if not args.use_peft or backend == "unsloth":
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=args.lora_target_modules,
        task_type="CAUSAL_LM",
    )
