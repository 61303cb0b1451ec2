"""The tiny Llama's forward pass for decoding only: a static per-slot KV cache and ragged steps.

Why not ``model(...)`` with transformers' cache. The forced-word decoder
(:mod:`.tag_decoding`) feeds each document a different number of tokens per step (a
word's pieces plus the tag chosen before them), keeps a fixed set of slots busy by
putting a new document in a slot as soon as one finishes, and needs logits only at the
positions where a tag is chosen, and only for the tag tokens. transformers' dynamic cache
concatenates every layer's keys and values at each step (quadratic copying), the module
stack costs milliseconds of Python per call, and the language-model head and the last
layer's MLP are computed for every token. Here the cache is preallocated, a step
processes the packed tokens of all slots at once, the last layer runs its attention and
MLP only where a decision is read, and the head multiplies by the tag rows only.

The arithmetic is the Llama's own (the same RMSNorm, rotary tables, SDPA and SiLU
MLP, in float32), so the decisions are those of ``model(...)``; batching changes the
order of floating-point sums in the last bits, as transformers' batching does.
:func:`unsupported` names what this module does not reproduce (any other architecture,
PEFT wrappers, rope scaling, biases, another dtype); the decoder then falls back to
``model(...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def unsupported(model: Any) -> str | None:
    """Why ``model`` cannot run here, or None when it can (a plain float32 ``LlamaForCausalLM``)."""
    import torch

    if type(model).__name__ != "LlamaForCausalLM":
        return f"{type(model).__name__} is not a plain LlamaForCausalLM"
    config = model.config
    rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    checks = {
        "hidden_act is not silu": config.hidden_act != "silu",
        "attention or MLP biases": bool(getattr(config, "attention_bias", False) or getattr(config, "mlp_bias", False)),
        "rope scaling": (rope.get("rope_type") or rope.get("type") or "default") != "default",
        "pretraining_tp > 1": getattr(config, "pretraining_tp", 1) != 1,
        "grouped-query attention": config.num_key_value_heads != config.num_attention_heads,
        "weights not float32": model.lm_head.weight.dtype != torch.float32,
    }
    reasons = [reason for reason, failed in checks.items() if failed]
    return ", ".join(reasons) or None


@dataclass
class _Layer:
    norm1: Any
    qkv: Any  # [3 * hidden, hidden]: q, k and v projections stacked, one matrix product
    out: Any
    norm2: Any
    gate_up: Any  # [2 * intermediate, hidden]
    down: Any


class StaticLlama:
    """Decoding steps over ``slots`` sequences that share one preallocated cache.

    Each slot holds one sequence from position 0; a step writes the keys and values of
    its tokens at their positions, and a query at position ``p`` of a slot attends to
    that slot's positions ``0..p`` only, so whatever a slot held before (an earlier
    document, or nothing) is never read.
    """

    def __init__(self, model: Any, slots: int, tag_ids: Sequence[int], capacity: int = 512) -> None:
        import torch

        reason = unsupported(model)
        if reason:
            raise ValueError(f"StaticLlama cannot run this model: {reason}")
        config = model.config
        inner = model.model
        self.slots, self.heads = slots, config.num_attention_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.embed = inner.embed_tokens.weight.detach()
        self.device, self.dtype = self.embed.device, self.embed.dtype
        self.layers = [
            _Layer(
                layer.input_layernorm,
                torch.cat([layer.self_attn.q_proj.weight, layer.self_attn.k_proj.weight,
                           layer.self_attn.v_proj.weight]).detach(),
                layer.self_attn.o_proj.weight.detach(),
                layer.post_attention_layernorm,
                torch.cat([layer.mlp.gate_proj.weight, layer.mlp.up_proj.weight]).detach(),
                layer.mlp.down_proj.weight.detach(),
            )
            for layer in inner.layers[: config.num_hidden_layers]
        ]
        self.final_norm = inner.norm
        self.tag_head = model.lm_head.weight.detach()[list(tag_ids)]
        self.inv_freq = inner.rotary_emb.inv_freq.detach().float()
        self.capacity = 0
        self._grow(capacity)

    # ------------------------------------------------------------------ cache

    def _grow(self, capacity: int) -> None:
        """(Re)allocate the cache and the rotary tables for positions ``0..capacity - 1``, keeping what is cached."""
        import torch

        shape = (len(self.layers), self.slots, self.heads, capacity, self.head_dim)
        keys = torch.zeros(shape, dtype=self.dtype, device=self.device)
        values = torch.zeros_like(keys)
        if self.capacity:
            keys[..., : self.capacity, :] = self.keys
            values[..., : self.capacity, :] = self.values
        self.keys, self.values, self.capacity = keys, values, capacity
        # as LlamaRotaryEmbedding computes them, position by position (default rope: scaling 1.0)
        freqs = torch.arange(capacity, device=self.device).float()[:, None] * self.inv_freq.to(self.device)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.cos, self.sin = emb.cos().to(self.dtype), emb.sin().to(self.dtype)

    def reserve(self, length: int) -> None:
        """Make room for positions up to ``length - 1`` (doubling, so growth is rare)."""
        if length > self.capacity:
            self._grow(max(length, 2 * self.capacity))

    def copy_prefix(self, source: StaticLlama, source_slot: int, slot: int, length: int) -> None:
        """Positions ``0..length - 1`` of ``source``'s slot into this cache's ``slot`` (a shared prompt)."""
        self.reserve(length)
        self.keys[:, slot, :, :length] = source.keys[:, source_slot, :, :length]
        self.values[:, slot, :, :length] = source.values[:, source_slot, :, :length]

    # ------------------------------------------------------------------ forward

    @staticmethod
    def _rotate(x: Any, cos: Any, sin: Any) -> Any:
        import torch

        half = x.shape[-1] // 2
        return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin

    def _attend(self, layer: int, queries: Any, slot: Any, column: Any, query_positions: Any, width: int,
                length: int) -> Any:
        """SDPA of ragged queries ([n, heads, dim], at ``(slot, column)``) over their slots' cached keys."""
        import torch
        import torch.nn.functional as F

        padded = torch.zeros((self.slots, width, self.heads, self.head_dim), dtype=self.dtype, device=self.device)
        padded[slot, column] = queries
        keys = self.keys[layer, :, :, :length]
        values = self.values[layer, :, :, :length]
        visible = torch.arange(length, device=self.device)[None, None, None, :] <= query_positions[:, None, :, None]
        out = F.scaled_dot_product_attention(padded.transpose(1, 2), keys, values, attn_mask=visible)
        return out.transpose(1, 2)[slot, column].reshape(len(slot), self.heads * self.head_dim)

    def step(self, tokens: Any, slot: Any, position: Any, column: Any, decide: Any, decide_column: Any) -> Any:
        """Feed packed tokens; return the tag logits ([len(decide), tags]) at the tokens indexed by ``decide``.

        ``tokens``, ``slot``, ``position`` and ``column`` (the token's index within its
        slot's run this step) are 1-D tensors of one length; a slot's run covers
        consecutive positions. ``decide_column`` numbers the decided tokens within their slot.
        """
        import torch
        import torch.nn.functional as F

        length = int(position.max()) + 1
        self.reserve(length)
        width = int(column.max()) + 1
        # query positions per (slot, column); padding queries look at position 0 only (no empty softmax)
        grid = torch.zeros((self.slots, width), dtype=torch.long, device=self.device)
        grid[slot, column] = position
        decided_slot = slot[decide]
        decided_width = int(decide_column.max()) + 1 if len(decide) else 0
        decided_grid = torch.zeros((self.slots, decided_width), dtype=torch.long, device=self.device)
        decided_grid[decided_slot, decide_column] = position[decide]
        cos, sin = self.cos[position][:, None, :], self.sin[position][:, None, :]
        hidden = self.embed[tokens]
        for index, layer in enumerate(self.layers):
            final = index == len(self.layers) - 1
            normed = layer.norm1(hidden)
            qkv = F.linear(normed, layer.qkv).view(len(tokens), 3, self.heads, self.head_dim)
            keys = self._rotate(qkv[:, 1], cos, sin)
            self.keys[index, slot, :, position] = keys
            self.values[index, slot, :, position] = qkv[:, 2]
            if final and not len(decide):  # a prefill: the keys and values are all it was for
                return hidden.new_zeros((0, len(self.tag_head)))
            if final:  # only the decided tokens go on: nothing reads the others' last hidden state
                hidden, qkv, cos, sin = hidden[decide], qkv[decide], cos[decide], sin[decide]
                queries = self._rotate(qkv[:, 0], cos, sin)
                attended = self._attend(index, queries, decided_slot, decide_column, decided_grid, decided_width,
                                        length)
            else:
                queries = self._rotate(qkv[:, 0], cos, sin)
                attended = self._attend(index, queries, slot, column, grid, width, length)
            hidden = hidden + F.linear(attended, layer.out)
            gate, up = F.linear(layer.norm2(hidden), layer.gate_up).split(layer.down.shape[1], dim=-1)
            hidden = hidden + F.linear(F.silu(gate) * up, layer.down)
        return F.linear(self.final_norm(hidden), self.tag_head)
