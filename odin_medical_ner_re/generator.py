"""MedicalTextGenerator: knowledge-base facts + hand-written templates -> annotated notes.

Why it is built this way:

* Every relation comes from a knowledge-base edge, and only where a template states it,
  so factual consistency is 100% by construction (and tested).
* Text is assembled piece by piece while counting characters, so offsets are exact
  without searching the text afterwards.
* All randomness flows from one local :class:`random.Random`; the global RNG is never
  touched, so the same seed gives byte-identical output in any process.
* A surface-form filter lets the builder hold some names out of training and build a
  ``test_unseen`` split from them.
"""

from __future__ import annotations

import functools
import itertools
import os
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .errors import UserInputError
from .knowledge import Concept, Edge, KnowledgeBase, load_knowledge_base
from .schema import Document, Entity, Relation, load_documents, save_documents

TEMPLATES_PATH = Path(__file__).resolve().parent / "templates" / "clinical_notes.yaml"

#: The order sections take in a note.
SECTION_ORDER: tuple[str, ...] = (
    "chief_complaint",
    "hpi",
    "history",
    "medications",
    "labs",
    "assessment",
    "plan",
    "discharge",
)

# Which sections may state each kind of fact (keys of ``facts`` in the template file).
_FACT_RELATION: dict[str, str] = {
    "causes": "causes",
    "indicates_symptom": "indicates",
    "indicates_lab": "indicates",
    "treats": "treats",
    "prevents_drug": "prevents",
    "prevents_vaccine": "prevents",
    "prevents_procedure": "prevents",
}


