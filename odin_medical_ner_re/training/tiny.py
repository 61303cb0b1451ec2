"""The embedded default model: a small Llama initialised from scratch, with its own tokenizer.

There is no network here, so nothing can be downloaded; a byte-level BPE tokenizer is
trained on the training split, and the token markers of :mod:`~odin_medical_ner_re.formats`
(``@1`` ... ``@N``) are added as single tokens so pointing at token *k* is one
prediction, not a sequence of digits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..formats import MARKER

SPECIAL_TOKENS = {
    "bos_token": "<|bos|>",
    "eos_token": "<|eos|>",
    "pad_token": "<|pad|>",
    "unk_token": "<|unk|>",
}


@dataclass
class TinyModelSpec:
    """Shape of the from-scratch model (defaults: ~4M parameters, trains on 2 CPU cores)."""

    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    max_position_embeddings: int = 2048
    vocab_size: int = 2048
    max_markers: int = 1024


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2048, max_markers: int = 1024):
    """A byte-level BPE tokenizer trained on ``texts`` with ``@1..@max_markers`` as atomic tokens."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token=None))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, **SPECIAL_TOKENS)
    # lstrip: " @12" is one token, so a marker costs one position, not two.
    fast.add_tokens([AddedToken(f"{MARKER}{i}", lstrip=True) for i in range(max_markers, 0, -1)])
    fast.model_max_length = 4096
    return fast


def build_tiny_model(tokenizer, spec: TinyModelSpec, seed: int = 0):
    """A randomly initialised ``LlamaForCausalLM`` sized by ``spec`` for ``tokenizer``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_attention_heads,
        max_position_embeddings=spec.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        rope_theta=10_000.0,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)
