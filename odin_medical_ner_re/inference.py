"""Batched greedy generation and the document-level ``predict`` built on it.

Greedy decoding without repetition penalty: a penalty would push the model away from
tokens it has already written, and an extraction answer repeats words and tags by
design. Documents are sorted by length so each left-padded batch wastes little compute.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import UserInputError
from .formats import (
    END,
    LINE_BREAKS,
    LOOKAHEAD,
    MAX_POINTER,
    OUTSIDE,
    ParseResult,
    begin_tag,
    build_prompt,
    inside_tag,
    parse_completion,
    pointer_tag,
    relation_tag,
    render_chunks,
    shifted_chunks,
    tag_vocabulary,
    written_words,
)
from .schema import ENTITY_TYPES, RELATION_TYPES, VALID_RELATION_ARGUMENTS, Document


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


def tag_token_ids(tokenizer: Any, entity_types: Sequence[str], relation_types: Sequence[str]) -> dict[str, int] | None:
    """Tag string -> token id when every tag of the format is one token (the tiny default), else None."""
    ids = {}
    for tag in tag_vocabulary(entity_types, relation_types):
        token_id = tokenizer.convert_tokens_to_ids(tag)
        if token_id is None or token_id == tokenizer.unk_token_id:
            return None
        ids[tag] = token_id
    return ids


def partner_types(
    relation: str, role: str, entity_type: str, table: Sequence[tuple[str, str, str]] = VALID_RELATION_ARGUMENTS
) -> set[str] | None:
    """Types the other argument may have, or None (anything) for a relation the table does not know.

    ``role`` is the tagged entity's: ``h`` (it is the head, the partner is a tail) or ``t``.
    """
    rows = [row for row in table if row[0] == relation]
    if not rows:
        return None
    return {tail if role == "h" else head for _, head, tail in rows if (head if role == "h" else tail) == entity_type}


class _TagDecoder:
    """The grammar of the tag format for one document: words are forced, tags are chosen.

    ``next_input`` returns a forced token, or None when the model must choose; then
    ``allowed`` lists the ids it may choose among and ``accept`` records the choice.
    Chunk ``j`` is word ``j``'s tokens then the tags of word ``j - lookahead``; a
    relation may only be opened where an earlier entity of a type it accepts exists
    (per :data:`VALID_RELATION_ARGUMENTS`), and may only point at such an entity.
    """

    def __init__(self, words: list[list[int]], ids: dict[str, int], entity_types: Sequence[str],
                 relation_types: Sequence[str], lookahead: int = LOOKAHEAD, max_relations: int = 8) -> None:
        self.words, self.ids, self.lookahead, self.max_relations = words, ids, lookahead, max_relations
        self.chunk, self.piece, self.relations_here = 0, 0, 0
        self.total = len(words) + lookahead if words else 0
        self.open_type: str | None = None
        self.relation: tuple[str, str] | None = None
        self.types: list[str] = []  # entity types in the order opened
        self.groups: list[list[str]] = []  # chosen tags, one list per word
        self.by_id = {v: k for k, v in ids.items()}
        self.begin = [ids[begin_tag(t)] for t in entity_types]
        self.inside = {t: ids[inside_tag(t)] for t in entity_types}
        self.relations = [(r, role, ids[relation_tag(r, role)]) for r in relation_types for role in ("h", "t")]
        self.state = "done"
        self._enter_chunk()

    def _enter_chunk(self) -> None:
        while self.chunk < self.total:
            if self.chunk < len(self.words):
                self.state, self.piece = "word", 0
                return
            if self.chunk >= self.lookahead:
                self._start_tags()
                return
            self.chunk += 1
        self.state = "done"

    def _start_tags(self) -> None:
        self.state = "tag"
        self.groups.append([])

    def _next_chunk(self) -> None:
        self.chunk += 1
        self._enter_chunk()

    def next_input(self) -> int | None:
        if self.state != "word":
            return None
        token = self.words[self.chunk][self.piece]
        self.piece += 1
        if self.piece == len(self.words[self.chunk]):
            if self.chunk >= self.lookahead:
                self._start_tags()
            else:
                self._next_chunk()
        return token

    def _targets(self, relation: str, role: str) -> list[int]:
        """Entities back (1 = previous) that ``relation`` in ``role`` may point at from the open entity."""
        current = self.types[-1]
        partners = partner_types(relation, role, current)
        earlier = self.types[-1 - MAX_POINTER : -1][::-1]
        return [k for k, kind in enumerate(earlier, start=1) if partners is None or kind in partners]

    def allowed(self) -> list[int]:
        if self.state == "tag":
            options = [self.ids[OUTSIDE], *self.begin]
            if self.open_type is not None:
                options.append(self.inside[self.open_type])
            return options
        if self.state == "relations":
            options = [self.ids[END]]
            if self.relations_here < self.max_relations:
                options += [token for r, role, token in self.relations if self._targets(r, role)]
            return options
        relation, role = self.relation or ("", "")
        return [self.ids[pointer_tag(k)] for k in self._targets(relation, role)]

    def accept(self, token: int) -> None:
        tag = self.by_id[token]
        self.groups[-1].append(tag)
        if self.state == "tag":
            if tag.startswith("<B-"):
                self.open_type = tag[3:-1]
                self.types.append(self.open_type)
                self.state, self.relations_here = "relations", 0
                return
            self.open_type = self.open_type if tag.startswith("<I-") else None
            self._next_chunk()
        elif self.state == "relations":
            if tag == END:
                self._next_chunk()
            else:
                self.relation = (tag[3:-1], tag[1])
                self.state = "target"
        else:
            self.relations_here += 1
            self.state = "relations"


def decode_tags(
    model: Any,
    tokenizer: Any,
    documents: Sequence[Document],
    ids: dict[str, int],
    entity_types: Sequence[str],
    relation_types: Sequence[str],
    *,
    batch_size: int = 16,
    with_text: bool = False,
    lookahead: int = LOOKAHEAD,
    line_breaks: bool = LINE_BREAKS,
    show_progress: bool = False,
) -> list[str]:
    """Completions written with the words forced and only the tags chosen (greedy, grammar-constrained).

    A plain Llama (the tiny default) is decoded by :func:`.tag_decoding.decode_tags_fast`,
    one step per tag decision on a static cache; any other model (a PEFT wrapper, another
    architecture) token by token through ``model(...)`` (:func:`decode_tags_stepwise`).
    Both make the same choices.
    """
    from .static_llama import unsupported

    decoder = decode_tags_stepwise
    if unsupported(model) is None:
        from .tag_decoding import decode_tags_fast

        decoder = decode_tags_fast
    return decoder(
        model, tokenizer, documents, ids, entity_types, relation_types, batch_size=batch_size,
        with_text=with_text, lookahead=lookahead, line_breaks=line_breaks, show_progress=show_progress,
    )


def decode_tags_stepwise(
    model: Any,
    tokenizer: Any,
    documents: Sequence[Document],
    ids: dict[str, int],
    entity_types: Sequence[str],
    relation_types: Sequence[str],
    *,
    batch_size: int = 16,
    with_text: bool = False,
    lookahead: int = LOOKAHEAD,
    line_breaks: bool = LINE_BREAKS,
    show_progress: bool = False,
) -> list[str]:
    """:func:`decode_tags` token by token through ``model(...)``: any causal LM, and the reference for the fast path.

    All documents of a batch advance one token per forward pass with transformers' KV
    cache; a document whose words are done feeds padding until the batch ends.
    """

    outputs: list[str] = [""] * len(documents)
    order = sorted(range(len(documents)), key=lambda i: len(documents[i].text), reverse=True)
    batches = range(0, len(order), batch_size)
    if show_progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="tagging", unit="batch")
    was_training = model.training
    model.eval()
    try:
        for begin in batches:
            chunk = [documents[i] for i in order[begin : begin + batch_size]]
            for i, text in zip(order[begin : begin + batch_size], _decode_batch(
                model, tokenizer, chunk, ids, entity_types, relation_types, with_text, lookahead, line_breaks
            ), strict=True):
                outputs[i] = text
    finally:
        if was_training:
            model.train()
    return outputs


def _cache_field(output: Any) -> str:
    """``cache`` in recent transformers' outputs (and forward keyword), ``past_key_values`` before."""
    return "cache" if "cache" in getattr(output, "__dataclass_fields__", {}) else "past_key_values"


