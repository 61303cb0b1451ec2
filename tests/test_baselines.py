"""The CRF baseline's domain-aware training: synthetic text adds, the target corpus decides."""

from __future__ import annotations

import pytest

from odin_medical_ner_re.corpora.baselines import CrfTagger, with_domain
from odin_medical_ner_re.schema import Document, Entity

TEXT = "Patients received saline and aspirin daily."


def _doc(i: int, saline_is_drug: bool) -> Document:
    entities = [Entity("T1", "aspirin", "Drug", 29, 36)]
    if saline_is_drug:
        entities.insert(0, Entity("T0", "saline", "Drug", 18, 24))
    return Document(f"d{i}", TEXT, entities)


REAL = [_doc(i, saline_is_drug=False) for i in range(4)]
SYNTHETIC = [_doc(100 + i, saline_is_drug=True) for i in range(20)]


def _tagged(predictions: list[dict]) -> set[str]:
    return {e["text"] for e in predictions[0]["entities"]}


def test_plain_training_follows_the_majority_source() -> None:
    tagger = CrfTagger(c1=0.0, c2=0.01).fit(REAL + SYNTHETIC)
    assert _tagged(tagger.predict(REAL[:1])) == {"saline", "aspirin"}


def test_domain_aware_training_tags_as_the_target_corpus_does() -> None:
    domains = ["real"] * len(REAL) + ["synthetic"] * len(SYNTHETIC)
    tagger = CrfTagger(c1=0.0, c2=0.01).fit(REAL + SYNTHETIC, domains=domains)
    assert _tagged(tagger.predict(REAL[:1])) == {"aspirin"}
    as_synthetic = CrfTagger(c1=0.0, c2=0.01).fit(REAL + SYNTHETIC, domains=domains, target_domain="synthetic")
    assert _tagged(as_synthetic.predict(REAL[:1])) == {"saline", "aspirin"}


def test_domain_labels_must_match_the_documents() -> None:
    with pytest.raises(ValueError, match="2 domain labels for 4 documents"):
        CrfTagger().fit(REAL, domains=["real", "real"])


def test_with_domain_adds_marked_copies() -> None:
    assert with_domain([["w=a", "bias"]], "real") == [["w=a", "bias", "real|w=a", "real|bias"]]
    assert with_domain([["w=a"]], None) == [["w=a"]]
