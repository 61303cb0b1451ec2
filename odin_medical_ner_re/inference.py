"""Batched greedy generation and the document-level ``predict`` built on it.

Greedy decoding without repetition penalty: a penalty would push the model away from
tokens it has already written, and an extraction answer repeats markers and labels by
design. Prompts are sorted by length so each left-padded batch wastes little compute.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import UserInputError
from .formats import ParseResult, build_prompt, parse_completion
from .schema import ENTITY_TYPES, RELATION_TYPES, Document


def generate_completions(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    batch_size: int = 16,
    max_new_tokens: int = 256,
    show_progress: bool = False,
    chat: bool | None = None,
) -> list[str]:
    """Greedy completions for ``prompts`` (in input order)."""
    import torch

    if chat is None:
        chat = bool(getattr(tokenizer, "chat_template", None))
    texts = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True
        )
        if chat
        else p
        for p in prompts
    ]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    outputs: list[str] = [""] * len(texts)
    padding_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    batches = range(0, len(order), batch_size)
    if show_progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="generating", unit="batch")
    was_training = model.training
    model.eval()
    try:
        for begin in batches:
            indices = order[begin : begin + batch_size]
            encoded = tokenizer(
                [texts[i] for i in indices], return_tensors="pt", padding=True, add_special_tokens=not chat
            ).to(model.device)
            with torch.inference_mode():
                generated = model.generate(
                    **encoded,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    repetition_penalty=1.0,
                    pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=tokenizer.eos_token_id,
                )
            new_tokens = generated[:, encoded["input_ids"].shape[1] :]
            for i, text in zip(
                indices, tokenizer.batch_decode(new_tokens, skip_special_tokens=True), strict=True
            ):
                outputs[i] = text
    finally:
        tokenizer.padding_side = padding_side
        if was_training:
            model.train()
    return outputs


def predict(
    model: Any,
    tokenizer: Any,
    documents: Sequence[Document],
    *,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
    batch_size: int = 16,
    max_new_tokens: int = 256,
    show_progress: bool = False,
) -> tuple[list[Document], list[ParseResult]]:
    """Predicted documents (same ids and texts, predicted annotations) and their parse details."""
    prompts = [build_prompt(doc.text, entity_types, relation_types) for doc in documents]
    completions = generate_completions(
        model,
        tokenizer,
        prompts,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        show_progress=show_progress,
    )
    parsed = [
        parse_completion(c, doc.text, entity_types, relation_types)
        for c, doc in zip(completions, documents, strict=True)
    ]
    predictions = [p.to_document(doc.id, doc.text) for p, doc in zip(parsed, documents, strict=True)]
    return predictions, parsed


def load_model(model_dir: str | Path, device: str | None = None) -> tuple[Any, Any]:
    """A trained output folder (full model or PEFT adapter) and its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = Path(model_dir)
    if not folder.is_dir():
        raise UserInputError(f"model folder {folder} does not exist")
    if not (folder / "config.json").is_file() and not (folder / "adapter_config.json").is_file():
        raise UserInputError(
            f"{folder} holds no config.json or adapter_config.json: not a trained model folder"
        )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if (folder / "adapter_config.json").is_file():
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(folder)
    else:
        model = AutoModelForCausalLM.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if device:
        model.to(device)
    return model, tokenizer


def predict_documents(
    model_dir: str | Path,
    documents: Sequence[Document | dict[str, Any]],
    label_names: tuple[Sequence[str], Sequence[str]] | None = None,
    *,
    batch_size: int = 16,
    max_new_tokens: int = 256,
) -> list[dict[str, Any]]:
    """Predictions as document dicts, for the benchmark CLI and other callers without a model object."""
    model, tokenizer = load_model(model_dir)
    docs = [d if isinstance(d, Document) else Document.from_dict(d) for d in documents]
    entity_types, relation_types = label_names or (ENTITY_TYPES, RELATION_TYPES)
    predictions, _ = predict(
        model,
        tokenizer,
        docs,
        entity_types=entity_types,
        relation_types=relation_types,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
    )
    return [p.to_dict() for p in predictions]
