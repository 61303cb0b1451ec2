"""The fast forced-word decoder writes what the token-by-token reference writes, on tiny random models.

A random model is the hard case for "same output": it opens entities and writes relations
everywhere, so every state of the grammar (words, tags, relations, pointers, the
lookahead's tag-only chunks) is visited, and its logits are not far apart.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from odin_medical_ner_re.formats import build_completion, build_prompt, separators, tag_vocabulary
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.inference import decode_tags, decode_tags_stepwise, tag_token_ids
from odin_medical_ner_re.schema import ENTITY_TYPES, RELATION_TYPES, Document
from odin_medical_ner_re.static_llama import StaticLlama, unsupported
from odin_medical_ner_re.tag_decoding import decode_tags_fast, word_pieces
from odin_medical_ner_re.tokenize import tokenize
from odin_medical_ner_re.training.tiny import SMOKE_SPEC, build_tiny_model, train_tokenizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    return MedicalTextGenerator(seed=5).generate_dataset(24)


@pytest.fixture(scope="module")
def tokenizer(corpus: list[Document]) -> Any:
    texts = [build_prompt(d.text, with_text=False) + build_completion(d) for d in corpus[:16]]
    return train_tokenizer(texts, 400, tag_vocabulary())


def model_of(tokenizer: Any, layers: int, seed: int) -> Any:
    spec = dataclasses.replace(SMOKE_SPEC, num_hidden_layers=layers)
    return build_tiny_model(tokenizer, spec, seed=seed).eval()


def both(model: Any, tokenizer: Any, docs: list[Document], **options: Any) -> tuple[list[str], list[str]]:
    ids = tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES)
    args = (model, tokenizer, docs, ids, ENTITY_TYPES, RELATION_TYPES)
    return decode_tags_fast(*args, **options), decode_tags_stepwise(*args, **options)


@pytest.mark.parametrize(
    ("layers", "seed", "batch_size", "lookahead", "max_run"),
    [(1, 0, 2, 0, 8), (2, 1, 8, 0, 24), (1, 2, 1, 0, 2), (1, 3, 3, 2, 8), (1, 4, 3, 1, 1)],
)
def test_fast_decoding_writes_what_the_reference_writes(
    tokenizer: Any, corpus: list[Document], layers: int, seed: int, batch_size: int, lookahead: int, max_run: int
) -> None:
    """``max_run`` 1 and 2 split words across steps; 8 and 24 guess tags and words ahead, right and wrong."""
    docs = sorted(corpus[16:], key=lambda d: len(d.text))[:5]
    model = model_of(tokenizer, layers, seed)
    ids = tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES)
    args = (model, tokenizer, docs, ids, ENTITY_TYPES, RELATION_TYPES)
    fast = decode_tags_fast(*args, batch_size=batch_size, lookahead=lookahead, max_run=max_run)
    reference = decode_tags_stepwise(*args, batch_size=batch_size, lookahead=lookahead)
    assert fast == reference
    written = "".join(fast)
    assert "<B-" in written and "<~" in written, "the grammar's relation states were visited"


def test_documents_without_words_and_a_different_prompt_per_note(tokenizer: Any, corpus: list[Document]) -> None:
    docs = [Document("empty", ""), corpus[16], Document("blank", "   "), corpus[17]]
    fast, reference = both(model_of(tokenizer, 1, 4), tokenizer, docs, batch_size=2, with_text=True)
    assert fast == reference
    assert fast[0] == fast[2] == "\n"


def test_the_cache_grows_when_a_note_outruns_it(tokenizer: Any, corpus: list[Document]) -> None:
    long_note = Document("long", " ".join(d.text for d in corpus[16:18]))
    model = model_of(tokenizer, 1, 5)
    ids = tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES)
    engine = StaticLlama(model, 2, sorted(ids.values()), capacity=8)
    engine.reserve(100)
    assert engine.capacity >= 100 and engine.cos.shape[0] == engine.capacity
    fast, reference = both(model, tokenizer, [long_note], batch_size=1)
    assert fast == reference


def test_a_step_gives_the_models_own_logits_at_the_read_positions(tokenizer: Any) -> None:
    """Two ragged sequences fed in pieces give the tag logits model(...) gives on each whole sequence."""
    model = model_of(tokenizer, 2, 6)
    tag_ids = sorted(tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES).values())
    engine = StaticLlama(model, 2, tag_ids)
    first, second = [5, 9, 40, 41, 7, 300], [11, 12, 13]
    tensor = lambda values: torch.tensor(values)  # noqa: E731
    with torch.inference_mode():
        # step 1: 4 tokens of the first, 2 of the second; step 2: the rest, read twice in the first
        engine.step(tensor(first[:4] + second[:2]), tensor([0] * 4 + [1] * 2), tensor([0, 1, 2, 3, 0, 1]),
                    tensor([0, 1, 2, 3, 0, 1]), tensor([3, 5]), tensor([0, 0]))
        logits = engine.step(tensor(first[4:] + second[2:]), tensor([0, 0, 1]), tensor([4, 5, 2]),
                             tensor([0, 1, 0]), tensor([0, 1, 2]), tensor([0, 1, 0]))
        whole = [model(input_ids=tensor([seq])).logits[0][:, tag_ids] for seq in (first, second)]
    torch.testing.assert_close(logits, torch.stack([whole[0][4], whole[0][5], whole[1][2]]), rtol=1e-5, atol=1e-5)


def test_predict_takes_the_fast_path_for_a_plain_llama_and_not_for_a_wrapper(tokenizer: Any) -> None:
    model = model_of(tokenizer, 1, 7)
    assert unsupported(model) is None
    assert "not a plain LlamaForCausalLM" in unsupported(torch.nn.Sequential(model))
    with pytest.raises(ValueError, match="cannot run this model"):
        StaticLlama(torch.nn.Sequential(model), 1, [1])
    model.config.hidden_act = "gelu"
    try:
        assert "silu" in unsupported(model)
    finally:
        model.config.hidden_act = "silu"


def test_decode_tags_dispatches_to_the_same_output(tokenizer: Any, corpus: list[Document]) -> None:
    model = model_of(tokenizer, 1, 8)
    ids = tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES)
    docs = corpus[20:22]
    assert decode_tags(model, tokenizer, docs, ids, ENTITY_TYPES, RELATION_TYPES) == both(model, tokenizer, docs)[1]


def test_word_pieces_are_the_per_word_tokenization(tokenizer: Any, corpus: list[Document]) -> None:
    docs = corpus[:3]
    newline = tokenizer("\n", add_special_tokens=False)["input_ids"]
    plain_words, plain = word_pieces(tokenizer, docs, line_breaks=False)
    words_of, pieces_of = word_pieces(tokenizer, docs)
    assert plain_words == words_of
    line_starts = 0
    for doc, words, pieces, plain_pieces in zip(docs, words_of, pieces_of, plain, strict=True):
        assert words == [token for token, _, _ in tokenize(doc.text)]
        assert plain_pieces == [
            tokenizer((" " if i else "") + w, add_special_tokens=False)["input_ids"] for i, w in enumerate(words)
        ]
        for before, mine, theirs in zip(separators(doc.text), pieces, plain_pieces, strict=True):
            # a word that starts a line is read as a line break, then the same pieces as mid-line
            assert mine == (newline + theirs if before == "\n " else theirs)
            line_starts += before == "\n "
    assert line_starts > 0


def test_fast_and_stepwise_agree_without_line_breaks(tokenizer: Any, corpus: list[Document]) -> None:
    """Models trained before the line-break marks are decoded with plain spaces, by both decoders alike."""
    model = model_of(tokenizer, 2, 1)
    ids = tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES)
    args = (model, tokenizer, corpus[:4], ids, ENTITY_TYPES, RELATION_TYPES)
    fast = decode_tags_fast(*args, batch_size=2, line_breaks=False)
    assert fast == decode_tags_stepwise(*args, batch_size=2, line_breaks=False)
    assert all("\n" not in text[:-1] for text in fast)
    assert fast != decode_tags_fast(*args, batch_size=2), "line breaks change what the model reads"
