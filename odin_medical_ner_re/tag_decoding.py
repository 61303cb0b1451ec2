"""Forced-word tag decoding with one forward step per tag decision, not per token.

The words of a note are known; only its tags are chosen. So a step feeds each document
everything up to its next decision at once (the tag it chose last, then the pieces of
its next word) and reads the logits at the end of that run: a step per decision instead
of a step per token, and no Python work per forced token. Documents live in a fixed set
of slots (:class:`~.static_llama.StaticLlama`); a slot whose document is done takes the
next one at once, so a long note does not keep a whole batch waiting. The prompt, the
same for every note, is computed once and copied into each slot. Word pieces are
tokenized once per distinct word, in one batch call.

The grammar is :class:`~.inference._TagDecoder`'s, and the choices are the same as
``inference.decode_tags_stepwise`` makes token by token (``tests/test_tag_decoding.py``
checks it; ``benchmarks/bench_generate_predictions.py`` times both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .formats import build_prompt, render_chunks, shifted_chunks
from .schema import Document
from .tokenize import tokenize


def word_pieces(tokenizer: Any, documents: Sequence[Document]) -> tuple[list[list[str]], list[list[list[int]]]]:
    """Each document's words and their token ids, as the model reads them (a space before all but the first).

    Tokenized once per distinct spelling, in one batched call: a note repeats most of
    its words, and a corpus repeats them more.
    """
    words_of = [[token for token, _, _ in tokenize(doc.text)] for doc in documents]
    spellings = {(" " if i else "") + w for words in words_of for i, w in enumerate(words)}
    ordered = sorted(spellings)
    encoded = tokenizer(ordered, add_special_tokens=False)["input_ids"] if ordered else []
    ids = dict(zip(ordered, encoded, strict=True))
    return words_of, [[ids[(" " if i else "") + w] for i, w in enumerate(words)] for words in words_of]


@dataclass
class _Slot:
    """One document in decoding: its grammar, its next cache position, and the tag to feed first."""

    index: int
    decoder: Any
    position: int
    pending: list[int] = field(default_factory=list)


def decode_tags_fast(
    model: Any,
    tokenizer: Any,
    documents: Sequence[Document],
    ids: dict[str, int],
    entity_types: Sequence[str],
    relation_types: Sequence[str],
    *,
    batch_size: int = 16,
    with_text: bool = False,
    lookahead: int = 0,
    show_progress: bool = False,
) -> list[str]:
    """Completions, as ``inference.decode_tags_stepwise`` writes them, for a model :mod:`.static_llama` runs."""
    import torch

    from .inference import _TagDecoder
    from .static_llama import StaticLlama

    tag_ids = sorted(set(ids.values()))
    column_of = {token: column for column, token in enumerate(tag_ids)}
    words_of, pieces_of = word_pieces(tokenizer, documents)
    prompts = [
        tuple(tokenizer(build_prompt(d.text, entity_types, relation_types, with_text=with_text, lookahead=lookahead),
                        add_special_tokens=False)["input_ids"])
        for d in documents
    ]
    slots_count = max(1, min(batch_size, len(documents)))
    prompt_slot = slots_count  # one more slot holds the prompt, computed once and copied into each slot
    longest = max((len(p) + sum(map(len, pieces)) for p, pieces in zip(prompts, pieces_of, strict=True)), default=1)
    engine = StaticLlama(model, slots_count + 1, tag_ids, capacity=2 * longest)
    queue = sorted(range(len(documents)), key=lambda i: len(documents[i].text), reverse=True)[::-1]
    outputs: list[str] = [""] * len(documents)
    slots: list[_Slot | None] = [None] * slots_count
    cached_prompt: tuple[int, ...] | None = None
    progress = None
    if show_progress:
        from tqdm.auto import tqdm

        progress = tqdm(total=len(documents), desc="tagging", unit="doc")

    def finish(slot: _Slot) -> None:
        outputs[slot.index] = render_chunks(shifted_chunks(words_of[slot.index], slot.decoder.groups, lookahead))
        if progress is not None:
            progress.update(1)

    def feed(runs: list[tuple[int, int, list[int]]], decide_slots: bool) -> Any:
        tokens, slot, position, column, decide = [], [], [], [], []
        for number, start, run in runs:
            tokens += run
            slot += [number] * len(run)
            position += range(start, start + len(run))
            column += range(len(run))
            if decide_slots:
                decide.append(len(tokens) - 1)
        as_tensor = lambda values: torch.tensor(values, dtype=torch.long, device=engine.device)  # noqa: E731
        return engine.step(as_tensor(tokens), as_tensor(slot), as_tensor(position), as_tensor(column),
                           as_tensor(decide)).tolist()

    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            while True:
                for number in range(slots_count):
                    while slots[number] is None and queue:
                        index = queue.pop()
                        decoder = _TagDecoder(pieces_of[index], ids, entity_types, relation_types, lookahead)
                        entering = _Slot(index, decoder, len(prompts[index]))
                        if decoder.state == "done":
                            finish(entering)
                            continue
                        if prompts[index] != cached_prompt:
                            cached_prompt = prompts[index]
                            feed([(prompt_slot, 0, list(cached_prompt))], decide_slots=False)
                        engine.copy_prefix(engine, prompt_slot, number, len(cached_prompt))
                        slots[number] = entering
                active = [(number, slot) for number, slot in enumerate(slots) if slot is not None]
                if not active:
                    break
                runs = []
                for number, slot in active:
                    run = slot.pending
                    token = slot.decoder.next_input()
                    while token is not None:
                        run.append(token)
                        token = slot.decoder.next_input()
                    runs.append((number, slot.position, run))
                    slot.position += len(run)
                    slot.pending = []
                for (number, slot), logits in zip(active, feed(runs, decide_slots=True), strict=True):
                    allowed = slot.decoder.allowed()
                    choice = max(allowed, key=lambda token: logits[column_of[token]])  # first of equals, as argmax
                    slot.decoder.accept(choice)
                    if slot.decoder.state == "done":
                        finish(slot)
                        slots[number] = None
                    else:
                        slot.pending = [choice]
    finally:
        if progress is not None:
            progress.close()
        if was_training:
            model.train()
    return outputs
