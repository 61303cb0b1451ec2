"""BioCreative V CDR (BC5CDR): chemicals, diseases and chemical-induced-disease (CID) pairs.

500/500/500 PubMed abstracts in PubTator. CID relations hold between MeSH ids for the whole
abstract (the official evaluation compares (PMID, chemical id, disease id) triples); they are
also expanded to every mention pair for span-based scoring. Multi-id mentions join ids by
``|``; composite mentions list their parts in a seventh column. Cite Li et al. 2016,
Database baw068.
"""

from __future__ import annotations

from .corpus import Corpus, load_pubtator_splits

CORPUS = Corpus(
    name="bc5cdr",
    folder="bc5cdr",
    files=("CDR_TrainingSet.PubTator.txt", "CDR_DevelopmentSet.PubTator.txt", "CDR_TestSet.PubTator.txt"),
    split_files={
        "train": "CDR_TrainingSet.PubTator.txt",
        "validation": "CDR_DevelopmentSet.PubTator.txt",
        "test": "CDR_TestSet.PubTator.txt",
    },
    entity_types=("Chemical", "Disease"),
    relation_types=("CID",),
    load=load_pubtator_splits,
    id_separators="|",
    document_level_relations=True,
    description="BioCreative V CDR: chemical and disease mentions, chemical-induced disease pairs (MeSH).",
    expected={"train": (500, 9385), "validation": (500, 9591), "test": (500, 9809)},
)
