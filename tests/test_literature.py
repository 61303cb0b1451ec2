"""The literature-style generator: exact offsets, true relations, determinism, the unseen split."""

from __future__ import annotations

from collections import Counter

import pytest

from odin_medical_ner_re.builder import surface_form_filter
from odin_medical_ner_re.knowledge import load_knowledge_base
from odin_medical_ner_re.literature.generator import (
    LiteratureGenerator,
    adverse_effects,
    british,
    capitalize,
    context_lexicon,
    initials,
    load_templates,
    pluralize,
)
from odin_medical_ner_re.schema import ENTITY_TYPES, validate


@pytest.fixture(scope="module")
def documents():
    return LiteratureGenerator(seed=11).generate_dataset(400)


def test_every_document_validates_and_offsets_are_exact(documents):
    for doc in documents:
        assert validate(doc) == []
        for entity in doc.entities:
            assert doc.text[entity.start : entity.end] == entity.text


def test_every_relation_is_a_knowledge_base_edge_read_from_the_text(documents):
    kb = load_knowledge_base()
    relations = 0
    for doc in documents:
        by_id = {e.id: e for e in doc.entities}
        for relation in doc.relations:
            relations += 1
            assert kb.is_edge(relation.type, by_id[relation.head].text, by_id[relation.tail].text), doc.text
    assert relations > 400


def test_all_relation_types_and_entity_types_occur(documents):
    assert {r.type for d in documents for r in d.relations} == {"treats", "causes", "indicates", "prevents"}
    assert {e.type for d in documents for e in d.entities} == set(ENTITY_TYPES)


def test_every_entity_type_is_at_least_five_percent_of_mentions():
    docs = LiteratureGenerator(seed=5).generate_dataset(1000)
    counts = Counter(e.type for d in docs for e in d.entities)
    total = sum(counts.values())
    assert min(counts[t] / total for t in ENTITY_TYPES) >= 0.05, counts


def test_same_seed_same_documents_and_other_seed_differs():
    first = [d.to_dict() for d in LiteratureGenerator(seed=3).generate_dataset(30)]
    again = [d.to_dict() for d in LiteratureGenerator(seed=3).generate_dataset(30)]
    other = [d.to_dict() for d in LiteratureGenerator(seed=4).generate_dataset(30)]
    assert first == again
    assert first != other


def test_global_random_state_is_untouched():
    import random

    random.seed(123)
    expected = random.random()
    random.seed(123)
    LiteratureGenerator(seed=1).generate_dataset(5)
    assert random.random() == expected


def test_abbreviations_are_defined_in_parentheses_before_use(documents):
    defined = 0
    for doc in documents:
        entities = doc.entities
        for first, second in zip(entities, entities[1:], strict=False):
            if doc.text[first.end : second.start] == " (" and doc.text[second.end : second.end + 1] == ")":
                defined += 1
                assert second.type == first.type
    assert defined > 50


def test_literature_register_is_present(documents):
    text = " ".join(d.text for d in documents)
    assert "-induced " in text
    assert "patients with " in text
    assert any(h in text for h in ("METHODS: ", "RESULTS: ", "CONCLUSIONS: "))


def test_held_out_forms_never_cross_between_unseen_and_train():
    train = LiteratureGenerator(seed=1, surface_form_filter=surface_form_filter("train", 42, 0.2))
    unseen = LiteratureGenerator(seed=2, surface_form_filter=surface_form_filter("test_unseen", 42, 0.2))
    seen_forms = {e.text.casefold() for d in train.generate_dataset(300) for e in d.entities}
    unseen_forms = {e.text.casefold() for d in unseen.generate_dataset(300) for e in d.entities}
    assert unseen_forms
    assert not seen_forms & unseen_forms


