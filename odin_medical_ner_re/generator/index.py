"""What the knowledge base offers a note: terms, facts per disease, and the terms each patient may have.

Everything here depends only on the knowledge base, the surface-form filter, the options
and the template file, never on the random stream: it is computed once when a generator
is made (or once per sex and age band, then cached), so that planning a note only draws.
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import NamedTuple

from ..errors import UserInputError
from ..knowledge import Concept, Edge, KnowledgeBase
from .options import NoteOptions
from .templates import FACT_RELATION, TemplateBank
from .terms import ADULT, Term


class Fact(NamedTuple):
    """A knowledge-base edge as planning states it (a tuple: it hashes and compares in C)."""

    id: int  # the edge's position in the knowledge base
    kind: str  # the fact kind of the template file ("treats", "indicates_lab", ...)
    head: Term
    tail: Term
    qualifier: str | None


class Option(NamedTuple):
    """A fact kind a note may state about one disease."""

    kind: str
    facts: tuple[Fact, ...]  # the facts of that kind the patient's band allows
    list_slot: str  # which slot may hold a list: "H", "T" or ""


#: The option of stating any prevention fact the patient's band allows.
PREVENTS_ANY = "prevents_any"
_VITAL_SIGNS = ("hyperthermia", "fever", "tachycardia", "tachypnea", "bradypnea")


def is_given_once(concept: Concept) -> bool:
    """Vaccines and immune globulins are administered, not taken daily: they get their own templates."""
    lowered = concept.name.lower()
    return any(word in lowered for word in ("vaccine", "toxoid", "immune globulin", "immunization"))


class Band:
    """The terms a patient of one sex and age band may have, grouped the way planning draws them.

    Computed once per band, so no note re-checks sex and age constraints term by term.
    """

    __slots__ = (
        "allowed",
        "diseases",
        "reported",
        "exam_findings",
        "procedures",
        "labs",
        "prevent_facts",
        "options",
    )

    def __init__(self, sex: str, age: int, terms: Sequence[Term], prevent_facts: Sequence[Fact]) -> None:
        self.allowed = frozenset(
            t for t in terms if (t.sex is None or t.sex == sex) and t.ages[0] <= age <= t.ages[1]
        )
        ordinary = [t for t in terms if t in self.allowed and not t.fetal]
        self.diseases = [t for t in ordinary if t.type == "Disease"]
        self.reported = [t for t in ordinary if t.type == "Symptom" and not t.exam]
        self.exam_findings = [t for t in ordinary if t.type == "Symptom" and t.exam]
        self.procedures = [t for t in ordinary if t.type == "Procedure"]
        self.labs = [t for t in ordinary if t.type == "Lab_Test"]
        self.prevent_facts = tuple(
            f for f in prevent_facts if f.head in self.allowed and f.tail in self.allowed
        )
        self.options: dict[Term, tuple[Option, ...]] = {}  # filled by KnowledgeIndex.fact_options


class KnowledgeIndex:
    """Terms, facts by disease and bands of one generator (its knowledge base, filter and options)."""

    def __init__(
        self,
        kb: KnowledgeBase,
        templates: TemplateBank,
        options: NoteOptions,
        keep: Callable[[str], bool] | None,
    ) -> None:
        self.kb = kb
        self.templates = templates
        self._index_terms(keep, options.abbreviation_rate)
        self._index_facts()

    def _index_terms(self, keep: Callable[[str], bool] | None, rate: float) -> None:
        """Drawable surface forms (those ``keep`` allows) and constraints of every concept."""
        self.terms: dict[str, Term] = {}
        excluded = tuple(self.templates.demographics.get("excluded") or ())
        for concept in self.kb.concepts.values():
            if any(k in concept.name.lower() for k in excluded):
                continue
            abbreviations = set(concept.abbreviations)
            forms = [f for f in concept.surface_forms if keep is None or keep(f)]
            if forms:
                plain = [f for f in forms if f not in abbreviations]
                term = Term(concept, plain, [f for f in forms if f in abbreviations], rate)
                self._constrain(term)
                self.terms[concept.name] = term
        self.sorted_terms = sorted(self.terms.values(), key=lambda t: t.name)
        self._age_cuts = sorted({a for t in self.sorted_terms for a in (t.ages[0], t.ages[1] + 1)} - {18, 93})
        self._bands: dict[tuple[str, int], Band] = {}

    def _index_facts(self) -> None:
        """Facts by the disease they are about; the diseases a note can be about."""
        self.facts_of: dict[str, list[Fact]] = {}
        for index, edge in enumerate(self.kb.edges):
            head, tail = self.terms.get(edge.head), self.terms.get(edge.tail)
            if head is not None and tail is not None:
                disease = head.name if edge.relation == "causes" else tail.name
                fact = Fact(index, self._fact_kind(edge, head, tail), head, tail, edge.qualifier)
                self.facts_of.setdefault(disease, []).append(fact)
        self.diseases = [
            t for t in self.sorted_terms if t.type == "Disease" and not t.fetal and t.name in self.facts_of
        ]
        if not self.diseases:
            raise UserInputError("no disease with usable facts: the surface-form filter removed everything")
        prevent = (
            f for facts in self.facts_of.values() for f in facts if FACT_RELATION[f.kind] == "prevents"
        )
        self._prevent_facts = sorted(prevent, key=itemgetter(0))
        self._shared_options: dict[Term, tuple[tuple[Option, ...], bool]] = {}
        self.lab_targets = {
            term: frozenset(
                self.terms[e.tail] for e in self.kb.edges_from.get(term.name, ()) if e.tail in self.terms
            )
            for term in self.sorted_terms
            if term.type == "Lab_Test"
        }

    def _constrain(self, term: Term) -> None:
        """Sex, age, role and vital-sign flags from the keyword lists of the template file."""
        lowered = term.name.lower()
        demographics = self.templates.demographics

        def matches(key: str) -> bool:
            return any(k in lowered for k in demographics.get(key) or ())

        if matches("female"):
            term.sex = "female"
        elif matches("male"):
            term.sex = "male"
        for key, ages in (
            ("reproductive_age", (19, 44)),
            ("young_adult", (18, 30)),
            ("older_adult", (50, 92)),
        ):
            if matches(key):
                term.ages = ages
        if matches("fetal"):
            term.fetal, term.sex, term.ages = True, "female", (19, 44)
        vitals = self.templates.vitals
        term.exam = term.type == "Symptom" and term.name in self.templates.exam_findings
        term.unstable = term.type == "Disease" and any(k in lowered for k in vitals["skip_if"])
        if term.type == "Symptom":
            term.vital_sign = next((sign for sign in _VITAL_SIGNS if term.name in vitals["signs"][sign]), "")

    def _fact_kind(self, edge: Edge, head: Term, tail: Term) -> str:
        if edge.relation == "causes":
            return "causes_exam" if tail.exam else "causes"
        if edge.relation == "indicates":
            if head.type == "Lab_Test":
                return "indicates_lab"
            return "indicates_exam" if head.exam else "indicates_symptom"
        if edge.relation == "prevents":
            if head.type == "Procedure":
                return "prevents_procedure"
            return "prevents_vaccine" if is_given_once(self.kb.concepts[head.name]) else "prevents_drug"
        return edge.relation

    def band(self, sex: str, age: int) -> Band:
        """Terms compatible with a patient of this sex and age band (cached per band)."""
        key = (sex, bisect(self._age_cuts, age))
        band = self._bands.get(key)
        if band is None:
            band = self._bands[key] = Band(sex, age, self.sorted_terms, self._prevent_facts)
        return band

    def fact_options(self, disease: Term, band: Band) -> tuple[Option, ...]:
        """(kind, compatible facts, list slot) about ``disease`` for a patient of ``band``.

        Cached in the band. Most diseases have no sex- or age-specific fact: their options
        are computed once and shared by all bands. No vaccine is planned against the disease
        the note is about: one does not vaccinate against the infection being treated.
        """
        shared = self._shared_options.get(disease)
        if shared is None:
            shared = self._shared_options[disease] = self._options_for(disease, None)
        options, constrained = shared
        if constrained:
            options, _ = self._options_for(disease, band.allowed)
        if band.prevent_facts and not any(FACT_RELATION[option.kind] == "prevents" for option in options):
            options += (Option(PREVENTS_ANY, band.prevent_facts, ""),)
        band.options[disease] = options
        return options

    def _options_for(self, disease: Term, allowed: frozenset[Term] | None) -> tuple[tuple[Option, ...], bool]:
        """Options from the facts allowed (all when ``allowed`` is None); whether any fact is constrained."""
        by_kind: dict[str, list[Fact]] = {}
        constrained = False
        for fact in self.facts_of.get(disease.name, ()):
            if fact.kind == "prevents_vaccine":
                continue
            constrained = constrained or any(
                t.sex or t.fetal or t.ages != ADULT for t in (fact.head, fact.tail)
            )
            if allowed is None or (fact.head in allowed and fact.tail in allowed):
                by_kind.setdefault(fact.kind, []).append(fact)
        list_slot = self.templates.list_slot
        options = tuple(
            Option(kind, tuple(facts), list_slot[kind]) for kind, facts in sorted(by_kind.items())
        )
        return options, constrained