def _decode_batch(model: Any, tokenizer: Any, docs: Sequence[Document], ids: dict[str, int],
                  entity_types: Sequence[str], relation_types: Sequence[str], with_text: bool,
                  lookahead: int, line_breaks: bool) -> list[str]:
    import torch

    device = model.device
    prompts = [tokenizer(build_prompt(d.text, entity_types, relation_types, with_text=with_text, lookahead=lookahead),
                         add_special_tokens=False)["input_ids"] for d in docs]
    written = [written_words(doc.text, line_breaks) for doc in docs]  # words, and what comes before each
    decoders = []
    for words, before in written:
        pieces = [tokenizer(before[i] + w, add_special_tokens=False)["input_ids"] for i, w in enumerate(words)]
        decoders.append(_TagDecoder(pieces, ids, entity_types, relation_types, lookahead))
    pad = tokenizer.pad_token_id
    width = max(len(p) for p in prompts)
    input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode():
        out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True)
        cache_field = _cache_field(out)
        while any(d.state != "done" for d in decoders):
            logits = out.logits[:, -1]
            step = []
            for row, decoder in enumerate(decoders):
                token = decoder.next_input() if decoder.state != "done" else pad
                if token is None:
                    allowed = decoder.allowed()
                    token = allowed[int(logits[row, allowed].argmax())]
                    decoder.accept(token)
                step.append(token)
            step_ids = torch.tensor(step, device=device)[:, None]
            mask = torch.cat([mask, torch.ones_like(step_ids)], dim=1)
            positions = positions[:, -1:] + 1
            out = model(input_ids=step_ids, attention_mask=mask, position_ids=positions,
                        use_cache=True, **{cache_field: getattr(out, cache_field)})
    return [
        render_chunks(shifted_chunks(words, decoder.groups, lookahead), before)
        for (words, before), decoder in zip(written, decoders, strict=True)
    ]


