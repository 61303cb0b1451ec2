"""``inference.predict`` with a tiny random model: valid documents, the decoder's grammar, determinism.

A random model is the harshest user of the decoder: it would write any tag anywhere, so
whatever comes out valid is the grammar's doing, not the training's. Models are built
from scratch (hidden 32, one layer) and run on one thread: at this size, thread
hand-offs cost more than the matrix products, and the tests share the CPU with others.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import torch

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.formats import (
    LOOKAHEAD,
    MAX_POINTER,
    build_completion,
    build_prompt,
    parse_completion,
    tag_vocabulary,
)
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.inference import (
    LINE_BREAKS_ATTRIBUTE,
    LOOKAHEAD_ATTRIBUTE,
    decode_tags,
    generate_completions,
    load_model,
    model_line_breaks,
    model_lookahead,
    partner_types,
    predict,
    predict_documents,
    tag_token_ids,
)
from odin_medical_ner_re.schema import (
    ENTITY_TYPES,
    RELATION_TYPES,
    VALID_RELATION_ARGUMENTS,
    Document,
    validate,
)
from odin_medical_ner_re.tokenize import tokenize
from odin_medical_ner_re.training.tiny import SMOKE_SPEC, build_tiny_model, train_tokenizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SPEC = SMOKE_SPEC
_TAG = re.compile(r"<[^<>\s]+>")


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
        assert validate(doc) == []  # the decoder only lets a relation link types the schema allows


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


def test_relation_pointers_reach_earlier_entities_of_a_type_the_relation_allows(tiny: tuple[Any, Any]) -> None:
    model, tokenizer = tiny
    # every word opens a Drug or a Disease (the random model picks), relations beat <.>, the farthest pointer wins
    weights = {"<B-Drug>": 40.0, "<B-Disease>": 40.0} | {f"<{role}:{r}>": 60.0 for r in RELATION_TYPES for role in "ht"}
    weights |= {f"<~{k}>": 30.0 + k for k in range(1, MAX_POINTER + 1)}
    biased = _Biased(model, _bias(tokenizer, weights, model.config.vocab_size))
    relations_seen = 0
    for doc, completion in zip(SHORT, _decode(biased, tokenizer), strict=True):
        types: list[str] = []
        for chunk in completion.split():
            tags = _TAG.findall(chunk)
            assert tags[0] in ("<B-Drug>", "<B-Disease>") and tags[-1] == "<.>", chunk
            types.append(tags[0][3:-1])
            pairs = tags[1:-1]
            assert len(pairs) % 2 == 0 and len(pairs) // 2 <= 8  # at most max_relations per entity
            for relation, pointer in zip(pairs[::2], pairs[1::2], strict=True):
                back = int(pointer[2:-1])
                assert 1 <= back < len(types), chunk
                role, name = relation[1], relation[3:-1]
                head, tail = (types[-1], types[-1 - back]) if role == "h" else (types[-1 - back], types[-1])
                assert (name, head, tail) in VALID_RELATION_ARGUMENTS, chunk
                relations_seen += 1
        parsed = parse_completion(completion, doc.text)
        assert not any(parsed.counts().values()), parsed.counts()
        assert validate(parsed.to_document(doc.id, doc.text)) == []
    assert relations_seen > 0 and {"Drug", "Disease"} <= set(types)


def test_no_relation_is_opened_without_an_earlier_entity_it_could_link(tiny: tuple[Any, Any]) -> None:
    model, tokenizer = tiny
    # only Drugs: no relation of the schema links two drugs, however much the model wants one
    weights = {"<B-Drug>": 40.0} | {f"<{role}:{r}>": 60.0 for r in RELATION_TYPES for role in "ht"}
    biased = _Biased(model, _bias(tokenizer, weights, model.config.vocab_size))
    for completion in _decode(biased, tokenizer):
        assert all(_TAG.findall(chunk) == ["<B-Drug>", "<.>"] for chunk in completion.split()), completion


@pytest.mark.parametrize(
    ("relation", "role", "entity_type", "partners"),
    [
        ("treats", "t", "Disease", {"Drug"}),
        ("treats", "h", "Drug", {"Disease"}),
        ("indicates", "t", "Disease", {"Lab_Test", "Symptom"}),
        ("prevents", "t", "Disease", {"Drug", "Procedure"}),
        ("treats", "h", "Symptom", set()),
        ("Association", "h", "GeneOrGeneProduct", None),  # a native label: no restriction
    ],
)
def test_partner_types_follow_the_schema_table(
    relation: str, role: str, entity_type: str, partners: set[str] | None
) -> None:
    assert partner_types(relation, role, entity_type) == partners


@pytest.mark.parametrize("lookahead", [0, 2])
def test_forced_decoding_honours_the_lookahead(tiny: tuple[Any, Any], lookahead: int) -> None:
    model, tokenizer = tiny
    ids = tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES)
    (completion,) = decode_tags(model, tokenizer, SHORT[:1], ids, ENTITY_TYPES, RELATION_TYPES, lookahead=lookahead)
    chunks = completion.split()
    words = [token for token, _, _ in tokenize(SHORT[0].text)]
    assert [_TAG.sub("", chunk) for chunk in chunks] == words + [""] * lookahead
    assert all(not _TAG.search(chunk) for chunk in chunks[:lookahead])
    assert all(_TAG.search(chunk) for chunk in chunks[lookahead:])
    parsed = parse_completion(completion, SHORT[0].text, lookahead=lookahead)
    assert not any(parsed.counts().values())


def test_predict_reads_the_lookahead_from_the_model_config(tiny: tuple[Any, Any]) -> None:
    model, tokenizer = tiny
    assert model_lookahead(model) == LOOKAHEAD
    setattr(model.config, LOOKAHEAD_ATTRIBUTE, 2)
    try:
        assert model_lookahead(model) == 2
        _, parsed = predict(model, tokenizer, SHORT[:1])
        assert not any(parsed[0].counts().values())
    finally:
        delattr(model.config, LOOKAHEAD_ATTRIBUTE)


def test_predict_reads_the_line_breaks_from_the_model_config(tiny: tuple[Any, Any]) -> None:
    """A model saved before the line-break marks existed (no attribute) reads plain spaces, as it was trained."""
    model, tokenizer = tiny
    note = [Document("lines", "Assessment:\nFever and cough\nPneumonia - amoxicillin")]
    ids = tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES)
    assert not model_line_breaks(model)
    plain = decode_tags(model, tokenizer, note, ids, ENTITY_TYPES, RELATION_TYPES, line_breaks=False)
    marked = decode_tags(model, tokenizer, note, ids, ENTITY_TYPES, RELATION_TYPES, line_breaks=True)
    assert predict(model, tokenizer, note)[0] == predict(model, tokenizer, note, line_breaks=False)[0]
    setattr(model.config, LINE_BREAKS_ATTRIBUTE, True)
    try:
        assert model_line_breaks(model)
        marked_prediction = parse_completion(marked[0], note[0].text).to_document("lines", note[0].text)
        assert predict(model, tokenizer, note)[0] == [marked_prediction]
    finally:
        delattr(model.config, LINE_BREAKS_ATTRIBUTE)
    assert marked[0].count("\n ") == 2 and "\n" not in plain[0][:-1]


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
