"""Native labels -> the five odin types, for zero-shot tests of a model trained on synthetic notes.

Only meanings that hold are mapped; every other type is dropped (with the relations that touch
it). Relations are mapped only where an odin relation says the same thing, and all such
mappings are approximate (the corpora did not annotate with odin's definitions).

ADE's ``Adverse_Effect`` becomes ``Disease``, not ``Symptom``: most adverse effects are
diagnoses (hepatotoxicity, thrombocytopenia, rhabdomyolysis, acute renal failure, SIADH), and of
the adverse-effect mentions whose text is a surface form of the packaged knowledge base, 812
name a Disease concept and 497 a Symptom (DRUG-AE.rel against the knowledge base of
the time the mapping was chosen: 3,565 surface forms). BC5CDR, the corpus
closest in purpose, also files these conditions under Disease, so a model gets one convention.

Not mapped on purpose: BC5CDR ``CID`` and ADE ``DRUG-AE`` (a drug *causing* a condition: odin's
``causes`` links a Disease to a Symptom, and forcing it would score a model on a relation it
was never taught), BioRED ``Positive_Correlation`` (covers induces, increases and is a risk
factor), ``Association`` (no direction of effect) and the gene/variant relations.

The other direction, synthetic odin documents -> what one corpus scores (for training a system
that is then tested on that corpus), is :func:`project_for_corpus`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..schema import ENTITY_TYPES, RELATION_TYPES, Document, Relation
from .corpus import expand_relations

LABEL_SETS: tuple[str, ...] = ("native", "odin")


@dataclass(frozen=True)
class RelationRule:
    """``native`` between ``head_type`` and ``tail_type`` (either order) becomes odin ``odin``.

    BioRED relations are undirected, so a pair is oriented by its argument types.
    """

    native: str
    head_type: str
    tail_type: str
    odin: str
    note: str


#: corpus -> native entity type -> odin type (None: dropped), with a note for the table.
ENTITY_MAP: dict[str, dict[str, tuple[str | None, str]]] = {
    "bc5cdr": {
        "Chemical": ("Drug", "chemicals and drugs; includes non-drug chemicals (toxins, ions)"),
        "Disease": ("Disease", "diseases and symptoms (BC5CDR has no Symptom type)"),
    },
    "biored": {
        "ChemicalEntity": ("Drug", "chemicals and drugs; includes non-drug chemicals"),
        "DiseaseOrPhenotypicFeature": ("Disease", "diseases and phenotypic features (symptoms included)"),
        "GeneOrGeneProduct": (None, "no odin type"),
        "OrganismTaxon": (None, "no odin type"),
        "SequenceVariant": (None, "no odin type"),
        "CellLine": (None, "no odin type"),
    },
    "ncbi_disease": {
        "SpecificDisease": ("Disease", "all four NCBI classes are disease mentions"),
        "DiseaseClass": ("Disease", ""),
        "Modifier": ("Disease", "a disease name used as a modifier"),
        "CompositeMention": ("Disease", "one span naming several diseases"),
    },
    "ade": {
        "Drug": ("Drug", ""),
        "Adverse_Effect": ("Disease", "approximate: mostly diagnoses; see the module docstring"),
        "Dose": (None, "no odin type"),
    },
}

RELATION_RULES: dict[str, tuple[RelationRule, ...]] = {
    "biored": (
        RelationRule(
            "Negative_Correlation",
            "ChemicalEntity",
            "DiseaseOrPhenotypicFeature",
            "treats",
            "approximate: a chemical that lowers a disease; also covers prevents and protective effects",
        ),
    ),
}

#: Native relations deliberately left unmapped, with the reason (for the table).
UNMAPPED_RELATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "bc5cdr": (("CID", "chemical-induced disease: odin has no drug-causes-condition relation"),),
    "biored": (
        ("Positive_Correlation", "induces / increases / risk factor: no odin equivalent"),
        ("Association", "undirected association: no odin equivalent"),
        ("Bind, Cotreatment, Comparison, Drug_Interaction, Conversion", "no odin equivalent"),
        ("Negative_Correlation (other argument types)", "only chemical-disease pairs map"),
    ),
    "ade": (
        ("DRUG-AE", "drug causes adverse effect: odin's causes is Disease -> Symptom, not Drug -> X"),
        ("DRUG-DOSE", "Dose is not an odin type"),
    ),
}


def odin_entity_types(corpus: str) -> tuple[str, ...]:
    """The odin types a corpus annotates after mapping (the others cannot be scored on it)."""
    mapped = {odin for odin, _ in ENTITY_MAP[corpus].values() if odin}
    return tuple(t for t in ENTITY_TYPES if t in mapped)


def odin_relation_types(corpus: str) -> tuple[str, ...]:
    """The odin relations a corpus annotates after mapping (empty: no relation score applies)."""
    mapped = {rule.odin for rule in RELATION_RULES.get(corpus, ())}
    return tuple(t for t in RELATION_TYPES if t in mapped)


def _map_relation(corpus: str, kind: str, head_type: str, tail_type: str) -> tuple[str, bool] | None:
    """(odin relation, swap head and tail) for a native relation between the given types."""
    for rule in RELATION_RULES.get(corpus, ()):
        if rule.native != kind:
            continue
        if (head_type, tail_type) == (rule.head_type, rule.tail_type):
            return rule.odin, False
        if (head_type, tail_type) == (rule.tail_type, rule.head_type):
            return rule.odin, True
    return None


#: corpus -> odin type of a *synthetic* document -> the odin type the corpus files it under.
#: Types absent here and from :func:`odin_entity_types` are dropped (see :func:`project_for_corpus`).
SYNTHETIC_RELABEL: dict[str, dict[str, str]] = {
    "bc5cdr": {"Symptom": "Disease"},
    "biored": {"Symptom": "Disease"},
    "ade": {"Symptom": "Disease"},
    "ncbi_disease": {},
}

#: Why each corpus gets its synthetic relabelling (for ``LABELS.md``).
SYNTHETIC_NOTES: dict[str, str] = {
    "bc5cdr": "Symptom -> Disease: BC5CDR's Disease covers symptoms (no Symptom type); "
    "Procedure and Lab_Test dropped",
    "biored": "Symptom -> Disease: DiseaseOrPhenotypicFeature covers phenotypes; "
    "Procedure and Lab_Test dropped; treats kept (Negative_Correlation)",
    "ade": "Symptom -> Disease: Adverse_Effect (mapped to Disease) covers symptoms; "
    "Procedure and Lab_Test dropped",
    "ncbi_disease": "Symptom dropped: NCBI disease marks diseases only; Drug, Procedure and Lab_Test dropped",
}


def project_for_corpus(doc: Document, corpus: str, *, keep_relations: bool = True) -> Document:
    """A synthetic odin ``doc`` reduced to what ``corpus`` scores, for training a system tested on it.

    A synthetic note marks types a corpus never annotates (Procedure, Lab_Test; Symptom in all
    four). Left in, they teach a tagger to mark spans that the corpus counts as spurious, or, for
    a span the corpus *does* annotate under another name, to use the wrong type. So:

    * Symptom becomes Disease where the corpus's disease type covers symptoms and phenotypes
      (BC5CDR, BioRED, ADE: ADE's Adverse_Effect is mapped to Disease, see the module docstring);
      in NCBI disease, which marks diseases only, Symptom mentions are dropped.
    * Every other type the corpus does not score (:func:`odin_entity_types`) is dropped.
    * Relations are kept only between kept mentions and of a type the corpus scores
      (:func:`odin_relation_types`; BioRED's treats), or none at all with ``keep_relations=False``
      (for a system that learns no relations, such as the CRF).

    Entity ids are kept, so the relations still point at the same mentions; offsets are untouched.
    """
    relabel = SYNTHETIC_RELABEL[corpus]
    scored = set(odin_entity_types(corpus))
    entities = []
    for entity in doc.entities:
        kind = relabel.get(entity.type, entity.type)
        if kind in scored:
            entities.append(entity if kind == entity.type else replace(entity, type=kind))
    kept = {e.id for e in entities}
    relation_types = set(odin_relation_types(corpus)) if keep_relations else set()
    relations = [r for r in doc.relations if r.type in relation_types and r.head in kept and r.tail in kept]
    return Document(doc.id, doc.text, entities, relations, dict(doc.metadata))


def to_odin(doc: Document, corpus: str) -> Document:
    """``doc`` with odin labels: entities retyped or dropped, relations mapped or dropped.

    Kept entities are renumbered ``T1``... in order, as a freshly read document would be, so
    exports round-trip; relations are renumbered too.

    Document-level pairs in the metadata are mapped the same way (their argument types are the
    types of the mentions that carry each id), so the official pair scoring works on both sets.
    """
    entity_map = ENTITY_MAP[corpus]
    native_type = {e.id: e.type for e in doc.entities}
    kept = [e for e in doc.entities if entity_map[e.type][0]]
    new_id = {e.id: f"T{i}" for i, e in enumerate(kept, start=1)}
    entities = [replace(e, id=new_id[e.id], type=entity_map[e.type][0]) for e in kept]
    relations: list[Relation] = []
    seen: set[tuple[str, str, str]] = set()
    for relation in doc.relations:
        if relation.head not in new_id or relation.tail not in new_id:
            continue
        mapped = _map_relation(corpus, relation.type, native_type[relation.head], native_type[relation.tail])
        if mapped is None:
            continue
        kind, swap = mapped
        head, tail = new_id[relation.head], new_id[relation.tail]
        head, tail = (tail, head) if swap else (head, tail)
        if (kind, head, tail) not in seen:
            seen.add((kind, head, tail))
            relations.append(Relation(f"R{len(relations) + 1}", kind, head, tail))
    metadata = dict(doc.metadata)
    for key in ("concept_ids", "mention_extra"):
        if key in doc.metadata:
            metadata[key] = {new_id[k]: v for k, v in doc.metadata[key].items() if k in new_id}
    if "document_relations" in doc.metadata:
        metadata["document_relations"] = _map_pairs(doc, corpus, native_type)
        # Same definition as when reading: mention relations expand the document-level pairs.
        relations, metadata["unexpanded_relations"] = expand_relations(
            entities, metadata.get("concept_ids") or {}, metadata["document_relations"]
        )
    return Document(doc.id, doc.text, entities, relations, metadata)


def _map_pairs(doc: Document, corpus: str, native_type: dict[str, str]) -> list[dict[str, object]]:
    types_of: dict[str, set[str]] = {}
    for entity_id, ids in (doc.metadata.get("concept_ids") or {}).items():
        for concept in ids:
            types_of.setdefault(concept, set()).add(native_type[entity_id])
    pairs: list[dict[str, object]] = []
    seen: set[tuple[str, str, str]] = set()
    for pair in doc.metadata["document_relations"]:
        for head_type in sorted(types_of.get(pair["id1"], ())):
            for tail_type in sorted(types_of.get(pair["id2"], ())):
                mapped = _map_relation(corpus, pair["type"], head_type, tail_type)
                if mapped is None:
                    continue
                kind, swap = mapped
                id1, id2 = (pair["id2"], pair["id1"]) if swap else (pair["id1"], pair["id2"])
                if (kind, id1, id2) not in seen:
                    seen.add((kind, id1, id2))
                    pairs.append({"type": kind, "id1": id1, "id2": id2, "extra": list(pair.get("extra", []))})
    return pairs


def label_table_markdown() -> str:
    """The mapping as the Markdown written to ``LABELS.md`` (a test keeps the two identical)."""
    lines = [
        '# Native labels -> odin labels (`label_set="odin"`)',
        "",
        "Generated from `odin_medical_ner_re/corpora/labels.py` (`label_table_markdown()`); "
        "a test keeps this file identical to it.",
        "",
        f"odin entity types: {', '.join(ENTITY_TYPES)}; relations: {', '.join(RELATION_TYPES)}.",
        "Types mapped to *(dropped)* are removed together with their relations.",
        "",
        "## Entities",
        "",
        "| corpus | native type | odin type | note |",
        "|---|---|---|---|",
    ]
    for corpus, mapping in ENTITY_MAP.items():
        for native, (odin, note) in mapping.items():
            lines.append(f"| {corpus} | {native} | {odin or '*(dropped)*'} | {note} |")
    lines += [
        "",
        "## Relations (approximate)",
        "",
        "| corpus | native relation | arguments | odin relation | note |",
        "|---|---|---|---|---|",
    ]
    for corpus, rules in RELATION_RULES.items():
        for rule in rules:
            lines.append(
                f"| {corpus} | {rule.native} | {rule.head_type} - {rule.tail_type} (either order) | "
                f"{rule.odin} ({ENTITY_MAP[corpus][rule.head_type][0]} -> {ENTITY_MAP[corpus][rule.tail_type][0]}) | {rule.note} |"
            )
    for corpus, items in UNMAPPED_RELATIONS.items():
        for native, note in items:
            lines.append(f"| {corpus} | {native} | | *(dropped)* | {note} |")
    lines += [
        "",
        "Why ADE Adverse_Effect -> Disease: most adverse effects are diagnoses (hepatotoxicity, "
        "thrombocytopenia, rhabdomyolysis, acute renal failure); of the adverse-effect mentions that are "
        "surface forms of the packaged knowledge base, 812 name a Disease and 497 a Symptom; and BC5CDR "
        "files the same conditions under Disease.",
        "",
        "## Synthetic documents projected onto a corpus (`project_for_corpus`)",
        "",
        "Before a system is trained on synthetic odin documents and scored on a corpus (`odin-ner-re transfer`), "
        "the documents keep only what the corpus scores: a mention of a type the corpus never annotates would "
        "be taught as a span to mark and then counted as spurious.",
        "",
        "| corpus | kept odin types | relabelled | note |",
        "|---|---|---|---|",
    ]
    for corpus, relabel in SYNTHETIC_RELABEL.items():
        moved = ", ".join(f"{a} -> {b}" for a, b in relabel.items()) or "-"
        lines.append(f"| {corpus} | {', '.join(odin_entity_types(corpus))} | {moved} | {SYNTHETIC_NOTES[corpus]} |")
    lines += [
        "",
        "Relations are kept only where the corpus scores one (BioRED: treats), and never for the CRF, which "
        "learns no relations.",
        "",
    ]
    return "\n".join(lines)
