"""NCBI disease corpus: four classes of disease mention, no relations.

593/100/100 abstracts in PubTator. ``SpecificDisease``, ``DiseaseClass``, ``Modifier`` (a
disease name used as a modifier, "BRCA1 *breast cancer* gene") and ``CompositeMention``
("breast and ovarian cancer") are all diseases. Ids are MeSH or OMIM, several joined by ``|``,
the parts of a composite by ``+``. One training mention's text column carries two trailing
spaces that its offsets exclude; the offsets are kept. Public domain; cite Doğan et al. 2014,
J Biomed Inform 47.
"""

from __future__ import annotations

from .corpus import Corpus, load_pubtator_splits

CORPUS = Corpus(
    name="ncbi_disease",
    folder="ncbi_disease",
    files=("NCBItrainset_corpus.txt", "NCBIdevelopset_corpus.txt", "NCBItestset_corpus.txt"),
    split_files={
        "train": "NCBItrainset_corpus.txt",
        "validation": "NCBIdevelopset_corpus.txt",
        "test": "NCBItestset_corpus.txt",
    },
    entity_types=("SpecificDisease", "DiseaseClass", "Modifier", "CompositeMention"),
    relation_types=(),
    load=load_pubtator_splits,
    id_separators="|+",
    description="NCBI disease: disease mentions in four classes, normalized to MeSH/OMIM.",
    expected={"train": (593, 5145), "validation": (100, 787), "test": (100, 960)},
)
