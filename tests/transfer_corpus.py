"""A tiny BC5CDR-format corpus and a synthetic documents file for the transfer tests (no shared files)."""

from __future__ import annotations

from pathlib import Path

from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.schema import save_documents

FIXTURE_KB = Path(__file__).resolve().parent / "fixtures" / "kb"

_SENTENCES = [
    ("Metformin for type 2 diabetes and lisinopril for hypertension.", [("Metformin", "Chemical"), ("type 2 diabetes", "Disease"), ("lisinopril", "Chemical"), ("hypertension", "Disease")]),
    ("Aspirin caused headache in a patient with influenza.", [("Aspirin", "Chemical"), ("headache", "Disease"), ("influenza", "Disease")]),
    ("Oseltamivir shortened influenza; atorvastatin was continued.", [("Oseltamivir", "Chemical"), ("influenza", "Disease"), ("atorvastatin", "Chemical")]),
    ("Cisplatin-induced nephrotoxicity in rats with asthma.", [("Cisplatin", "Chemical"), ("nephrotoxicity", "Disease"), ("asthma", "Disease")]),
    ("Patients with hypertension treated with amlodipine developed edema.", [("hypertension", "Disease"), ("amlodipine", "Chemical"), ("edema", "Disease")]),
]

#: training documents in the fixture (the k values of the tests stay below it)
TRAIN_SIZE = 10


def pubtator(first_pmid: int, count: int, offset: int = 0) -> str:
    """``count`` abstracts: a title and one of the sentences above (from ``offset``) as abstract."""
    lines = []
    for n in range(count):
        pmid = str(first_pmid + n)
        title = "Case report."
        abstract, mentions = _SENTENCES[(n + offset) % len(_SENTENCES)]
        lines += [f"{pmid}|t|{title}", f"{pmid}|a|{abstract}"]
        text = f"{title} {abstract}"
        cursor = 0
        for number, (mention, kind) in enumerate(mentions):
            start = text.index(mention, cursor)
            cursor = start + len(mention)
            lines.append("\t".join([pmid, str(start), str(cursor), mention, kind, f"D{number}"]))
        lines.append("")
    return "\n".join(lines) + "\n"


def make_corpus(root: Path) -> Path:
    """``root/bc5cdr`` with train and development files and no test file; returns ``root``."""
    folder = root / "bc5cdr"
    folder.mkdir(parents=True)
    (folder / "CDR_TrainingSet.PubTator.txt").write_text(pubtator(1000, TRAIN_SIZE), encoding="utf-8")
    (folder / "CDR_DevelopmentSet.PubTator.txt").write_text(pubtator(2000, 4, offset=2), encoding="utf-8")
    return root


def make_synthetic(path: Path, count: int = 12, seed: int = 3) -> Path:
    """``count`` notes of the generator (whatever knowledge base ``$ODIN_KNOWLEDGE_DIR`` names) as JSONL."""
    return save_documents(MedicalTextGenerator(seed=seed).generate_dataset(count), path, "jsonl")
