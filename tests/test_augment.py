"""Augmentation keeps every document valid and every knowledge-base fact true.

The main test runs each strategy over the whole ``1k`` train split (built fresh, with the
knowledge base in use, so it holds with the packaged one and with the test fixture).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from odin_medical_ner_re.augment import (
    STRATEGIES,
    Augmenter,
    augment_documents,
    load_lexicon,
    parse_strategies,
)
from odin_medical_ner_re.cli import main
from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.generator import TEMPLATES_PATH
from odin_medical_ner_re.knowledge import load_knowledge_base
from odin_medical_ner_re.schema import Document, Entity, Relation, save_documents, validate

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base()


@pytest.fixture(scope="module")
def train(tmp_path_factory):
    from odin_medical_ner_re.builder import load_dataset
    from odin_medical_ner_re.quality import dataset_documents

    # Only train is needed; the other splits are shrunk (train does not depend on their sizes).
    cache = str(tmp_path_factory.mktemp("hf-cache"))
    data = load_dataset("1k", cache_dir=cache, num_validation=1, num_test=1, num_test_unseen=1)
    return dataset_documents(data["train"])


def _facts(doc: Document, kb) -> dict[str, bool]:
    by_id = doc.entity_by_id()
    return {r.id: kb.is_edge(r.type, by_id[r.head].text, by_id[r.tail].text) for r in doc.relations}


def _held_out(form: str) -> bool:
    return form.casefold().startswith(("a", "e"))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_strategy_over_whole_1k_train(strategy, train, kb):
    assert len(train) == 1000
    out, stats = augment_documents(
        train,
        [strategy],
        factor=1,
        seed=7,
        knowledge_base=kb,
        keep_form=lambda form: not _held_out(form),
        include_originals=False,
    )
    assert stats.invalid == 0 and not stats.skipped
    assert stats.variants == len(out) >= 0.5 * len(train), stats.summary()
    assert stats.variants + stats.unchanged == len(train)
    sources = {d.id: d for d in train}
    for doc in out:
        source = sources[doc.metadata["augmented_from"]]
        assert validate(doc) == [], doc.id
        assert doc.text != source.text
        assert doc.metadata["augmentation"]
        # Relations: same ids, types and count; a knowledge-base fact stays a fact.
        assert [(r.id, r.type) for r in doc.relations] == [(r.id, r.type) for r in source.relations]
        before, after = _facts(source, kb), _facts(doc, kb)
        assert all(after[rid] for rid, was_fact in before.items() if was_fact), doc.id
        # Entity ids follow text order, as in generated notes.
        assert [e.id for e in doc.entities] == [f"T{i}" for i in range(1, len(doc.entities) + 1)]
        old_forms = {e.text.casefold() for e in source.entities}
        new_forms = {e.text.casefold() for e in doc.entities} - old_forms
        assert not [f for f in new_forms if _held_out(f)], doc.id
        if strategy in ("paraphrase", "reword"):
            assert sorted(e.text.casefold() for e in doc.entities) == sorted(
                e.text.casefold() for e in source.entities
            )
        if strategy == "substitute":
            assert [(e.type, e.negated) for e in doc.entities] == [
                (e.type, e.negated) for e in source.entities
            ]
        if strategy == "expand":
            assert len(doc.entities) >= len(source.entities)
            involved = {x for r in doc.relations for x in (r.head, r.tail)}
            assert len(involved) == len({x for r in source.relations for x in (r.head, r.tail)})


def test_all_strategies_factor_two_is_deterministic(train, kb):
    docs = train[:60]
    first, stats = augment_documents(docs, STRATEGIES, factor=2, seed=3, knowledge_base=kb)
    again, _ = augment_documents(list(reversed(docs)), STRATEGIES, factor=2, seed=3, knowledge_base=kb)
    other, _ = augment_documents(docs, STRATEGIES, factor=2, seed=4, knowledge_base=kb)
    assert first[: len(docs)] == docs  # originals first, untouched
    assert len({d.id for d in first}) == len(first) == len(docs) + stats.variants
    by_id = {d.id: d.to_dict() for d in again}
    assert all(by_id[d.id] == d.to_dict() for d in first)  # independent of document order
    assert [d.text for d in first] != [d.text for d in other]
    assert all(validate(d) == [] for d in first)


# --------------------------------------------------------------------------- hand-made notes


@pytest.fixture(scope="module")
def mini_kb():
    return load_knowledge_base(FIXTURE_KB)


def _note(
    text: str, spans: list[tuple[str, str]], relations: list[tuple[str, int, int]], negated=()
) -> Document:
    entities, position = [], 0
    for i, (surface, entity_type) in enumerate(spans):
        start = text.index(surface, position)
        entities.append(Entity(f"T{i + 1}", surface, entity_type, start, start + len(surface), i in negated))
        position = start + len(surface)
    rels = [Relation(f"R{i + 1}", t, f"T{h + 1}", f"T{tl + 1}") for i, (t, h, tl) in enumerate(relations)]
    return Document("n1", text, entities, rels)


def _variants(doc: Document, strategies: list[str], kb, n: int = 40) -> list[Document]:
    augmenter = Augmenter(strategies, knowledge_base=kb)
    out = []
    for seed in range(n):
        variant, _ = augmenter.variant(doc, random.Random(seed))
        if variant is not None:
            assert validate(variant) == []
            out.append(variant)
    return out


def test_reword_keeps_the_relation_and_changes_the_sentence(mini_kb):
    doc = _note(
        "58-year-old man with polyuria. Start metformin for type 2 diabetes.",
        [("polyuria", "Symptom"), ("metformin", "Drug"), ("type 2 diabetes", "Disease")],
        [("treats", 1, 2)],
    )
    variants = _variants(doc, ["reword"], mini_kb)
    assert variants
    texts = {v.text for v in variants}
    assert len(texts) > 3
    for v in variants:
        assert v.text.startswith("58-year-old man with polyuria. ")
        by_id = v.entity_by_id()
        (relation,) = v.relations
        assert (by_id[relation.head].text.lower(), by_id[relation.tail].text.lower()) == (
            "metformin",
            "type 2 diabetes",
        )
        assert mini_kb.is_edge("treats", by_id[relation.head].text, by_id[relation.tail].text)


def test_substitute_follows_edges_and_doses(mini_kb):
    meds = _note("Home medications include metformin 500 mg twice daily.", [("metformin", "Drug")], [])
    doses = {
        "metformin": "500 mg twice daily",
        "glucophage": "500 mg twice daily",
        "atorvastatin": "40 mg daily",
        "lipitor": "40 mg daily",
        "aspirin": "81 mg daily",
    }
    seen = set()
    for v in _variants(meds, ["substitute"], mini_kb):
        drug = v.entities[0].text
        seen.add(drug.lower())
        dose = doses.get(drug.lower())
        assert v.text == f"Home medications include {drug}{' ' + dose if dose else ''}."
    assert len(seen) > 2
    fact = _note(
        "Influenza presenting with fever.",
        [("Influenza", "Disease"), ("fever", "Symptom")],
        [("causes", 0, 1)],
    )
    for v in _variants(fact, ["substitute"], mini_kb):
        head, tail = v.entities
        assert mini_kb.is_edge("causes", head.text, tail.text)
        assert head.text[0].isupper()  # the sentence-initial capital is kept


def test_expand_adds_unrelated_distractors(mini_kb):
    doc = _note(
        "Influenza presenting with fever.",
        [("Influenza", "Disease"), ("fever", "Symptom")],
        [("causes", 0, 1)],
    )
    added = 0
    for v in _variants(doc, ["expand"], mini_kb):
        new = v.entities[2:] if v.text.startswith("Influenza presenting with fever.") else []
        for entity in new:
            concept = mini_kb.lookup(entity.text)
            assert concept is not None and concept.name not in ("influenza", "fever", "myalgia", "headache")
            assert not [
                e
                for e in mini_kb.edges
                if {e.head, e.tail} & {"influenza", "fever"} and concept.name in (e.head, e.tail)
            ]
            added += 1
        assert len(v.relations) == 1
    assert added


def test_paraphrase_never_edits_entities(mini_kb):
    doc = _note(
        "HPI: 58-year-old man presenting with polyuria. Denies fever and headache. Start metformin for T2DM.",
        [
            ("polyuria", "Symptom"),
            ("fever", "Symptom"),
            ("headache", "Symptom"),
            ("metformin", "Drug"),
            ("T2DM", "Disease"),
        ],
        [("treats", 3, 4)],
        negated=(1, 2),
    )
    variants = _variants(doc, ["paraphrase"], mini_kb)
    assert len({v.text for v in variants}) > 5
    for v in variants:
        assert sorted(e.text.lower() for e in v.entities) == sorted(e.text.lower() for e in doc.entities)
        assert {e.text.lower(): e.negated for e in v.entities} == {
            e.text.lower(): e.negated for e in doc.entities
        }


def test_documents_that_cannot_be_augmented_are_counted(mini_kb):
    overlapping = Document(
        "o",
        "chest pain",
        [Entity("T1", "chest pain", "Symptom", 0, 10), Entity("T2", "pain", "Symptom", 6, 10)],
    )
    out, stats = augment_documents([overlapping], ["paraphrase"], knowledge_base=mini_kb)
    assert out == [overlapping] and stats.skipped == {"overlapping entities": 1}


def test_the_template_file_is_read_with_the_generators_checks(tmp_path):
    """A line the generator would refuse is refused here too, not silently never used."""
    raw = yaml.safe_load(TEMPLATES_PATH.read_text(encoding="utf-8"))
    raw["mentions"]["negated_symptom"].append("Denies {E+} on {weekday}.")
    path = tmp_path / "templates.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(UserInputError, match=r"mention\.negated_symptom\.\d+: unknown slot \{weekday\}"):
        load_lexicon(str(path))


def test_bad_arguments():
    with pytest.raises(UserInputError, match="valid: paraphrase"):
        parse_strategies("paraphrase,shuffle")
    with pytest.raises(UserInputError, match="factor"):
        augment_documents([], ["paraphrase"], factor=0)


def test_cli_round_trip(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ODIN_KNOWLEDGE_DIR", str(FIXTURE_KB))
    doc = _note(
        "Influenza presenting with fever. Start oseltamivir for flu.",
        [("Influenza", "Disease"), ("fever", "Symptom"), ("oseltamivir", "Drug"), ("flu", "Disease")],
        [("causes", 0, 1), ("treats", 2, 3)],
    )
    source = save_documents([doc], tmp_path / "in.json")
    target = tmp_path / "out.jsonl"
    assert (
        main(["augment", str(source), str(target), "--factor", "3", "--seed", "1", "--allow-unseen-forms"])
        == 0
    )
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert lines[0]["id"] == "n1" and 1 < len(lines) <= 4
    assert "all:" in capsys.readouterr().out
    assert main(["augment", str(source), str(target), "--strategies", "shuffle"]) == 2
    assert "unknown strategy shuffle" in capsys.readouterr().err
