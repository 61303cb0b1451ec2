"""The tag format of ``formats.py``: exact round trips, a parser that never raises, counted problems.

A model is trained on ``build_completion`` and scored through ``parse_completion``; if
the pair lost or bent a single annotation, every reported F1 would be wrong by that
much, so the round trip is checked on whole generated corpora, not on a few examples.
Model output is arbitrary text, so the parser is fed garbage, truncations and sloppy
copies, and must keep what it can, count the rest and never raise.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odin_medical_ner_re.builder import features as odin_features
from odin_medical_ner_re.corpora import CORPORA, benchmark_features
from odin_medical_ner_re.corpora import label_names as corpus_label_names
from odin_medical_ner_re.formats import (
    END,
    MAX_POINTER,
    OUTSIDE,
    ParseResult,
    annotations,
    build_completion,
    build_prompt,
    label_names,
    parse_completion,
    separators,
    tag_vocabulary,
    to_messages,
    to_prompt_completion,
    word_tags,
)
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.schema import ENTITY_TYPES, RELATION_TYPES, Document, Entity, Relation, validate
from odin_medical_ner_re.tokenize import tokenize

PROBLEM_KEYS = (
    "unparsed_tags",
    "unaligned_mentions",
    "unknown_labels",
    "dangling_relations",
    "inexact_copies",
)


# --------------------------------------------------------------------------- helpers


def make_doc(
    text: str, spans: Sequence[tuple[str, str]], relations: Sequence[tuple[str, int, int]] = ()
) -> Document:
    """A document from (surface, type) pairs found left to right in ``text`` and (type, head, tail) indices."""
    entities: list[Entity] = []
    cursor = 0
    for index, (surface, label) in enumerate(spans, start=1):
        start = text.index(surface, cursor)
        entities.append(Entity(f"T{index}", surface, label, start, start + len(surface)))
        cursor = start + len(surface)
    rels = [
        Relation(f"R{i}", label, entities[head].id, entities[tail].id)
        for i, (label, head, tail) in enumerate(relations, start=1)
    ]
    return Document("doc-test", text, entities, rels)


def round_trip(
    doc: Document,
    entity_types: Sequence[str] | None = ENTITY_TYPES,
    relation_types: Sequence[str] | None = RELATION_TYPES,
    lookahead: int = 0,
) -> tuple[Document, ParseResult]:
    completion = build_completion(doc, lookahead)
    parsed = parse_completion(completion, doc.text, entity_types, relation_types, lookahead=lookahead)
    return parsed.to_document(doc.id, doc.text), parsed


def assert_well_formed(
    result: ParseResult,
    text: str,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
) -> None:
    """What a caller may rely on whatever the completion: aligned spans, known labels, resolvable relations."""
    counts = result.counts()
    assert set(counts) == set(PROBLEM_KEYS)
    assert all(isinstance(v, int) and v >= 0 for v in counts.values())
    ids = [e.id for e in result.entities]
    assert len(ids) == len(set(ids))
    for entity in result.entities:
        assert 0 <= entity.start < entity.end <= len(text)
        assert text[entity.start : entity.end] == entity.text
        assert entity.type in entity_types
    known = set(ids)
    triples = set()
    for relation in result.relations:
        assert relation.type in relation_types
        assert relation.head in known and relation.tail in known and relation.head != relation.tail
        triples.add((relation.type, relation.head, relation.tail))
    assert len(triples) == len(result.relations), "duplicate relations"


@pytest.fixture(scope="module")
def simple_docs() -> list[Document]:
    return MedicalTextGenerator(seed=20240611).generate_dataset(10_000)


@pytest.fixture(scope="module")
def complex_docs() -> list[Document]:
    return MedicalTextGenerator(seed=977, complexity="complex").generate_dataset(1_000)


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("corpus", ["simple_docs", "complex_docs"])
def test_round_trip_is_exact_on_every_generated_document(corpus: str, request: pytest.FixtureRequest) -> None:
    docs: list[Document] = request.getfixturevalue(corpus)
    failures = []
    for doc in docs:
        predicted, parsed = round_trip(doc)
        if (
            annotations(predicted) != annotations(doc)
            or any(parsed.counts().values())
            or not parsed.copy_exact
        ):
            failures.append(doc.id)
    assert not failures, f"{len(failures)} of {len(docs)} documents do not round-trip, e.g. {failures[:5]}"
    assert sum(len(d.relations) for d in docs) > len(docs), "the corpus should exercise relations"


def test_completion_walks_every_source_token_once(simple_docs: list[Document]) -> None:
    """One chunk per source token, in order, so the forced-word decoder and the parser agree on positions."""
    for doc in simple_docs[:300]:
        for line_breaks in (True, False):
            completion = build_completion(doc, line_breaks=line_breaks)
            assert completion.endswith("\n")
            words = [re.sub(r"(<[^<>\s]+>)+$", "", chunk) for chunk in completion.split()]
            assert words == [token for token, _, _ in tokenize(doc.text)]
            assert len(word_tags(doc)) == len(words)


def test_line_breaks_are_written_where_the_note_breaks_a_line(simple_docs: list[Document]) -> None:
    """The model must see a line end: "\\n " before exactly the words that start a line, one each."""
    with_breaks = 0
    for doc in simple_docs[:300]:
        tokens = tokenize(doc.text)
        starts_line = [i for i in range(1, len(tokens)) if "\n" in doc.text[tokens[i - 1][2] : tokens[i][1]]]
        completion = build_completion(doc)
        lines = completion[:-1].split("\n")
        assert len(lines) == len(starts_line) + 1
        assert all(line.startswith(" ") for line in lines[1:]), "the word keeps its space: same pieces as mid-line"
        firsts = [len(line.split()) for line in lines[:-1]]
        assert [sum(firsts[: k + 1]) for k in range(len(firsts))] == starts_line
        assert "\n" not in build_completion(doc, line_breaks=False)[:-1]
        with_breaks += bool(starts_line)
    assert with_breaks > 100, "the notes should have lines to mark"


def test_separators_mark_only_line_starts() -> None:
    assert separators("") == []
    assert separators("Fever\n\n  Cough, worse") == ["", "\n ", " ", " "]
    assert separators("Fever\nCough", line_breaks=False) == ["", " "]


@pytest.mark.parametrize("lookahead", [1, 2, 3])
def test_lookahead_shifts_tags_and_still_round_trips(lookahead: int, simple_docs: list[Document]) -> None:
    """Word j carries the tags of word j - lookahead: first chunks untagged, last ones wordless, nothing lost."""
    for doc in simple_docs[:200]:
        chunks = build_completion(doc, lookahead).split()
        words = [re.sub(r"(<[^<>\s]+>)+$", "", chunk) for chunk in chunks]
        tokens = [token for token, _, _ in tokenize(doc.text)]
        assert words == tokens + [""] * lookahead
        assert all(not re.search(r"<[^<>\s]+>$", chunk) for chunk in chunks[:lookahead])
        unshifted = build_completion(doc, 0).split()
        assert [chunk[len(word):] for chunk, word in zip(chunks[lookahead:], words[lookahead:], strict=True)] == [
            chunk[len(token):] for chunk, token in zip(unshifted, tokens, strict=True)
        ]
        predicted, parsed = round_trip(doc, lookahead=lookahead)
        assert annotations(predicted) == annotations(doc) and not any(parsed.counts().values()), doc.id


def test_a_completion_read_with_the_wrong_lookahead_loses_entities() -> None:
    """The lookahead is part of the format, not guessed: a shifted answer read unshifted is misplaced."""
    doc = make_doc("Metformin for diabetes .", [("Metformin", "Drug"), ("diabetes", "Disease")])
    shifted = build_completion(doc, 1)
    assert shifted == "Metformin for<B-Drug><.> diabetes<O> .<B-Disease><.> <O>\n"
    assert annotations(parse_completion(shifted, doc.text, lookahead=1).to_document(doc.id, doc.text)) == annotations(doc)
    wrong = parse_completion(shifted, doc.text, lookahead=0)
    assert {e.text for e in wrong.entities} != {"Metformin", "diabetes"}


def test_pointers_count_entities_back_up_to_max_pointer() -> None:
    count = MAX_POINTER + 2
    words = [f"w{i}" for i in range(count)]
    # the last entity (a Disease) is the tail of the first (a Drug too far back to express)
    # and of the second (exactly MAX_POINTER back)
    spans = [(w, "Drug" if i < 2 else "Disease") for i, w in enumerate(words)]
    doc = make_doc(" ".join(words), spans, [("treats", 0, count - 1), ("treats", 1, count - 1), ("treats", 2, 3)])
    completion = build_completion(doc)
    assert f"w{count - 1}<B-Disease><t:treats><~{MAX_POINTER}><.>" in completion
    assert "w3<B-Disease><t:treats><~1><.>" in completion
    predicted, parsed = round_trip(doc)
    assert not any(parsed.counts().values())
    _, gold_relations = annotations(doc)
    _, kept = annotations(predicted)
    assert kept == gold_relations - {("treats", 0, 2, len(" ".join(words)) - 3, len(" ".join(words)))}
    assert len(kept) == 2


# --------------------------------------------------------------------------- relation direction


def test_relation_to_an_earlier_head_is_written_at_the_tail() -> None:
    doc = make_doc(
        "Metformin for diabetes.", [("Metformin", "Drug"), ("diabetes", "Disease")], [("treats", 0, 1)]
    )
    assert (
        build_completion(doc)
        == "Metformin<B-Drug><.> for<O> diabetes<B-Disease><t:treats><~1><.> .<O>\n"
    )
    predicted, _ = round_trip(doc)
    (relation,) = predicted.relations
    by_id = predicted.entity_by_id()
    assert (by_id[relation.head].text, relation.type, by_id[relation.tail].text) == (
        "Metformin",
        "treats",
        "diabetes",
    )


def test_relation_to_an_earlier_tail_is_written_at_the_head() -> None:
    doc = make_doc(
        "Dysphagia from eosinophilic esophagitis.",
        [("Dysphagia", "Symptom"), ("eosinophilic esophagitis", "Disease")],
        [("causes", 1, 0)],
    )
    assert "esophagitis<I-Disease>" in build_completion(doc)
    assert "eosinophilic<B-Disease><h:causes><~1><.>" in build_completion(doc)
    predicted, _ = round_trip(doc)
    (relation,) = predicted.relations
    by_id = predicted.entity_by_id()
    assert by_id[relation.head].text == "eosinophilic esophagitis"
    assert by_id[relation.tail].text == "Dysphagia"


def test_parser_reads_roles_as_written() -> None:
    """``<h:...>`` makes the entity being tagged the head, ``<t:...>`` the tail, whatever the types."""
    text = "aspirin and fever"
    head_first = parse_completion("aspirin<B-Drug><.> and<O> fever<B-Symptom><h:causes><~1><.>", text)
    tail_first = parse_completion("aspirin<B-Drug><.> and<O> fever<B-Symptom><t:causes><~1><.>", text)
    names = {e.id: e.text for e in head_first.entities}
    assert [(names[r.head], names[r.tail]) for r in head_first.relations] == [("fever", "aspirin")]
    names = {e.id: e.text for e in tail_first.entities}
    assert [(names[r.head], names[r.tail]) for r in tail_first.relations] == [("aspirin", "fever")]


# --------------------------------------------------------------------------- prompt and messages


def test_to_messages_has_the_conversational_prompt_completion_shape() -> None:
    doc = make_doc(
        "Metformin for diabetes.", [("Metformin", "Drug"), ("diabetes", "Disease")], [("treats", 0, 1)]
    )
    pair = to_prompt_completion(doc)
    messages = to_messages(doc)
    assert set(messages) == {"prompt", "completion"}
    assert messages["prompt"] == [{"role": "user", "content": pair["prompt"]}]
    assert messages["completion"] == [{"role": "assistant", "content": pair["completion"]}]
    assert pair["completion"] == build_completion(doc)
    assert doc.text in pair["prompt"] and all(t in pair["prompt"] for t in ENTITY_TYPES + RELATION_TYPES)


def test_prompt_without_text_leaves_the_note_to_the_decoder() -> None:
    prompt = build_prompt("Metformin for diabetes.", with_text=False)
    assert "Metformin" not in prompt and prompt.endswith("Answer:\n")


def test_tag_vocabulary_is_distinct_single_tags() -> None:
    tags = tag_vocabulary()
    assert len(tags) == len(set(tags))
    assert all(re.fullmatch(r"<[^<>\s]+>", tag) for tag in tags)
    assert {OUTSIDE, END, "<B-Lab_Test>", "<I-Drug>", "<h:prevents>", "<t:treats>", "<~1>", f"<~{MAX_POINTER}>"} <= set(
        tags
    )


# --------------------------------------------------------------------------- native label sets


def test_label_names_of_the_builder_features_are_the_odin_labels() -> None:
    assert label_names(odin_features()) == (list(ENTITY_TYPES), list(RELATION_TYPES))


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_native_label_sets_come_from_features_and_round_trip(corpus: str) -> None:
    entity_types, relation_types = label_names(benchmark_features(corpus))
    assert (tuple(entity_types), tuple(relation_types)) == tuple(corpus_label_names(corpus))
    tags = set(tag_vocabulary(entity_types, relation_types))
    assert {f"<B-{t}>" for t in entity_types} | {f"<I-{t}>" for t in entity_types} <= tags
    assert {f"<{role}:{r}>" for r in relation_types for role in "ht"} <= tags
    # one two-word mention per native type, each linked to the previous one by the native relations in turn
    words = [f"alpha{i} beta{i}" for i in range(len(entity_types))]
    text = " , ".join(words) + " ."
    relations = (
        [(relation_types[i % len(relation_types)], i - 1, i) for i in range(1, len(entity_types))]
        if relation_types
        else []
    )
    doc = make_doc(text, list(zip(words, entity_types, strict=True)), relations)
    predicted, parsed = round_trip(doc, entity_types, relation_types)
    assert annotations(predicted) == annotations(doc)
    assert not any(parsed.counts().values())
    # the same completion read with the ODIN labels: every foreign label is counted, none is kept
    foreign = parse_completion(build_completion(doc), doc.text)
    foreign_types = [t for t in entity_types if t not in ENTITY_TYPES]
    assert foreign.unknown_labels >= len(foreign_types)
    assert {e.type for e in foreign.entities} <= set(ENTITY_TYPES)
    assert_well_formed(foreign, doc.text)


def test_none_label_sets_accept_any_label() -> None:
    parsed = parse_completion("x<B-Gene><.> y<B-Variant><h:affects><~1><.>", "x y", None, None)
    assert [(e.text, e.type) for e in parsed.entities] == [("x", "Gene"), ("y", "Variant")]
    assert [r.type for r in parsed.relations] == ["affects"] and parsed.unknown_labels == 0


# --------------------------------------------------------------------------- counted problems

SOURCE = "Metformin for diabetes ."


@pytest.mark.parametrize(
    ("completion", "expected", "entities", "relations"),
    [
        ("Metformin<I-Drug> for<O> diabetes<O> .<O>", {"unparsed_tags": 1}, 0, 0),
        ("Metformin<B-Drug><.> for<O> diabetes<I-Drug> .<O>", {"unparsed_tags": 1}, 1, 0),
        (
            "Metformin<B-Drug><.> for<O> diabetes<B-Disease><t:treats><.> .<O>",
            {"unparsed_tags": 1},
            2,
            0,
        ),
        (
            "Metformin<B-Drug><.> for<O> diabetes<B-Disease><t:treats><~1><.><O><zzz> .<O>",
            {"unparsed_tags": 2},
            2,
            1,
        ),
        (
            "Metformin<B-Drug><.> for<O> diabetes<B-Disease><t:treats><~7><.> .<O>",
            {"dangling_relations": 1},
            2,
            0,
        ),
        ("Metformin<B-Drug><h:treats><~1><.> for<O> diabetes<O> .<O>", {"dangling_relations": 1}, 1, 0),
        (  # the pointer lands on an entity that was dropped (unknown label): dangling, not re-aimed
            "Metformin<B-Medication><.> for<O> diabetes<B-Disease><t:treats><~1><.> .<O>",
            {"unknown_labels": 1, "dangling_relations": 1},
            1,
            0,
        ),
        ("Metformin<B-Drug><.> for<O> diabetes<B-Disease><t:treats><~0><.> .<O>", {"unparsed_tags": 1}, 2, 0),
        ("Metformin<B-Medication><.> for<O> diabetes<O> .<O>", {"unknown_labels": 1}, 0, 0),
        (
            "Metformin<B-Drug><.> for<O> diabetes<B-Disease><t:cures><~1><.> .<O>",
            {"unknown_labels": 1},
            2,
            0,
        ),
        (
            "Aspirin<B-Drug><.> for<O> diabetes<B-Disease><.> .<O>",
            {"unaligned_mentions": 1, "inexact_copies": 1},
            1,
            0,
        ),
        ("", {"inexact_copies": 1}, 0, 0),
    ],
)
def test_problems_are_counted_and_the_rest_is_kept(
    completion: str, expected: dict[str, int], entities: int, relations: int
) -> None:
    parsed = parse_completion(completion, SOURCE)
    assert parsed.counts() == {key: expected.get(key, 0) for key in PROBLEM_KEYS}
    assert (len(parsed.entities), len(parsed.relations)) == (entities, relations)
    assert_well_formed(parsed, SOURCE)


_PIECES = [
    *tag_vocabulary()[:40],
    "<~0>",
    "<~999>",
    "<~x>",
    "<B-",
    "<~",
    "<h:treats",
    ">",
    "<",
    "<<O>>",
    "<B-Foo>",
    "<t:cures>",
    "<I-Nope>",
    "<.>",
    "Metformin",
    "for",
    "diabetes",
    ".",
    "2",
    "type",
    "pain",
    " ",
    " ",
    "\n",
    "\t",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(_PIECES), max_size=60))
def test_parser_never_raises_on_tag_soup(pieces: list[str]) -> None:
    text = "Metformin for type 2 diabetes . pain for diabetes ."
    assert_well_formed(parse_completion("".join(pieces), text), text)


@settings(max_examples=200, deadline=None)
@given(completion=st.text(max_size=300), text=st.text(max_size=120))
def test_parser_never_raises_on_arbitrary_text(completion: str, text: str) -> None:
    parsed = parse_completion(completion, text)
    assert_well_formed(parsed, text)
    # the parser does not judge which types a relation may link; everything else must validate
    problems = [p for p in validate(parsed.to_document("d", text)) if "cannot link" not in p]
    assert problems == []


def test_parser_never_raises_on_truncated_completions(
    simple_docs: list[Document], complex_docs: list[Document]
) -> None:
    """A generation cut anywhere (max_new_tokens) keeps exact entities before the cut and invents nothing."""
    rng = random.Random(3)
    for doc in simple_docs[:300] + complex_docs[:100]:
        completion = build_completion(doc)
        gold_entities, gold_relations = annotations(doc)
        for cut in sorted(rng.sample(range(len(completion)), 4)):
            parsed = parse_completion(completion[:cut], doc.text)
            assert_well_formed(parsed, doc.text)
            predicted_entities, predicted_relations = annotations(parsed.to_document(doc.id, doc.text))
            for start, end, label in predicted_entities:
                # exact, or the gold mention cut short by the truncation
                assert (start, end, label) in gold_entities or any(
                    s == start and e > end and t == label for s, e, t in gold_entities
                )
            exact = {(s, e) for s, e, _ in predicted_entities & gold_entities}
            for relation in predicted_relations:
                if (relation[1], relation[2]) in exact and (relation[3], relation[4]) in exact:
                    assert relation in gold_relations


# --------------------------------------------------------------------------- inexact copies


def test_dropped_and_inserted_words_are_aligned(
    simple_docs: list[Document], complex_docs: list[Document]
) -> None:
    """A model that skips or adds an outside word still gets every entity at its exact source offsets."""
    rng = random.Random(11)
    checked = 0
    for doc in simple_docs[:500] + complex_docs[:200]:
        chunks = build_completion(doc).split()
        outside = [i for i, chunk in enumerate(chunks) if chunk.endswith(OUTSIDE)]
        if not outside:
            continue
        checked += 1
        drop = rng.choice(outside)
        insert = rng.choice(outside) + 1
        for variant in (
            chunks[:drop] + chunks[drop + 1 :],
            chunks[:insert] + ["zebra<O>"] + chunks[insert:],
        ):
            parsed = parse_completion(" ".join(variant), doc.text)
            assert annotations(parsed.to_document(doc.id, doc.text)) == annotations(doc), doc.id
            assert parsed.counts()["inexact_copies"] == 1 and not parsed.copy_exact
    assert checked > 600


def test_entity_on_an_invented_word_is_unaligned_not_misplaced() -> None:
    doc = make_doc(
        "Metformin for diabetes.", [("Metformin", "Drug"), ("diabetes", "Disease")], [("treats", 0, 1)]
    )
    completion = build_completion(doc).replace("Metformin", "Metfromin")
    parsed = parse_completion(completion, doc.text)
    assert [(e.text, e.start) for e in parsed.entities] == [("diabetes", 14)]
    assert parsed.unaligned_mentions == 1 and parsed.dangling_relations == 1 and parsed.relations == []
