"""Planning a note: which knowledge-base facts it states, in which sections, and what else it mentions.

A plan is a list of sentences per section, each a :data:`Sentence` tuple naming the
templates it may be written with, its heads and tails and the relation between them. Only
facts whose templates exist are planned, so every relation written is a knowledge-base edge.
Nothing is written here: :mod:`.writing` turns the plan into text and offsets.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from .draws import Draws
from .index import PREVENTS_ANY, Band, KnowledgeIndex
from .options import NoteOptions
from .steps import Line, Template
from .templates import FACT_RELATION, SECTION_INDEX, SECTION_ORDER, SexBank, TemplateBank
from .terms import ADULT, Term

#: A planned sentence: ``(op, table, heads, tails, qualifier, negated, dose, relation)``, where
#: ``op`` is TEMPLATE_OP, CROSS_OP (a fact over two sentences), CC_OP (chief complaint) or
#: TEXT_OP; ``table`` the template table (TEMPLATE_OP), the fact kind (CROSS_OP) or the text
#: (TEXT_OP); ``qualifier`` the lab result class the fact states ("elevated", ...); ``negated``
#: whether the entities are denied; ``dose`` whether drugs are written with their dose;
#: ``relation`` the relation written between every head and every tail, or None. Readers
#: unpack it by these names. It stays a plain tuple: one is built for every sentence of every
#: note, and a NamedTuple made generation 11% slower (``perf/bench_generate.py``).
Sentence = tuple[int, Any, Sequence[Term], Sequence[Term], "str | None", bool, bool, "str | None"]
TEMPLATE_OP, CROSS_OP, CC_OP, TEXT_OP = range(4)
_INTRO, _MENTIONS = "intro", "mentions"  # keys of a sex's routes besides the fact kinds
_HPI_SECTION, _VITALS_SECTION, _CC_SECTION = (SECTION_INDEX[s] for s in ("hpi", "vitals", "chief_complaint"))
_NO_SENTENCES = ((),) * len(SECTION_ORDER)
#: Index permutations of small option sets: one random draw orders a whole set.
_PERMUTATIONS = [tuple(itertools.permutations(range(k))) for k in range(7)]
_PREVENTION_KINDS = frozenset(k for k, relation in FACT_RELATION.items() if relation == "prevents")
#: Sections whose sentences keep their planned order (the intro must open the HPI); the
#: sentences of the other sections are shuffled.
_NARRATIVE_SECTIONS = frozenset(
    SECTION_INDEX[s] for s in ("chief_complaint", "hpi", "history", "medications")
)

#: Plausible vital-sign ranges (adult, at rest). Abnormal values appear only when the note
#: asserts the matching sign (fever, tachycardia, ...), so vitals never contradict the text.
_TEMP_C = {"normal": (36.2, 37.4), "fever": (38.0, 39.6), "hyperthermia": (39.8, 41.2)}
_HEART_RATE = {"normal": (56, 99), "tachycardia": (102, 136)}
_RESP_RATE = {"normal": (12, 20), "tachypnea": (22, 32), "bradypnea": (6, 10)}
_SPO2 = {"normal": (94, 100), "bradypnea": (86, 92)}
_SYSTOLIC, _DIASTOLIC = (104, 158), (60, 96)
_AGE_WORDS = [str(age) for age in range(ADULT[1] + 1)]
_AN_AGE_WORDS = [
    f"{'an' if age in (11, 18) or 80 <= age <= 89 else 'a'} {age}" for age in range(ADULT[1] + 1)
]


def _routes(bank: SexBank) -> dict[str, Any]:
    """Per fact kind, the (section index, templates) it may be written in; plus intros, mentions.

    Templates come as flat tables (see :func:`_flat`) so that choosing one is one draw.
    """
    routes: dict[str, Any] = {
        kind: tuple((SECTION_INDEX[section], _flat(lines)) for section, lines in by_section.items())
        for kind, by_section in bank.facts.items()
    }
    routes[_INTRO] = (_flat(bank.intro), _flat(bank.intro_history))
    routes[_MENTIONS] = {kind: _flat(lines) for kind, lines in bank.mentions.items()}
    return routes


_MAX_REPEAT = 48


def _flat(lines: Sequence[Line]) -> tuple[Template, ...]:
    """One table of templates in which every line has the same total weight.

    A line is one phrasing or several (when it opens with a group), so a line of k
    variants repeats each of them ``lcm/k`` times: drawing one entry of the table is then
    drawing a line uniformly and one of its variants uniformly, with one random number.
    """
    unit = min(math.lcm(*(len(line) for line in lines)), _MAX_REPEAT)
    return tuple(
        template for line in lines for template in line for _ in range(max(1, round(unit / len(line))))
    )


class Plan:
    """What one note will say, gathered section by section before anything is written."""

    __slots__ = ("band", "routes", "used", "stated", "sections", "asserted", "random")

    def __init__(
        self, band: Band, routes: dict[str, Any], used: set[Term], random: Callable[[], float]
    ) -> None:
        self.band = band
        self.routes = routes
        self.used = used  # every term the note names: distractors must be others
        self.stated: set[int] = set()  # ids of the prevention facts already planned
        self.sections: list[list[Sentence]] = list(map(list, _NO_SENTENCES))  # one empty list per section
        self.asserted: list[Term] = []  # symptoms stated as present: intro and vitals follow them
        self.random = random

    def add(self, section: int, sentence: Sentence) -> None:
        """Narrative sections keep the planned order; others get a random position.

        Inserting each sentence at a uniformly drawn position yields a uniformly shuffled
        section, without sorting or shuffling afterwards.
        """
        sentences = self.sections[section]
        if section in _NARRATIVE_SECTIONS:
            sentences.append(sentence)
        else:
            sentences.insert(int(self.random() * (len(sentences) + 1)), sentence)

    def note_symptoms(self, terms: Sequence[Term]) -> None:
        self.asserted += [t for t in terms if t.type == "Symptom"]

    def mention(
        self, section: str, kind: str, terms: Sequence[Term], negated: bool = False, dose: bool = False
    ) -> None:
        """Plan a sentence naming ``terms`` without any relation."""
        lines = self.routes[_MENTIONS][kind]
        self.add(SECTION_INDEX[section], (TEMPLATE_OP, lines, terms, (), None, negated, dose, None))


class FactPlanner(Draws):
    """Plans notes from one random stream over one generator's knowledge index and templates."""

    def __init__(
        self, rng: random.Random, options: NoteOptions, templates: TemplateBank, index: KnowledgeIndex
    ) -> None:
        super().__init__(rng)
        self.options = options
        self.templates = templates
        self._index = index
        self._routes = {sex: _routes(bank) for sex, bank in templates.by_sex.items()}
        self._cross_rate = options.cross_sentence_rate
        self._cross_section = {
            kind: SECTION_INDEX["labs" if kind == "indicates_lab" else "assessment"]
            for kind in templates.raw["cross_sentence"]
        }

    def plan(self) -> tuple[Plan, str, dict[str, str]]:
        """The plan of the next note, with its patient's sex and words (age, "woman", ...)."""
        r = self._random
        opts = self.options
        index = self._index
        primary = index.diseases[int(r() * len(index.diseases))]
        sex, age, words = self._new_patient(primary)
        band = index.band(sex, age)
        used: set[Term] = {primary}
        diseases = [primary]
        low, high = opts.comorbidities
        n_comorbid = low + int(r() * (high - low + 1))
        if n_comorbid:
            diseases += [d for d in self._pick(band.diseases, used, n_comorbid) if d.name in index.facts_of]
        plan = Plan(band, self._routes[sex], used, r)
        for disease in diseases:
            self._plan_facts(plan, disease, diseases)
        self._plan_mentions(plan)
        if r() < opts.vitals_rate and not any(term.unstable for term in used):
            vitals = self._vitals_text({term.vital_sign for term in plan.asserted})
            plan.add(_VITALS_SECTION, (TEXT_OP, vitals, (), (), None, False, False, None))
        return plan, sex, words

    def _new_patient(self, disease: Term) -> tuple[str, int, dict[str, str]]:
        r = self._random
        sex = disease.sex or ("female" if r() < 0.5 else "male")
        low, high = disease.ages
        age = low + int(r() * (high - low + 1))
        words = {
            "age": _AGE_WORDS[age],
            "an_age": _AN_AGE_WORDS[age],
            "sex": self._choice(self.templates.patient[sex]),
            "sx": "F" if sex == "female" else "M",
        }
        return sex, age, words

    def _plan_facts(self, plan: Plan, disease: Term, diseases: list[Term]) -> None:
        """Plan the facts stated about one disease; each fact becomes one sentence.

        A sentence states facts that share a head (a disease and its symptoms) or a tail
        (symptoms that point to a disease), so every head/tail pair it writes is an edge.
        Only prevention facts can come up twice in a note (a comorbidity's own and one
        drawn from all prevention facts), so only they are checked against ``stated``.
        """
        r = self._random
        opts = self.options
        options = plan.band.options.get(disease) or self._index.fact_options(disease, plan.band)
        n = opts.min_facts + int(r() * (opts.max_facts - opts.min_facts + 1))
        for kind, facts, list_slot in self._ordered(options, n):
            if list_slot == "T":
                heads, tails = (disease,), [f.tail for f in self._sample(facts, 1 + int(r() * opts.max_list))]
                plan.note_symptoms(tails)
                qualifier = None
            elif list_slot == "H":
                heads, tails = [f.head for f in self._sample(facts, 1 + int(r() * opts.max_list))], (disease,)
                plan.note_symptoms(heads)
                qualifier = None
            else:
                fact = facts[int(r() * len(facts))]
                if kind == PREVENTS_ANY:
                    if r() < 0.5:
                        continue  # prevention unrelated to the note's diseases: only now and then
                    kind = fact.kind
                    if kind == "prevents_vaccine" and fact.tail in diseases:
                        continue  # no vaccine against the infection the patient has now
                if kind in _PREVENTION_KINDS:
                    if fact.id in plan.stated:
                        continue
                    plan.stated.add(fact.id)
                heads, tails, qualifier = (fact.head,), (fact.tail,), fact.qualifier
            plan.used.update(heads, tails)
            relation = FACT_RELATION[kind]
            if self._cross_rate and kind in self._cross_section and r() < self._cross_rate:
                plan.add(
                    self._cross_section[kind],
                    (CROSS_OP, kind, heads, tails, qualifier, False, False, relation),
                )
            else:
                routes = plan.routes[kind]
                section, lines = routes[int(r() * len(routes))]
                plan.add(section, (TEMPLATE_OP, lines, heads, tails, qualifier, False, False, relation))

    def _ordered(self, items: Sequence[Any], n: int) -> Sequence[Any]:
        """``n`` of ``items`` in random order: one draw from a permutation table for small sets."""
        if len(items) < len(_PERMUTATIONS):
            permutations = _PERMUTATIONS[len(items)]
            return [items[i] for i in permutations[int(self._random() * len(permutations))][:n]]
        return self._sample(items, n)

    def _plan_mentions(self, plan: Plan) -> None:
        """Context sentences without relations: intro, negations, history, meds, labs."""
        opts = self.options
        r = self._random
        band, used = plan.band, plan.used
        reported = list(dict.fromkeys(t for t in plan.asserted if not t.exam))
        if opts.full_sections:
            complaint = reported[:2] or self._pick(band.reported, used, 1)
            if complaint:
                plan.add(_CC_SECTION, (CC_OP, None, complaint, (), None, False, False, None))
                plan.asserted += complaint
        history: list[Term] = []
        if opts.full_sections or r() < 0.5:
            history = self._pick(band.diseases, used, 1 + int(r() * opts.max_list))
        intro_lines, history_lines = plan.routes[_INTRO]
        if history:
            intro = (TEMPLATE_OP, history_lines, history, (), None, False, False, None)
        else:
            symptoms = reported[: opts.max_list] or self._pick(band.reported, used, 1)
            plan.asserted += symptoms
            intro = (TEMPLATE_OP, intro_lines, symptoms, (), None, False, False, None)
        plan.sections[_HPI_SECTION].insert(0, intro)
        if r() < opts.negation_rate:
            self._plan_negations(plan)
        if r() < opts.distractor_rate:
            self._plan_distractors(plan, history)
        if r() < opts.followup_rate:
            plan.mention("plan", "followup", ())

    def _plan_negations(self, plan: Plan) -> None:
        """Negated mentions: entities with no relation, never asserted elsewhere in the note."""
        r = self._random
        opts = self.options
        exam = opts.full_sections and r() < 0.4
        pool = plan.band.exam_findings if exam else plan.band.reported
        negated = self._pick(pool, plan.used, 1 + int(r() * opts.max_list))
        if negated:
            section, kind = ("exam", "negated_exam") if exam else ("hpi", "negated_symptom")
            plan.mention(section, kind, negated, negated=True)
        if opts.full_sections and r() < opts.negation_rate:
            disease = self._pick(plan.band.diseases, plan.used, 1)
            if disease:
                plan.mention("assessment", "negated_disease", disease, negated=True)

    def _plan_distractors(self, plan: Plan, history: list[Term]) -> None:
        """Mentions without a relation: home medications, past procedures, normal or pending labs."""
        full = self.options.full_sections
        band, used = plan.band, plan.used
        kinds = ("medication", "normal_lab", "procedure_history", "pending")
        for kind in kinds if full else (self._choice(kinds),):
            if kind == "medication":  # treatments of the past history, named or not
                history = history or self._pick(
                    band.diseases, used, 1 + int(self._random() * self.options.max_list)
                )
                drugs = self._home_medications(band, history, used)
                if drugs:
                    plan.mention("medications" if full else "hpi", kind, drugs, dose=True)
            elif kind == "procedure_history":
                procedures = self._pick(band.procedures, used, 1)
                if procedures:
                    plan.mention("history" if full else "hpi", kind, procedures)
            else:
                labs = self._pick(band.labs, used, 1 + int(self._random() * self.options.max_list))
                labs = [lab for lab in labs if self._index.lab_targets[lab].isdisjoint(used)]
                if labs:
                    plan.mention("labs", kind, labs)

    def _home_medications(self, band: Band, history: list[Term], used: set[Term]) -> list[Term]:
        """Home medications are true treatments of the listed history, written without relation.

        Drugs only given intravenously are not home medications.
        """
        drugs = []
        allowed = band.allowed
        for disease in history:
            treatments = [
                f.head
                for f in self._index.facts_of.get(disease.name, ())
                if f.kind == "treats"
                and f.head not in used
                and f.head in allowed
                and "intraven" not in f.head.dose
            ]
            if treatments:
                drug = self._choice(treatments)
                used.add(drug)
                drugs.append(drug)
        return drugs

    def _vitals_text(self, signs: set[str]) -> str:
        """A vitals line whose values agree with the signs the note asserts.

        Temperature >= 38.0 °C only with an asserted fever, a heart rate over 100 only with
        asserted tachycardia, and so on; notes about conditions that derange vitals in ways
        not modelled here (shock, hypertensive emergency, heart block, ...) get no vitals.
        """
        r, randint = self._random, self._randint
        spec = self.templates.vitals
        state = "hyperthermia" if "hyperthermia" in signs else "fever" if "fever" in signs else "normal"
        low, high = _TEMP_C[state]
        celsius = round(low + r() * (high - low), 1)
        if r() < 0.7:
            temp = f"{celsius:.1f}{self._choice(spec['celsius'])}"
        else:
            temp = f"{celsius * 9 / 5 + 32:.1f}{self._choice(spec['fahrenheit'])}"
        breathing = "tachypnea" if "tachypnea" in signs else "bradypnea" if "bradypnea" in signs else "normal"
        systolic = randint(*_SYSTOLIC)
        values = {
            "temp": temp,
            "febrile": f"febrile to {temp}" if state != "normal" else "afebrile",
            "hr": randint(*_HEART_RATE["tachycardia" if "tachycardia" in signs else "normal"]),
            "bp": f"{systolic}/{min(randint(*_DIASTOLIC), systolic - 30)}",
            "rr": randint(*_RESP_RATE[breathing]),
            "spo2": randint(*_SPO2["bradypnea" if breathing == "bradypnea" else "normal"]),
        }
        text = self._choice(spec["templates"]).format_map(values)
        return text[0].upper() + text[1:]
