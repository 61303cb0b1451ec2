"""``inference.predict`` with a tiny random model: valid documents, the decoder's grammar, determinism.

A random model is the harshest user of the decoder: it would write any tag anywhere, so
whatever comes out valid is the grammar's doing, not the training's. Models are built
from scratch (hidden 32, one layer) and run on one thread: at this size, thread
hand-offs cost more than the matrix products, and the tests share the CPU with others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.formats import build_completion, build_prompt, parse_completion, tag_vocabulary
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.inference import (
    decode_tags,
    generate_completions,
    load_model,
    predict,
    predict_documents,
    tag_token_ids,
)
from odin_medical_ner_re.schema import ENTITY_TYPES, RELATION_TYPES, Document, validate
from odin_medical_ner_re.training.tiny import TinyModelSpec, build_tiny_model, train_tokenizer

SPEC = TinyModelSpec(
    hidden_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=2048,
    vocab_size=400,
)
_TAG = re.compile(r"<[^<>\s]+>")


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    return MedicalTextGenerator(seed=31).generate_dataset(40)


@pytest.fixture(scope="module")
def tokenizer_texts(corpus: list[Document]) -> list[str]:
    """What ``run_training`` trains the tiny tokenizer on: tag prompts and completions of the training split."""
    return [build_prompt(d.text, with_text=False) + build_completion(d) for d in corpus[:30]]


@pytest.fixture(scope="module")
def tiny(tokenizer_texts: list[str]) -> tuple[Any, Any]:
    tokenizer = train_tokenizer(tokenizer_texts, SPEC.vocab_size, tag_vocabulary())
    return build_tiny_model(tokenizer, SPEC), tokenizer


@pytest.fixture(scope="module")
def test_docs(corpus: list[Document]) -> list[Document]:
    """The four shortest held-out notes (different lengths, so batches hold padding)."""
    return sorted(corpus[30:], key=lambda d: len(d.text))[:4]


def assert_valid_predictions(predictions: list[Document], documents: list[Document]) -> None:
    assert [(p.id, p.text) for p in predictions] == [(d.id, d.text) for d in documents]
    for doc in predictions:
        for entity in doc.entities:
            assert doc.text[entity.start : entity.end] == entity.text
        # which types a relation may link is learned, not imposed: everything else must validate
        assert [p for p in validate(doc) if "cannot link" not in p] == []


# --------------------------------------------------------------------------- forced-word decoding


def test_predict_returns_valid_documents_and_no_parse_problems(
    tiny: tuple[Any, Any], test_docs: list[Document]
) -> None:
    model, tokenizer = tiny
    assert tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES) is not None, "tags must be single tokens"
    predictions, parsed = predict(model, tokenizer, test_docs, batch_size=4)
    assert_valid_predictions(predictions, test_docs)
    assert all(not any(p.counts().values()) for p in parsed), [p.counts() for p in parsed]
    assert sum(len(p.entities) for p in predictions) > 0, "a random model tags something"


def test_batch_size_does_not_change_predictions(tiny: tuple[Any, Any], test_docs: list[Document]) -> None:
    model, tokenizer = tiny
    one, _ = predict(model, tokenizer, test_docs, batch_size=1)
    three, _ = predict(model, tokenizer, test_docs, batch_size=3)
    assert [d.to_dict() for d in one] == [d.to_dict() for d in three]


def test_predict_leaves_a_training_model_in_training_mode(
    tiny: tuple[Any, Any], test_docs: list[Document]
) -> None:
    """Evaluation during training calls predict on the live model; it must not switch dropout off for good."""
    model, tokenizer = tiny
    model.train()
    try:
        predict(model, tokenizer, test_docs[:1])
        assert model.training
    finally:
        model.eval()


class _Biased(torch.nn.Module):
    """A model whose logits are pushed towards given tokens: it 'wants' to break the grammar."""

    def __init__(self, inner: Any, bias: torch.Tensor) -> None:
        super().__init__()
        self.inner = inner
        self.register_buffer("bias", bias)

    @property
    def device(self) -> torch.device:
        return self.inner.device

    def forward(self, **kwargs: Any) -> Any:
        out = self.inner(**kwargs)
        out.logits = out.logits + self.bias
        return out


def _bias(tokenizer: Any, weights: dict[str, float], size: int) -> torch.Tensor:
    bias = torch.zeros(size)
    for tag, weight in weights.items():
        bias[tokenizer.convert_tokens_to_ids(tag)] = weight
    return bias


SHORT = [
    Document("short-1", "Metformin for type 2 diabetes; aspirin for headache."),
    Document("short-2", "Fever and cough from pneumonia. Chest X-ray, CBC and amoxicillin."),
]


def _decode(model: Any, tokenizer: Any) -> list[str]:
    ids = tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES)
    return decode_tags(model, tokenizer, SHORT, ids, ENTITY_TYPES, RELATION_TYPES, batch_size=2)


def test_inside_tags_only_continue_an_open_entity_of_their_type(tiny: tuple[Any, Any]) -> None:
    model, tokenizer = tiny
    # every I- tag is the model's favourite, then B-Drug: only I-Drug may follow B-Drug
    weights = {f"<I-{t}>": 60.0 for t in ENTITY_TYPES} | {"<B-Drug>": 40.0}
    biased = _Biased(model, _bias(tokenizer, weights, model.config.vocab_size))
    for doc, completion in zip(SHORT, _decode(biased, tokenizer), strict=True):
        tags = [_TAG.findall(chunk)[0] for chunk in completion.split()]
        assert tags[0] == "<B-Drug>" and set(tags[1:]) == {"<I-Drug>"}, tags
        parsed = parse_completion(completion, doc.text)
        assert not any(parsed.counts().values())
        assert [(e.start, e.end) for e in parsed.entities] == [(0, len(doc.text))]


def test_relation_targets_are_earlier_entities(tiny: tuple[Any, Any]) -> None:
    model, tokenizer = tiny
    # every word opens an entity, relations beat <.>, and the highest numbers (later entities) beat the rest
    weights = {"<B-Drug>": 40.0} | {f"<{role}:{r}>": 60.0 for r in RELATION_TYPES for role in "ht"}
    weights |= {f"<#{k}>": 30.0 + k for k in range(1, 129)}
    biased = _Biased(model, _bias(tokenizer, weights, model.config.vocab_size))
    relations_seen = 0
    for doc, completion in zip(SHORT, _decode(biased, tokenizer), strict=True):
        for number, chunk in enumerate(completion.split(), start=1):
            tags = _TAG.findall(chunk)
            assert tags[:2] == ["<B-Drug>", f"<#{number}>"] and tags[-1] == "<.>", chunk
            pairs = tags[2:-1]
            assert len(pairs) % 2 == 0 and len(pairs) // 2 <= 8  # at most max_relations per entity
            for relation, target in zip(pairs[::2], pairs[1::2], strict=True):
                assert relation[1:3] in ("h:", "t:")
                assert int(target[2:-1]) < number, chunk
                relations_seen += 1
        parsed = parse_completion(completion, doc.text)
        assert not any(parsed.counts().values()), parsed.counts()
        assert parsed.relations
    assert relations_seen > 0


# --------------------------------------------------------------------------- free generation


def test_free_generation_path_for_tokenizers_without_tag_tokens(
    tokenizer_texts: list[str], test_docs: list[Document]
) -> None:
    tokenizer = train_tokenizer(tokenizer_texts, SPEC.vocab_size)  # tags are split into pieces here
    assert tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES) is None
    model = build_tiny_model(tokenizer, SPEC, seed=1)
    predictions, parsed = predict(model, tokenizer, test_docs[:3], batch_size=2, max_new_tokens=12)
    assert_valid_predictions(predictions, test_docs[:3])
    assert len(parsed) == 3
    # a random model does not copy the note: the parser says so instead of guessing
    assert all(p.counts()["inexact_copies"] == 1 for p in parsed)


def test_generate_completions_keeps_input_order(tokenizer_texts: list[str]) -> None:
    tokenizer = train_tokenizer(tokenizer_texts, SPEC.vocab_size)
    model = build_tiny_model(tokenizer, SPEC, seed=2)
    prompts = ["Note: fever.", "Note: a much longer note about cough, fever and pneumonia.", "Note: pain and"]
    padding_side = tokenizer.padding_side
    batched = generate_completions(model, tokenizer, prompts, batch_size=3, max_new_tokens=6)
    single = [generate_completions(model, tokenizer, [p], batch_size=1, max_new_tokens=6)[0] for p in prompts]
    assert batched == single
    assert tokenizer.padding_side == padding_side, "the caller's padding side is restored"


# --------------------------------------------------------------------------- saved folders


def test_predict_documents_on_a_saved_folder(
    tiny: tuple[Any, Any], test_docs: list[Document], tmp_path: Path
) -> None:
    model, tokenizer = tiny
    folder = tmp_path / "model"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    in_memory, _ = predict(model, tokenizer, test_docs[:2])
    from_folder = predict_documents(folder, [d.to_dict() for d in test_docs[:2]])
    assert from_folder == [d.to_dict() for d in in_memory]


def test_load_model_rejects_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="does not exist"):
        load_model(tmp_path / "nowhere")


def test_load_model_rejects_a_folder_without_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model\n")
    with pytest.raises(UserInputError, match="not a trained model folder") as info:
        load_model(tmp_path)
    assert str(tmp_path) in str(info.value)