@dataclass(frozen=True)
class NoteOptions:
    """How rich a note is. ``simple`` suits the 1k/10k configs, ``complex`` the complex one."""

    min_facts: int = 2
    max_facts: int = 4
    max_list: int = 3
    comorbidities: tuple[int, int] = (0, 1)
    section_header_rate: float = 0.5
    full_sections: bool = False
    negation_rate: float = 0.4
    distractor_rate: float = 0.5
    abbreviation_rate: float = 0.15
    cross_sentence_rate: float = 0.0
    followup_rate: float = 0.3

    def __post_init__(self) -> None:
        if not (1 <= self.min_facts <= self.max_facts):
            raise UserInputError(f"need 1 <= min_facts <= max_facts, got {self.min_facts}, {self.max_facts}")
        if self.max_list < 1:
            raise UserInputError("max_list must be at least 1")
        for name in ("section_header_rate", "negation_rate", "distractor_rate", "abbreviation_rate",
                     "cross_sentence_rate", "followup_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise UserInputError(f"{name} must be in [0, 1], got {value}")


COMPLEXITY_PRESETS: dict[str, NoteOptions] = {
    "simple": NoteOptions(),
    "complex": NoteOptions(
        min_facts=4,
        max_facts=7,
        comorbidities=(1, 2),
        section_header_rate=1.0,
        full_sections=True,
        negation_rate=0.8,
        distractor_rate=0.9,
        abbreviation_rate=0.3,
        cross_sentence_rate=0.35,
        followup_rate=0.6,
    ),
}


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class _Template:
    id: str
    parts: tuple[tuple[bool, str], ...]  # (is_slot, literal text or slot name)


def _compile(template_id: str, text: str) -> _Template:
    parts: list[tuple[bool, str]] = []
    rest = text
    while rest:
        open_at = rest.find("{")
        if open_at < 0:
            parts.append((False, rest))
            break
        if open_at:
            parts.append((False, rest[:open_at]))
        close_at = rest.index("}", open_at)
        parts.append((True, rest[open_at + 1 : close_at]))
        rest = rest[close_at + 1 :]
    return _Template(template_id, tuple(parts))


@dataclass
class _TemplateBank:
    sections: dict[str, list[str]]
    patient: dict[str, list[str]]
    qualifiers: dict[str, list[str]]
    facts: dict[str, dict[str, list[_Template]]]
    cross: dict[str, list[tuple[_Template, _Template]]]
    mentions: dict[str, list[_Template]]
    intro: list[_Template]
    intro_history: list[_Template]
    demographics: dict[str, list[str]]

    def __post_init__(self) -> None:
        self._list_ready: dict[tuple[str, str, str], list[_Template]] = {}
        for kind, by_section in self.facts.items():
            for section, templates in by_section.items():
                for plural in ("", "T+", "H+"):
                    fitting = [t for t in templates if not plural or (True, plural) in t.parts]
                    self._list_ready[kind, section, plural] = fitting or templates

    def for_list(self, kind: str, section: str, plural: str) -> list[_Template]:
        """Templates of ``kind`` in ``section`` that can hold a list in slot ``plural`` ("" for none)."""
        return self._list_ready[kind, section, plural]

    def count(self) -> int:
        n = sum(len(v) for by_section in self.facts.values() for v in by_section.values())
        n += sum(len(v) for v in self.cross.values()) + sum(len(v) for v in self.mentions.values())
        return n + len(self.intro) + len(self.intro_history)


@functools.lru_cache(maxsize=4)
def load_templates(path: str | None = None) -> _TemplateBank:
    """Read and compile the template file once per process."""
    source = Path(path) if path else TEMPLATES_PATH
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    facts = {
        kind: {
            section: [_compile(f"{kind}.{section}.{i}", t) for i, t in enumerate(texts)]
            for section, texts in by_section.items()
        }
        for kind, by_section in raw["facts"].items()
    }
    cross = {
        kind: [(_compile(f"cross.{kind}.{i}a", a), _compile(f"cross.{kind}.{i}b", b)) for i, (a, b) in enumerate(pairs)]
        for kind, pairs in raw["cross_sentence"].items()
    }
    mentions = {
        kind: [_compile(f"mention.{kind}.{i}", t) for i, t in enumerate(texts)]
        for kind, texts in raw["mentions"].items()
    }
    patient = raw["patient"]
    return _TemplateBank(
        sections=raw["sections"],
        patient=patient,
        qualifiers=raw["qualifiers"],
        facts=facts,
        cross=cross,
        mentions=mentions,
        intro=[_compile(f"intro.{i}", t) for i, t in enumerate(patient["intro"])],
        intro_history=[_compile(f"intro_history.{i}", t) for i, t in enumerate(patient["intro_with_history"])],
        demographics=raw["demographics"],
    )


# --------------------------------------------------------------------------- the note writer


class _NoteWriter:
    """Accumulates text pieces; entity offsets are computed once, when the note is finished.

    Not tracking a running offset on every append keeps the hot path to a list append.
    """

    __slots__ = ("pieces", "text", "marks", "links", "template_ids")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.text = self.pieces.append
        self.marks: list[tuple[int, str, bool]] = []  # (piece index, type, negated)
        self.links: list[tuple[str, int, int]] = []  # (relation type, head mark, tail mark)
        self.template_ids: list[str] = []

    def entity(self, surface: str, entity_type: str, negated: bool = False) -> int:
        self.marks.append((len(self.pieces), entity_type, negated))
        self.pieces.append(surface)
        return len(self.marks) - 1

    def relate(self, relation_type: str, head: int, tail: int) -> None:
        self.links.append((relation_type, head, tail))

    def finish(self, doc_id: str, metadata: dict[str, Any]) -> Document:
        pieces = self.pieces
        offsets = [0, *itertools.accumulate(map(len, pieces))]
        entities = [
            Entity(f"T{i + 1}", pieces[p], entity_type, offsets[p], offsets[p + 1], negated)
            for i, (p, entity_type, negated) in enumerate(self.marks)
        ]
        relations = [
            Relation(f"R{i + 1}", relation_type, f"T{head + 1}", f"T{tail + 1}")
            for i, (relation_type, head, tail) in enumerate(self.links)
        ]
        return Document(doc_id, "".join(pieces), entities, relations, metadata)


def _is_vaccine(concept: Concept) -> bool:
    """Vaccines are written as given once ("administered"), not taken daily."""
    return any(word in concept.name.lower() for word in ("vaccine", "toxoid", "immunization", "immunisation"))


def _capitalize(form: str) -> str:
    if form[:1].islower() and not (len(form) > 1 and form[1].isupper()):
        return form[0].upper() + form[1:]
    return form


@dataclass
class _Mention:
    """What a slot renders: concepts with a type, or plain words."""

    concepts: Sequence[Concept] = ()
    words: str = ""
    negated: bool = False


@dataclass
class _Patient:
    sex: str
    age: int
    words: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- the generator


class MedicalTextGenerator:
    """Generate annotated clinical notes whose every relation is a knowledge-base fact.

    Args:
        seed: seed of the generator's own :class:`random.Random`.
        complexity: ``"simple"``, ``"complex"`` or a :class:`NoteOptions`.
        knowledge_base: defaults to the packaged knowledge base.
        surface_form_filter: keeps only surface forms for which it returns True (the
            builder uses it to hold names out of training for ``test_unseen``).
        **overrides: any :class:`NoteOptions` field, e.g. ``abbreviation_rate=0.3``.
    """

    def __init__(
        self,
        seed: int = 42,
        complexity: str | NoteOptions = "simple",
        knowledge_base: KnowledgeBase | None = None,
        surface_form_filter: Callable[[str], bool] | None = None,
        id_prefix: str = "doc-",
        **overrides: Any,
    ) -> None:
        if isinstance(complexity, NoteOptions):
            options = complexity
        elif complexity in COMPLEXITY_PRESETS:
            options = COMPLEXITY_PRESETS[complexity]
        else:
            raise UserInputError(f"unknown complexity {complexity!r}; valid: {', '.join(COMPLEXITY_PRESETS)}")
        unknown = set(overrides) - set(NoteOptions.__dataclass_fields__)
        if unknown:
            raise UserInputError(f"unknown option(s) {sorted(unknown)}; valid: {sorted(NoteOptions.__dataclass_fields__)}")
        self.options = replace(options, **overrides) if overrides else options
        self.seed = seed
        self.id_prefix = id_prefix
        self.rng = random.Random(seed)
        self._random = self.rng.random
        self.kb = knowledge_base or load_knowledge_base()
        self.templates = load_templates()
        self._count = 0
        self._index_knowledge(surface_form_filter)

    # ------------------------------------------------------------------ set-up

    def _index_knowledge(self, keep: Callable[[str], bool] | None) -> None:
        """Precompute allowed forms per concept and the facts usable under the filter."""
        self._plain: dict[str, list[str]] = {}
        self._abbr: dict[str, list[str]] = {}
        for concept in self.kb.concepts.values():
            abbreviations = set(concept.abbreviations)
            forms = [f for f in concept.surface_forms if keep is None or keep(f)]
            plain = [f for f in forms if f not in abbreviations]
            abbr = [f for f in forms if f in abbreviations]
            if plain or abbr:
                self._plain[concept.name] = plain
                self._abbr[concept.name] = abbr
        usable = self._plain
        self._edges_to: dict[str, dict[str, list[Edge]]] = {}
        self._edges_from_disease: dict[str, list[Edge]] = {}
        for edge in self.kb.edges:
            if edge.head not in usable or edge.tail not in usable:
                continue
            kind = self._fact_kind(edge)
            if kind == "causes":
                self._edges_from_disease.setdefault(edge.head, []).append(edge)
            else:
                self._edges_to.setdefault(edge.tail, {}).setdefault(kind, []).append(edge)
        self._prevent_edges = [
            e for by_kind in self._edges_to.values() for k, v in by_kind.items() if k.startswith("prevents") for e in v
        ]
        self._prevent_edges.sort(key=lambda e: (e.head, e.tail))
        by_type: dict[str, list[Concept]] = {}
        for name in sorted(usable):
            concept = self.kb.concepts[name]
            by_type.setdefault(concept.type, []).append(concept)
        self._by_type = by_type
        self._diseases = [
            c for c in by_type.get("Disease", [])
            if c.name in self._edges_from_disease or c.name in self._edges_to
        ]
        self._disease_names = {c.name for c in self._diseases}
        if not self._diseases:
            raise UserInputError("no disease with usable facts: the surface-form filter removed everything")
        self._sex = {name: self._sex_constraint(name) for name in usable}

    def _fact_kind(self, edge: Edge) -> str:
        if edge.relation == "indicates":
            return "indicates_lab" if edge.qualifier else "indicates_symptom"
        if edge.relation == "prevents":
            head = self.kb.concepts[edge.head]
            if head.type == "Procedure":
                return "prevents_procedure"
            return "prevents_vaccine" if _is_vaccine(head) else "prevents_drug"
        return edge.relation

    def _sex_constraint(self, name: str) -> tuple[str | None, bool]:
        lowered = name.lower()
        demographics = self.templates.demographics
        sex = None
        if any(k in lowered for k in demographics["female"]):
            sex = "female"
        elif any(k in lowered for k in demographics["male"]):
            sex = "male"
        reproductive = any(k in lowered for k in demographics["reproductive_age"])
        return sex, reproductive

    def _compatible(self, concept: Concept, patient: _Patient) -> bool:
        sex, reproductive = self._sex.get(concept.name, (None, False))
        if sex is not None and sex != patient.sex:
            return False
        return not (reproductive and not 18 <= patient.age <= 44)

    # ------------------------------------------------------------------ choices

    def _form(self, concept: Concept) -> str:
        abbr = self._abbr[concept.name]
        plain = self._plain[concept.name]
        if abbr and (not plain or self._random() < self.options.abbreviation_rate):
            return self._choice(abbr)
        if plain[0] == concept.name and len(plain) > 1 and self._random() < 0.5:
            return concept.name
        return self._choice(plain)

    def _choice(self, items: Sequence[Any]) -> Any:
        """``rng.choice`` without its overhead (a third of generation time otherwise)."""
        return items[int(self._random() * len(items))]

    def _randint(self, low: int, high: int) -> int:
        return low + int(self._random() * (high - low + 1))

    def _sample(self, items: Sequence[Any], k: int) -> list[Any]:
        if k >= len(items):
            picked = list(items)
            self.rng.shuffle(picked)
            return picked
        return self.rng.sample(items, k)

    def _list_size(self) -> int:
        return self._randint(1, self.options.max_list)

    def _pick_compatible(self, entity_type: str, patient: _Patient, exclude: set[str], k: int) -> list[Concept]:
        pool = self._by_type.get(entity_type, [])
        picked: list[Concept] = []
        for _ in range(k * 4):
            if len(picked) >= k or not pool:
                break
            candidate = self._choice(pool)
            if candidate.name in exclude or not self._compatible(candidate, patient):
                continue
            exclude.add(candidate.name)
            picked.append(candidate)
        return picked

    # ------------------------------------------------------------------ rendering

    def _render(
        self,
        template: _Template,
        writer: _NoteWriter,
        patient: _Patient,
        slots: dict[str, _Mention],
        qualifier: str | None = None,
    ) -> dict[str, list[int]]:
        """Write one sentence; return the entity ids written for each entity slot."""
        writer.template_ids.append(template.id)
        ids: dict[str, list[int]] = {}
        for index, (is_slot, value) in enumerate(template.parts):
            initial = index == 0
            if not is_slot:
                writer.text(value)
                continue
            mention = slots.get(value.rstrip("+"))
            if mention is not None and mention.concepts:
                ids[value.rstrip("+")] = self._write_list(mention, writer, initial)
                continue
            if value in ("q", "q_cap"):
                word = self._choice(self.templates.qualifiers[qualifier or "abnormal"])
                word = _capitalize(word) if value == "q_cap" or initial else word
            elif value == "duration":
                word = self._choice(self.templates.patient["duration"])
            else:
                word = patient.words[value]
            writer.text(_capitalize(word) if initial else word)
        return ids

    def _write_list(self, mention: _Mention, writer: _NoteWriter, initial: bool) -> list[int]:
        ids = []
        concepts = mention.concepts
        last = len(concepts) - 1
        oxford = self._random() < 0.3
        for i, concept in enumerate(concepts):
            if i:
                writer.text((", and " if oxford and last > 1 else " and ") if i == last else ", ")
            form = self._form(concept)
            if initial and i == 0:
                form = _capitalize(form)
            ids.append(writer.entity(form, concept.type, mention.negated))
            if mention.words:
                dose = concept.dose
                if dose:
                    writer.text(f" {dose}")
        return ids

    def _fact_sentence(
        self, kind: str, section: str, edges: list[Edge], writer: _NoteWriter, patient: _Patient
    ) -> None:
        """State ``edges`` (same head or same tail) in one sentence and annotate them."""
        heads = list(dict.fromkeys(e.head for e in edges))
        tails = list(dict.fromkeys(e.tail for e in edges))
        plural = "T+" if len(tails) > 1 else "H+" if len(heads) > 1 else ""
        template = self._choice(self.templates.for_list(kind, section, plural))
        concepts = self.kb.concepts
        slots = {"H": _Mention([concepts[h] for h in heads]), "T": _Mention([concepts[t] for t in tails])}
        ids = self._render(template, writer, patient, slots, qualifier=edges[0].qualifier)
        self._annotate(kind, edges, heads, tails, ids, writer)

    def _annotate(
        self, kind: str, edges: list[Edge], heads: list[str], tails: list[str],
        ids: dict[str, list[int]], writer: _NoteWriter,
    ) -> None:
        head_ids = dict(zip(heads, ids.get("H", []), strict=False))
        tail_ids = dict(zip(tails, ids.get("T", []), strict=False))
        relation = _FACT_RELATION[kind]
        for edge in edges:
            if edge.head in head_ids and edge.tail in tail_ids:
                writer.relate(relation, head_ids[edge.head], tail_ids[edge.tail])

    def _cross_sentence(self, kind: str, edges: list[Edge], writer: _NoteWriter, patient: _Patient) -> None:
        first, second = self._choice(self.templates.cross[kind])
        concepts = self.kb.concepts
        heads = list(dict.fromkeys(e.head for e in edges))
        tails = list(dict.fromkeys(e.tail for e in edges))
        slots = {"H": _Mention([concepts[h] for h in heads]), "T": _Mention([concepts[t] for t in tails])}
        ids = self._render(first, writer, patient, slots, qualifier=edges[0].qualifier)
        writer.text(" ")
        ids.update(self._render(second, writer, patient, slots, qualifier=edges[0].qualifier))
        self._annotate(kind, edges, heads, tails, ids, writer)

    def _mention_sentence(
        self, kind: str, concepts: Sequence[Concept], writer: _NoteWriter, patient: _Patient,
        negated: bool = False, with_dose: bool = False,
    ) -> None:
        templates = self.templates.mentions[kind]
        if len(concepts) > 1:
            templates = [t for t in templates if any(v == "E+" for s, v in t.parts if s)] or templates
        template = self._choice(templates)
        slot = next((v for s, v in template.parts if s and v.startswith("E")), "E")
        chosen = concepts if slot == "E+" else concepts[:1]
        self._render(template, writer, patient, {"E": _Mention(chosen, "dose" if with_dose else "", negated)})

    # ------------------------------------------------------------------ planning a note

    def _plan_facts(self, disease: Concept, patient: _Patient) -> list[tuple[str, list[Edge]]]:
        """Facts to state about one disease: (kind, edges sharing a head or a tail)."""
        options: dict[str, list[Edge]] = {}
        causes = [e for e in self._edges_from_disease.get(disease.name, ()) if self._ok(e.tail, patient)]
        if causes:
            options["causes"] = causes
        for kind, edges in self._edges_to.get(disease.name, {}).items():
            usable = [e for e in edges if self._ok(e.head, patient)]
            if usable:
                options[kind] = usable
        if not any(k.startswith("prevents") for k in options) and self._prevent_edges:
            options["prevents_any"] = self._prevent_edges
        kinds = sorted(options)
        n = self._randint(self.options.min_facts, self.options.max_facts)
        chosen = self._sample(kinds, n)
        facts = []
        for kind in chosen:
            edges = options[kind]
            if kind == "prevents_any":
                edge = self._choice(edges)
                if not (self._ok(edge.head, patient) and self._ok(edge.tail, patient)):
                    continue
                facts.append((self._fact_kind(edge), [edge]))
            elif kind in ("causes", "indicates_symptom"):
                facts.append((kind, self._sample(edges, self._list_size())))
            else:
                facts.append((kind, [self._choice(edges)]))
        return facts

    def _ok(self, name: str, patient: _Patient) -> bool:
        return self._compatible(self.kb.concepts[name], patient)

    def _new_patient(self, disease: Concept) -> _Patient:
        sex_constraint, reproductive = self._sex[disease.name]
        sex = sex_constraint or self._choice(("female", "male"))
        age = self._randint(19, 44) if reproductive else self._randint(18, 92)
        female = sex == "female"
        words = {
            "age": str(age),
            "sex": self._choice(self.templates.patient[sex]),
            "Pronoun": "She" if female else "He",
            "pronoun": "she" if female else "he",
            "possessive": "her" if female else "his",
        }
        return _Patient(sex, age, words)

    # ------------------------------------------------------------------ public API

    def generate_clinical_note(self, doc_id: str | None = None) -> Document:
        """One annotated note; successive calls continue the same random stream."""
        self._count += 1
        rng = self.rng
        opts = self.options
        primary = self._choice(self._diseases)
        patient = self._new_patient(primary)
        diseases = [primary]
        used = {primary.name}
        n_comorbid = self._randint(*opts.comorbidities)
        diseases += [d for d in self._pick_compatible("Disease", patient, used, n_comorbid) if d.name in self._disease_names]
        facts: list[tuple[str, list[Edge]]] = []
        stated: set[Edge] = set()
        for disease in diseases:
            for kind, edges in self._plan_facts(disease, patient):
                if stated.isdisjoint(edges):
                    stated.update(edges)
                    facts.append((kind, edges))
                    used.update(e.head for e in edges)
                    used.update(e.tail for e in edges)

        # Sentences per section, then written in section order.
        by_section: dict[str, list[Callable[[_NoteWriter], None]]] = {s: [] for s in SECTION_ORDER}
        fact_sections = self.templates.facts
        for kind, edges in facts:
            if opts.cross_sentence_rate and kind in self.templates.cross and self._random() < opts.cross_sentence_rate:
                section = "assessment" if kind != "indicates_lab" else "labs"
                by_section[section].append(functools.partial(self._cross_sentence, kind, edges, patient=patient))
                continue
            section = self._choice(sorted(fact_sections[kind]))
            by_section[section].append(functools.partial(self._fact_sentence, kind, section, edges, patient=patient))
        self._plan_mentions(by_section, primary, facts, patient, used)

        writer = _NoteWriter()
        headers = self._random() < opts.section_header_rate
        first = True
        for section in SECTION_ORDER:
            sentences = by_section[section]
            if not sentences:
                continue
            if section not in ("chief_complaint", "hpi", "history", "medications"):
                rng.shuffle(sentences)
            if headers:
                if not first:
                    writer.text("\n\n" if opts.full_sections else "\n")
                writer.text(self._choice(self.templates.sections[section]) + " ")
            elif not first:
                writer.text(" ")
            first = False
            for i, sentence in enumerate(sentences):
                if i:
                    writer.text(" ")
                sentence(writer)
        doc_id = doc_id or f"{self.id_prefix}{self._count:06d}"
        return writer.finish(doc_id, {"seed": self.seed, "index": self._count, "templates": writer.template_ids})

    def _plan_mentions(
        self,
        by_section: dict[str, list[Callable[[_NoteWriter], None]]],
        primary: Concept,
        facts: list[tuple[str, list[Edge]]],
        patient: _Patient,
        used: set[str],
    ) -> None:
        """Context sentences without relations: intro, negations, history, meds, labs."""
        opts = self.options
        concepts = self.kb.concepts
        symptoms = [concepts[e.tail] for k, edges in facts if k == "causes" for e in edges]
        add = functools.partial
        if opts.full_sections:
            cc = symptoms[:2] or self._pick_compatible("Symptom", patient, set(used), 1)
            if cc:
                by_section["chief_complaint"].append(lambda w, cc=cc: self._chief_complaint(cc, w, patient))
        history = self._pick_compatible("Disease", patient, used, self._list_size())
        if history and (opts.full_sections or self._random() < 0.5):
            intro = self._choice(self.templates.intro_history)
            by_section["hpi"].insert(0, lambda w, t=intro, h=history: self._render(t, w, patient, {"E": _Mention(h)}))
        else:
            intro_symptoms = symptoms[: opts.max_list] or self._pick_compatible("Symptom", patient, set(used), 1)
            intro = self._choice(self.templates.intro)
            by_section["hpi"].insert(
                0, lambda w, t=intro, s=intro_symptoms: self._render(t, w, patient, {"E": _Mention(s)})
            )
        if self._random() < opts.negation_rate:
            negated = self._pick_compatible("Symptom", patient, used, self._list_size())
            if negated:
                by_section["hpi"].append(add(self._mention_sentence, "negated_symptom", negated, patient=patient, negated=True))
        if opts.full_sections and self._random() < opts.negation_rate:
            negated_disease = self._pick_compatible("Disease", patient, used, 1)
            if negated_disease:
                by_section["assessment"].append(
                    add(self._mention_sentence, "negated_disease", negated_disease, patient=patient, negated=True)
                )
        if self._random() < opts.distractor_rate:
            self._distractors(by_section, history, patient, used)
        if self._random() < opts.followup_rate:
            by_section["plan"].append(add(self._mention_sentence, "followup", [], patient=patient))

    def _chief_complaint(self, symptoms: list[Concept], writer: _NoteWriter, patient: _Patient) -> None:
        writer.template_ids.append("chief_complaint")
        for i, concept in enumerate(symptoms):
            if i:
                writer.text(" and ")
            form = self._form(concept)
            writer.entity(_capitalize(form) if i == 0 else form, "Symptom")
        writer.text(".")

    def _distractors(
        self,
        by_section: dict[str, list[Callable[[_NoteWriter], None]]],
        history: list[Concept],
        patient: _Patient,
        used: set[str],
    ) -> None:
        opts = self.options
        add = functools.partial
        kinds = ["medication", "normal_lab", "procedure_history", "pending"]
        chosen = kinds if opts.full_sections else [self._choice(kinds)]
        for kind in chosen:
            if kind == "medication":
                # Home medications are true treatments of the listed history, written without relation.
                drugs = []
                for disease in history:
                    treatments = [
                        self.kb.concepts[e.head] for e in self._edges_to.get(disease.name, {}).get("treats", ())
                        if e.head not in used and self._ok(e.head, patient)
                    ]
                    if treatments:
                        drug = self._choice(treatments)
                        used.add(drug.name)
                        drugs.append(drug)
                if drugs:
                    section = "medications" if opts.full_sections else "hpi"
                    by_section[section].append(add(self._mention_sentence, "medication", drugs, patient=patient, with_dose=True))
            elif kind == "procedure_history":
                procedures = self._pick_compatible("Procedure", patient, used, 1)
                if procedures:
                    section = "history" if opts.full_sections else "hpi"
                    by_section[section].append(add(self._mention_sentence, kind, procedures, patient=patient))
            else:
                labs = self._pick_compatible("Lab_Test", patient, used, self._list_size())
                labs = [lab for lab in labs if not self._indicates_any(lab, used)]
                if labs:
                    by_section["labs"].append(add(self._mention_sentence, kind, labs, patient=patient))

    def _indicates_any(self, lab: Concept, used: set[str]) -> bool:
        """A lab that is a marker of a disease in this note must not be called normal."""
        return any(e.tail in used for e in self.kb.edges_from.get(lab.name, ()))

    def generate_dataset(self, num_samples: int, show_progress: bool = False) -> list[Document]:
        """``num_samples`` notes (seed-compatible API)."""
        return list(self.iter_documents(num_samples, show_progress=show_progress))

    def iter_documents(self, num_samples: int, show_progress: bool = False) -> Iterable[Document]:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
            raise UserInputError(f"num_samples must be a positive integer, got {num_samples!r}")
        indices: Iterable[int] = range(num_samples)
        if show_progress:
            from tqdm.auto import tqdm

            indices = tqdm(indices, desc="generating notes", unit="doc")
        for _ in indices:
            yield self.generate_clinical_note()

    @staticmethod
    def save_dataset(documents: Iterable[Document], path: str | os.PathLike[str], fmt: str | None = None) -> Path:
        """Write documents atomically as JSON (or JSONL by suffix / ``fmt``)."""
        return save_documents(documents, path, fmt)

    @staticmethod
    def load_dataset(path: str | os.PathLike[str]) -> list[Document]:
        """Read documents saved by :meth:`save_dataset` or in the seed's JSON shape."""
        return load_documents(path)
