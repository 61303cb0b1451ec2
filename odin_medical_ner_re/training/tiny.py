"""The embedded default model: a small Llama initialised from scratch, with its own tokenizer.

There is no network here, so nothing can be downloaded; a byte-level BPE tokenizer is
trained on the training split. Byte-level means any text, including names never seen
in training, tokenizes without unknown tokens, which the copy-and-tag completion of
:mod:`~odin_medical_ner_re.formats` relies on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


#: The smallest shape that still learns the tag format in a few steps: for tests and smoke runs
#: that need a real model in seconds, not for scores.
SMOKE_SPEC = TinyModelSpec(
    hidden_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=2048,
    vocab_size=400,
)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2048, extra_tokens: Sequence[str] = ()):
    """A byte-level BPE tokenizer trained on ``texts``; ``extra_tokens`` (the format's tags) stay whole."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
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
    fast.add_tokens(list(extra_tokens))
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
