"""Forced-word tag decoding with few forward steps: words fed in runs, tags guessed ahead and checked.

The words of a note are known; only its tags are chosen. So a step feeds each document
everything up to its next decision at once (the tag it chose last, then the pieces of
its next word), and more: a guess of that word's tags (the tags the decoder chose the
last time it met the same spelling, else ``<O>``), the next word's pieces, a guess for
it, and so on, up to ``max_run`` tokens. Logits are read at every decision in the run;
the grammar-constrained argmax is taken at each in turn and the run is kept up to the
first guess it contradicts (the tokens after it were computed on a wrong input and are
fed again, right, from the choice on). This is speculative decoding with a free draft:
every kept choice was made on exactly the inputs the token-by-token decoder would have
fed, so the output is the same; a good guess saves a step, a bad one a few tokens.

Documents live in a fixed set of slots (:class:`~.static_llama.StaticLlama`); a slot
whose document is done takes the next one at once, so a long note does not keep a whole
batch waiting. The prompt, the same for every note, is computed once and copied into
each slot. Word pieces are tokenized once per distinct word, in one batch call.

The grammar is :class:`~.inference._TagDecoder`'s; ``tests/test_tag_decoding.py`` checks the
output against ``inference.decode_tags_stepwise`` (the previous decoder, token by token) and
``perf/bench_generate_predictions.py`` times both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .formats import END, LINE_BREAKS, OUTSIDE, build_prompt, render_chunks, shifted_chunks, written_words
from .schema import Document


def word_pieces(
    tokenizer: Any, documents: Sequence[Document], line_breaks: bool = LINE_BREAKS
) -> tuple[list[list[str]], list[list[list[int]]]]:
    """Each document's words and their token ids, as the model reads them: each word with what the
    completion writes before it (:func:`~.formats.separators`).

    Tokenized once per distinct spelling, in one batched call: a note repeats most of
    its words, and a corpus repeats them more.
    """
    written = [written_words(doc.text, line_breaks) for doc in documents]
    return [words for words, _ in written], _encode_words(tokenizer, written)


def _encode_words(tokenizer: Any, written: Sequence[tuple[list[str], list[str]]]) -> list[list[list[int]]]:
    """Token ids of each (words, what comes before each) of :func:`~.formats.written_words`."""
    spellings_of = [[b + w for b, w in zip(before, words, strict=True)] for words, before in written]
    ordered = sorted({spelling for spellings in spellings_of for spelling in spellings})
    encoded = tokenizer(ordered, add_special_tokens=False)["input_ids"] if ordered else []
    ids = dict(zip(ordered, encoded, strict=True))
    return [[ids[spelling] for spelling in spellings] for spellings in spellings_of]


@dataclass
class _Slot:
    """One document in decoding: its grammar, its next cache position, and the tokens to feed first."""

    index: int
    decoder: Any
    position: int
    pending: list[int] = field(default_factory=list)  # verified tokens not yet fed
    recorded: int = 0  # tag groups already copied into the draft table


@dataclass
class _Run:
    """What one slot feeds in one step: tokens, where logits are read, and the guessed tag after each read."""

    slot: int
    start: int
    tokens: list[int]
    reads: list[int]  # indices into tokens
    guesses: list[int]  # guesses[i] is fed right after reads[i]; one fewer than reads
    closes: list[bool]  # guesses[i] ends its word's tag group


def _plan(slot: _Slot, number: int, pieces: list[list[int]], words: list[str], draft: dict[str, tuple[int, ...]],
          ids: dict[str, int], max_run: int) -> _Run:
    """The slot's run: its verified tokens up to the next decision, then guessed tags and the words after them.

    The guess for a word is its tag group the last time the decoder chose one for that
    spelling, else ``<O>`` (after an opened entity: ``<.>``); the run goes on guessing
    while it fits in ``max_run`` tokens.
    """
    decoder = slot.decoder
    if decoder.state == "word":
        token = decoder.next_input()
        while token is not None:
            slot.pending.append(token)
            token = decoder.next_input()
    tokens, slot.pending = slot.pending[:max_run], slot.pending[max_run:]
    run = _Run(number, slot.position, tokens, [] if slot.pending else [len(tokens) - 1], [], [])
    if slot.pending or decoder.state not in ("tag", "relations"):
        return run
    chunk = decoder.chunk
    chosen = tuple(ids[tag] for tag in decoder.groups[-1])
    while chunk + 1 < decoder.total:
        group = draft.get(words[chunk - decoder.lookahead], (ids[OUTSIDE],))
        if chosen:  # the rest of a group begun this step
            group = group[len(chosen):] if group[: len(chosen)] == chosen and len(group) > len(chosen) else (ids[END],)
            chosen = ()
        following = pieces[chunk + 1] if chunk + 1 < len(pieces) else []
        if len(tokens) + len(group) + len(following) > max_run:
            break
        for k, tag in enumerate(group):
            tokens.append(tag)
            run.guesses.append(tag)
            run.closes.append(k == len(group) - 1)
            if k < len(group) - 1:
                run.reads.append(len(tokens) - 1)
        tokens += following
        run.reads.append(len(tokens) - 1)
        chunk += 1
    return run


def _verify(slot: _Slot, run: _Run, logits: list[list[float]], column_of: dict[int, int]) -> int:
    """Choose at each read in turn (the grammar's best) while the choices equal the guesses; the reads used.

    Tokens after the first wrong guess were computed on a wrong input: they are dropped
    (the slot's next position is right after the last read used) and fed again, right.
    """
    decoder = slot.decoder
    for i, read in enumerate(run.reads):
        scores = logits[i]
        choice = max(decoder.allowed(), key=lambda token: scores[column_of[token]])  # first of equals, as argmax
        decoder.accept(choice)
        guessed = i < len(run.guesses) and choice == run.guesses[i]
        if guessed and run.closes[i] == (decoder.state in ("word", "tag")):
            if decoder.state == "word":
                token = decoder.next_input()
                while token is not None:  # the next word's pieces, already fed
                    token = decoder.next_input()
            continue
        slot.position = run.start + read + 1
        slot.pending = [] if decoder.state == "done" else [choice]
        return i + 1
    raise AssertionError("the last read of a run has no guess")  # pragma: no cover


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
    line_breaks: bool = LINE_BREAKS,
    show_progress: bool = False,
    max_run: int = 8,
) -> list[str]:
    """Completions, as ``inference.decode_tags_stepwise`` writes them, for a model :mod:`.static_llama` runs."""
    import torch

    from .inference import _TagDecoder
    from .static_llama import StaticLlama

    tag_ids = sorted(set(ids.values()))
    column_of = {token: column for column, token in enumerate(tag_ids)}
    written = [written_words(doc.text, line_breaks) for doc in documents]  # words, and what comes before each
    words_of, pieces_of = [words for words, _ in written], _encode_words(tokenizer, written)
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
    draft: dict[str, tuple[int, ...]] = {}
    slots: list[_Slot | None] = [None] * slots_count
    cached_prompt: tuple[int, ...] | None = None
    progress = None
    if show_progress:
        from tqdm.auto import tqdm

        progress = tqdm(total=len(documents), desc="tagging", unit="doc")

    def finish(slot: _Slot) -> None:
        words, before = written[slot.index]
        outputs[slot.index] = render_chunks(shifted_chunks(words, slot.decoder.groups, lookahead), before)
        if progress is not None:
            progress.update(1)

    def feed(runs: list[_Run]) -> list[list[float]]:
        tokens, slot, position, column, decide, decide_column = [], [], [], [], [], []
        for run in runs:
            decide += [len(tokens) + read for read in run.reads]
            decide_column += range(len(run.reads))
            tokens += run.tokens
            slot += [run.slot] * len(run.tokens)
            position += range(run.start, run.start + len(run.tokens))
            column += range(len(run.tokens))
        as_tensor = lambda values: torch.tensor(values, dtype=torch.long, device=engine.device)  # noqa: E731
        return engine.step(as_tensor(tokens), as_tensor(slot), as_tensor(position), as_tensor(column),
                           as_tensor(decide), as_tensor(decide_column)).tolist()

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
                            feed([_Run(prompt_slot, 0, list(cached_prompt), [], [], [])])
                        engine.copy_prefix(engine, prompt_slot, number, len(cached_prompt))
                        slots[number] = entering
                active = [(number, slot) for number, slot in enumerate(slots) if slot is not None]
                if not active:
                    break
                runs = [_plan(slot, number, pieces_of[slot.index], words_of[slot.index], draft, ids, max_run)
                        for number, slot in active]
                logits = feed(runs)
                offset = 0
                for (number, slot), run in zip(active, runs, strict=True):
                    if not run.reads:  # a long stretch of forced tokens, fed in parts
                        slot.position += len(run.tokens)
                        continue
                    _verify(slot, run, logits[offset : offset + len(run.reads)], column_of)
                    offset += len(run.reads)
                    decoder = slot.decoder
                    complete = len(decoder.groups) - (decoder.state in ("tag", "relations", "target"))
                    for k in range(slot.recorded, complete):  # what it chose for a word: the next guess for it
                        draft[words_of[slot.index][k]] = tuple(ids[tag] for tag in decoder.groups[k])
                    slot.recorded = complete
                    if decoder.state == "done":
                        finish(slot)
                        slots[number] = None
    finally:
        if progress is not None:
            progress.close()
        if was_training:
            model.train()
    return outputs