def test_broad_vocabulary_widens_the_names_of_unrelated_mentions():
    kb = load_knowledge_base()

    def outside_kb(generator: LiteratureGenerator) -> set[str]:
        docs = generator.generate_dataset(300)
        return {  # names, not the abbreviations coined for them
            e.text.casefold() for d in docs for e in d.entities
            if kb.lookup(e.text) is None and not e.text.isupper() and len(e.text) > 4
        }  # fmt: skip

    narrow = outside_kb(LiteratureGenerator(seed=9, broad_vocabulary=False))
    broad = outside_kb(LiteratureGenerator(seed=9))
    assert len(broad) > 2 * len(narrow)


def test_templates_parse_and_state_only_schema_relations():
    templates = load_templates()
    valid = {"treats", "causes", "indicates", "prevents"}
    for kind, parts in templates.items():
        for part, lines in parts.items():
            for line in lines:
                for relation, head, tail in line.relations:
                    assert relation in valid, (kind, part, line.text)
                    assert head in line.slots or tail in line.slots, (kind, part, line.text)


def test_adverse_effect_table_is_well_formed():
    table = adverse_effects()
    for section in ("drugs", "experimental"):
        for agent, effects in table[section].items():
            assert isinstance(agent, str) and effects and all(isinstance(e, str) for e in effects)
    assert all(isinstance(v, str) for v in table["chemical_abbreviations"].values())
    assert table["chemical_abbreviations"]["nitric oxide"] == "NO"  # not YAML's boolean


@pytest.mark.parametrize(
    ("form", "plural"),
    [("seizure", "seizures"), ("arrhythmia", "arrhythmias"), ("tumor", "tumors"), ("headache", "headaches"),
     ("chest pain", "chest pain"), ("MI", "MI"), ("psoriasis", "psoriasis"), ("seizures", "seizures")],
)  # fmt: skip
def test_pluralize(form, plural):
    assert pluralize(form) == plural


def test_small_helpers():
    assert capitalize("metformin") == "Metformin"
    assert capitalize("eGFR") == "eGFR"
    assert initials("acute renal failure") == "ARF"
    assert initials("asthma") is None
    assert british("tumor") == "tumour"
    assert british("hemorrhage") == "haemorrhage"
    assert british("chemotherapy") == "chemotherapy"


def test_context_phrases_and_modifiers_are_written_outside_every_span():
    generator = LiteratureGenerator(seed=4, context_rate=0.5)
    docs = generator.generate_dataset(200)
    phrases = [*generator.context["measures"], *generator.context["proteins"], *generator.context["efforts"]]
    found = 0
    for doc in docs:
        for phrase in phrases:
            start = doc.text.find(phrase)
            if start >= 0:  # never a mention of its own, never cutting one ("decreased urine output" holds it)
                found += 1
                end = start + len(phrase)
                assert not any(e.start == start and e.end == end for e in doc.entities), (phrase, doc.text)
                assert all(
                    end <= e.start or start >= e.end or e.start <= start and end <= e.end for e in doc.entities
                ), (phrase, doc.text)
    assert found > 50
    modifiers = {w.casefold() for w in (*generator.context["disease_modifiers"], *generator.context["drug_modifiers"])}
    before_mentions = Counter()
    for doc in docs:
        for entity in doc.entities:
            words = doc.text[: entity.start].split()
            if words and words[-1].casefold() in modifiers:
                before_mentions[entity.type] += 1
    assert before_mentions["Disease"] > 20 and before_mentions["Drug"] > 20, before_mentions


def test_context_lexicon_names_no_entity():
    kb = load_knowledge_base()
    generator = LiteratureGenerator(seed=1)
    for key, phrases in generator.context.items():
        assert phrases, key
        assert all(kb.lookup(p) is None for p in phrases), key
    assert set(generator.context) == set(context_lexicon())


def test_context_rate_zero_writes_no_context():
    def measures_written(rate: float) -> int:
        docs = LiteratureGenerator(seed=4, context_rate=rate).generate_dataset(150)
        return sum(d.text.count(p) for d in docs for p in context_lexicon()["measures"])

    assert 5 * measures_written(0.0) < measures_written(0.12)  # the few left are inside longer names