def predict(
    model: Any,
    tokenizer: Any,
    documents: Sequence[Document],
    *,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
    batch_size: int = 16,
    max_new_tokens: int = 1024,
    show_progress: bool = False,
    lookahead: int | None = None,
    line_breaks: bool | None = None,
) -> tuple[list[Document], list[ParseResult]]:
    """Predicted documents (same ids and texts, predicted annotations) and their parse details.

    A tokenizer with one token per tag (the tiny default) is decoded with the words
    forced; any other model generates the whole answer freely. ``lookahead`` and
    ``line_breaks`` default to what the model was trained with (:func:`model_lookahead`,
    :func:`model_line_breaks`).
    """
    lookahead = model_lookahead(model) if lookahead is None else lookahead
    line_breaks = model_line_breaks(model) if line_breaks is None else line_breaks
    ids = tag_token_ids(tokenizer, entity_types, relation_types)
    if ids is not None:
        completions = decode_tags(
            model, tokenizer, documents, ids, entity_types, relation_types, batch_size=batch_size,
            lookahead=lookahead, line_breaks=line_breaks, show_progress=show_progress,
        )
    else:
        prompts = [build_prompt(doc.text, entity_types, relation_types, lookahead=lookahead) for doc in documents]
        completions = generate_completions(
            model, tokenizer, prompts, batch_size=batch_size, max_new_tokens=max_new_tokens,
            show_progress=show_progress,
        )
    parsed = [
        parse_completion(c, doc.text, entity_types, relation_types, lookahead=lookahead)
        for c, doc in zip(completions, documents, strict=True)
    ]
    predictions = [p.to_document(doc.id, doc.text) for p, doc in zip(parsed, documents, strict=True)]
    return predictions, parsed


#: Name of the model-config attribute that records the tag lookahead a model was trained with.
LOOKAHEAD_ATTRIBUTE = "odin_tag_lookahead"


def model_lookahead(model: Any) -> int:
    """The lookahead saved in the model's config at training time, else the format's default."""
    value = getattr(getattr(model, "config", None), LOOKAHEAD_ATTRIBUTE, None)
    return int(value) if isinstance(value, int) else LOOKAHEAD


#: Name of the model-config attribute that records whether a model was trained with line breaks marked.
LINE_BREAKS_ATTRIBUTE = "odin_tag_line_breaks"


def model_line_breaks(model: Any) -> bool:
    """Whether the model was trained with the note's line breaks in its completions.

    False when its config does not say: models saved before the marks existed read
    every word after a plain space.
    """
    value = getattr(getattr(model, "config", None), LINE_BREAKS_ATTRIBUTE, None)
    return value if isinstance(value, bool) else False


def check_model_dir(model_dir: str | os.PathLike[str]) -> str:
    """The model folder's absolute path, if it holds a model (checked before any worker starts)."""
    folder = Path(model_dir)
    if not folder.is_dir():
        raise UserInputError(f"model folder {folder} does not exist")
    if not (folder / "config.json").is_file() and not (folder / "adapter_config.json").is_file():
        raise UserInputError(
            f"{folder} holds no config.json or adapter_config.json: not a trained model folder"
        )
    return str(folder.resolve())


def load_model(model_dir: str | Path, device: str | None = None) -> tuple[Any, Any]:
    """A trained output folder (full model or PEFT adapter) and its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = Path(check_model_dir(model_dir))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if (folder / "adapter_config.json").is_file():
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(folder)
        # the base model comes from its own folder or the Hub; the recipe saves the trained
        # config (with the tag lookahead) beside the adapter
        saved = folder / "config.json"
        if saved.is_file():
            import json

            lookahead = json.loads(saved.read_text(encoding="utf-8")).get(LOOKAHEAD_ATTRIBUTE)
            if isinstance(lookahead, int):
                setattr(model.config, LOOKAHEAD_ATTRIBUTE, lookahead)
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
    show_progress: bool = False,
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
        show_progress=show_progress,
    )
    return [p.to_dict() for p in predictions]
