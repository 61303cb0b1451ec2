"""BioRED: six entity types and eight relation types between normalized ids.

400 training and 100 development abstracts in PubTator (the official test file,
``Test.PubTator``, is not distributed with this collection: put it beside the others and the
``test`` split appears). Relations are document-level and undirected in meaning (the file order
of id1/id2 is kept as head/tail); the fifth column is the novelty flag (``Novel``/``No``).
Multi-id mentions join ids by ``,``; ``|`` cannot be a separator here because variant ids
such as ``c|DEL|1314_1328|`` contain it. Cite Luo et al. 2022, Briefings in Bioinformatics
23(5) bbac282.
"""

from __future__ import annotations

from .corpus import Corpus, load_pubtator_splits

CORPUS = Corpus(
    name="biored",
    folder="biored",
    files=("Train.PubTator", "Dev.PubTator", "Test.PubTator"),
    split_files={"train": "Train.PubTator", "validation": "Dev.PubTator", "test": "Test.PubTator"},
    entity_types=(
        "GeneOrGeneProduct",
        "DiseaseOrPhenotypicFeature",
        "ChemicalEntity",
        "OrganismTaxon",
        "SequenceVariant",
        "CellLine",
    ),
    relation_types=(
        "Association",
        "Positive_Correlation",
        "Negative_Correlation",
        "Bind",
        "Cotreatment",
        "Comparison",
        "Drug_Interaction",
        "Conversion",
    ),
    load=load_pubtator_splits,
    id_separators=",",
    document_level_relations=True,
    description="BioRED: genes, diseases, chemicals, organisms, variants, cell lines; 8 relation types.",
    expected={"train": (400, 13351), "validation": (100, 3533)},
)
