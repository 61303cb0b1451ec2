"""The corpus adapters against the real files in ../shared/benchmarks (skipped when absent).

Expected figures are the ones in ``../shared/benchmarks/MANIFEST.md``; a test checks that the
manifest still states them, so the constants here cannot drift from it silently.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from odin_medical_ner_re.builder import features, features_for
from odin_medical_ner_re.corpora import (
    CORPORA,
    document_pairs,
    label_names,
    load_benchmark,
    load_benchmark_documents,
    predicted_document_pairs,
    score_document_pairs,
)
from odin_medical_ner_re.corpora import ade as ade_module
from odin_medical_ner_re.corpora import corpus as corpus_module
from odin_medical_ner_re.corpora.corpus import DEFAULT_ROOT, ENV_VAR, checkout_root, split_ids
from odin_medical_ner_re.corpora.labels import label_table_markdown
from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.schema import ENTITY_TYPES, RELATION_TYPES

# The adapters' own default: $ODIN_BENCHMARKS_DIR, else ../shared/benchmarks next to the repository.
ROOT = Path(os.environ.get(ENV_VAR) or DEFAULT_ROOT).resolve()
needs_corpora = pytest.mark.skipif(
    not (ROOT / "MD5SUMS").is_file(), reason=f"benchmark corpora not found at {ROOT} (set {ENV_VAR})"
)

# Figures of MANIFEST.md (train / validation / test).
MANIFEST_FIGURES = {
    "bc5cdr": {"documents": (500, 500, 500), "Chemical": (5203, 5347, 5385), "Disease": (4182, 4244, 4424), "CID": (1038, 1012, 1066)},
    "biored": {"documents": (400, 100)},
    "ncbi_disease": {"documents": (593, 100, 100)},
}
MANIFEST_STRINGS = (
    "500 / 500 / 500 abstracts",
    "Chemical 5203/5347/5385, Disease 4182/4244/4424 mentions",
    "CID (chemical-induced disease) 1038/1012/1066 document-level pairs",
    "400 / 100 abstracts",
    "4,272 sentences with 6,821 drug–adverse-effect pairs (1,644 PubMed ids); 16,695 negative sentences",
    "593 / 100 / 100 abstracts",
)
# Not in the manifest: counted from the files by line type (one relation or mention per line).
FILE_FIGURES = {
    "biored": {"mentions": (13351, 3533), "relations": (4178, 1162)},
    "ncbi_disease": {"mentions": (5145, 787, 960)},
}


@pytest.fixture(scope="module")
def native() -> dict[str, dict[str, list]]:
    return {name: load_benchmark_documents(name) for name in CORPORA}


@pytest.fixture(scope="module")
def odin() -> dict[str, dict[str, list]]:
    return {name: load_benchmark_documents(name, label_set="odin") for name in CORPORA}


# --------------------------------------------------------------------------- files


@needs_corpora
def test_manifest_states_the_figures_used_here() -> None:
    manifest = (ROOT / "MANIFEST.md").read_text(encoding="utf-8")
    for figure in MANIFEST_STRINGS:
        assert figure in manifest


@needs_corpora
def test_files_match_md5sums() -> None:
    lines = (ROOT / "MD5SUMS").read_text(encoding="utf-8").split("\n")
    checked = 0
    for line in filter(None, lines):
        digest, name = line.split(maxsplit=1)
        assert hashlib.md5((ROOT / name).read_bytes()).hexdigest() == digest, name
        checked += 1
    assert checked == 13
    listed = {line.split(maxsplit=1)[1].removeprefix("./") for line in filter(None, lines)}
    for corpus in CORPORA.values():
        present = {f"{corpus.folder}/{name}" for name in corpus.files if (ROOT / corpus.folder / name).is_file()}
        assert present <= listed


# --------------------------------------------------------------------------- counts


@needs_corpora
@pytest.mark.parametrize("name", ["bc5cdr", "biored", "ncbi_disease"])
def test_pubtator_corpus_counts(native: dict, name: str) -> None:
    splits = native[name]
    expected = {**MANIFEST_FIGURES[name], **FILE_FIGURES.get(name, {})}
    assert tuple(len(docs) for docs in splits.values()) == expected["documents"]
    for kind in ("Chemical", "Disease"):
        if kind in expected:
            assert tuple(sum(e.type == kind for d in docs for e in d.entities) for docs in splits.values()) == expected[kind]
    if "mentions" in expected:
        assert tuple(sum(len(d.entities) for d in docs) for docs in splits.values()) == expected["mentions"]
    pair_counts = tuple(len(p) for docs in splits.values() for p in [[x for d in docs for x in d.metadata["document_relations"]]])
    if "CID" in expected:
        assert pair_counts == expected["CID"]
    if "relations" in expected:
        assert pair_counts == expected["relations"]


@needs_corpora
def test_ade_counts_split_and_alignment(native: dict) -> None:
    splits = native["ade"]
    docs = [d for split in splits.values() for d in split]
    positive = [d for d in docs if not d.metadata.get("negative")]
    assert len(positive) == 4272
    assert len(docs) - len(positive) == 16695
    assert len({d.metadata["pmid"] for d in positive}) == 1644
    relations = Counter(r.type for d in docs for r in d.relations)
    assert relations == {"DRUG-AE": 6821, "DRUG-DOSE": 279}
    assert sum(d.metadata["unaligned_mentions"] for d in positive) == 0
    assert ade_module.alignment_report(ROOT / "ade_corpus_v2") == {"at_offset": 11069, "nearest_occurrence": 0, "unaligned": 0}
    pmids = {name: {d.metadata["pmid"] for d in split} for name, split in splits.items()}
    assert not (pmids["train"] & pmids["validation"]) and not (pmids["train"] & pmids["test"])
    assert not (pmids["validation"] & pmids["test"])
    assert {name: len(split) for name, split in splits.items()} == {"train": 16829, "validation": 2189, "test": 1949}
    assert all(d.metadata["split"] == ade_module.split_of(d.metadata["pmid"]) for d in docs)


def test_ade_split_function_is_stable() -> None:
    # Fixed values: a change here silently moves abstracts between splits.
    assert [ade_module.split_of(p) for p in ("10030778", "6460590", "10030781")] == ["train", "validation", "test"]
    buckets = Counter(ade_module.split_of(str(n)) for n in range(10_000))
    assert 7_700 < buckets["train"] < 8_300 and 800 < buckets["validation"] < 1_200


@needs_corpora
@pytest.mark.parametrize("name", ["bc5cdr", "biored", "ncbi_disease", "ade"])
def test_every_offset_matches_and_relations_resolve(native: dict, odin: dict, name: str) -> None:
    for label_set in (native, odin):
        for docs in label_set[name].values():
            for doc in docs:
                ids = {e.id for e in doc.entities}
                assert len(ids) == len(doc.entities)
                for e in doc.entities:
                    assert 0 <= e.start < e.end <= len(doc.text) and doc.text[e.start : e.end] == e.text
                for r in doc.relations:
                    assert r.head in ids and r.tail in ids and r.head != r.tail


@needs_corpora
@pytest.mark.parametrize("name", ["bc5cdr", "biored"])
def test_mention_relations_expand_document_pairs(native: dict, name: str) -> None:
    for docs in native[name].values():
        assert sum(d.metadata["unexpanded_relations"] for d in docs) == 0
        report = score_document_pairs(document_pairs(docs), predicted_document_pairs(docs, docs))
        assert report["micro"]["recall"] == 1.0  # gold mentions recover every gold pair
        assert report["micro"]["precision"] > 0.89  # multi-id mentions add pairs (see pairs.py)


@needs_corpora
def test_odin_mapping(native: dict, odin: dict) -> None:
    for name in CORPORA:
        for split, docs in odin[name].items():
            assert {e.type for d in docs for e in d.entities} <= set(ENTITY_TYPES)
            assert {r.type for d in docs for r in d.relations} <= set(RELATION_TYPES)
            kept = sum(len(d.entities) for d in docs)
            dropped = {"biored": {"GeneOrGeneProduct", "OrganismTaxon", "SequenceVariant", "CellLine"}, "ade": {"Dose"}}
            gone = dropped.get(name, set())
            assert kept == sum(e.type not in gone for d in native[name][split] for e in d.entities)
    biored = [d for docs in odin["biored"].values() for d in docs]
    assert {r.type for d in biored for r in d.relations} == {"treats"}
    for doc in biored:
        types = {e.id: e.type for e in doc.entities}
        assert all((types[r.head], types[r.tail]) == ("Drug", "Disease") for r in doc.relations)
    assert sum(len(d.metadata["document_relations"]) for d in biored) == 297 + 89
    for name in ("bc5cdr", "ade", "ncbi_disease"):
        assert not any(d.relations for docs in odin[name].values() for d in docs)
    assert Counter(e.type for d in odin["ade"]["test"] for e in d.entities) == {"Disease": 451, "Drug": 409}


def test_labels_markdown_is_current() -> None:
    path = Path(__file__).resolve().parents[1] / "odin_medical_ner_re" / "corpora" / "LABELS.md"
    assert path.read_text(encoding="utf-8") == label_table_markdown()


def test_split_ids_per_corpus() -> None:
    assert split_ids(" D008661", "|") == ["D008661"]
    assert split_ids("D020279+D035583", "|+") == ["D020279", "D035583"]
    assert split_ids("-1", "|") == [] and split_ids("-", ",") == []
    assert split_ids("c|DEL|1314_1328|", ",") == ["c|DEL|1314_1328|"]


def test_document_pair_scoring() -> None:
    gold = {"a": {("CID", "C1", "D1"), ("CID", "C2", "D1")}, "b": {("CID", "C3", "D3")}}
    pred = {"a": {("CID", "C1", "D1"), ("CID", "C9", "D1")}, "c": {("CID", "C1", "D1")}}
    report = score_document_pairs(gold, pred)
    micro = report["micro"]
    assert (micro["correct"], micro["spurious"], micro["missed"], micro["support"]) == (1, 2, 2, 3)
    assert micro["precision"] == pytest.approx(1 / 3) and micro["recall"] == pytest.approx(1 / 3)
    assert score_document_pairs({}, {})["micro"]["f1"] == 1.0


# --------------------------------------------------------------------------- datasets


@needs_corpora
def test_load_benchmark_features_small_corpus() -> None:
    native_dd = load_benchmark("ncbi_disease")
    assert list(native_dd) == ["train", "validation", "test"]
    assert native_dd["test"].features == features_for(("SpecificDisease", "DiseaseClass", "Modifier", "CompositeMention"), ())
    assert native_dd["test"].features["entities"].feature["type"].names == list(label_names("ncbi_disease")[0])
    odin_dd = load_benchmark("ncbi_disease", label_set="odin")
    assert all(split.features == features() for split in odin_dd.values())
    row = odin_dd["test"][0]
    names = odin_dd["test"].features["ner_tags"].feature.names
    assert len(row["tokens"]) == len(row["ner_tags"]) and any(names[t] == "B-Disease" for t in row["ner_tags"])
    assert row["metadata"]["config"] == "ncbi_disease-odin" and row["metadata"]["split"] == "test"


@needs_corpora
@pytest.mark.slow
@pytest.mark.parametrize("name", ["bc5cdr", "biored", "ade"])
def test_load_benchmark_both_label_sets(name: str) -> None:
    for label_set in ("native", "odin"):
        dd = load_benchmark(name, label_set=label_set)
        expected = features() if label_set == "odin" else features_for(*label_names(name))
        assert all(split.features == expected for split in dd.values())
        docs = load_benchmark_documents(name, label_set=label_set)
        assert {k: len(v) for k, v in dd.items()} == {k: len(v) for k, v in docs.items()}


# --------------------------------------------------------------------------- bad inputs


def test_missing_folder_says_where_and_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(UserInputError) as err:
        load_benchmark_documents("bc5cdr", data_dir=tmp_path / "nowhere")
    message = str(err.value)
    assert str(tmp_path / "nowhere" / "bc5cdr") in message and ENV_VAR in message and "--data-dir" in message
    assert "CDR_TestSet.PubTator.txt" in message
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(UserInputError, match=rf"from \${ENV_VAR}"):
        load_benchmark_documents("biored")
    with pytest.raises(UserInputError, match="unknown benchmark"):
        load_benchmark_documents("mimic")
    with pytest.raises(UserInputError, match="unknown label set"):
        load_benchmark_documents("ade", label_set="umls")


@needs_corpora
def test_env_var_corpus_folder_and_missing_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ncbi_disease"
    folder.mkdir()
    shutil.copy(ROOT / "ncbi_disease" / "NCBItestset_corpus.txt", folder)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert list(load_benchmark_documents("ncbi_disease")) == ["test"]
    # data_dir may also be the corpus folder itself
    monkeypatch.delenv(ENV_VAR)
    dd = load_benchmark("ncbi", data_dir=folder)
    assert list(dd) == ["test"] and dd["test"].num_rows == 100


@needs_corpora
def test_corrupt_pubtator_line_in_a_corpus_copy(tmp_path: Path) -> None:
    folder = tmp_path / "bc5cdr"
    folder.mkdir()
    lines = (ROOT / "bc5cdr" / "CDR_TestSet.PubTator.txt").read_text(encoding="utf-8").split("\n")
    lines[6] = lines[6].split("\t")[0] + "\t12\tbroken"  # a mention line cut short
    (folder / "CDR_TestSet.PubTator.txt").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(UserInputError) as err:
        load_benchmark_documents("bc5cdr", data_dir=tmp_path)
    assert f"{folder / 'CDR_TestSet.PubTator.txt'}, line 7" in str(err.value)


@needs_corpora
def test_corrupt_ade_line_in_a_corpus_copy(tmp_path: Path) -> None:
    lines = (ROOT / "ade_corpus_v2" / "DRUG-AE.rel").read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace("|", "!", 1)
    (tmp_path / "DRUG-AE.rel").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(UserInputError, match=r"DRUG-AE\.rel, line 3: expected 8"):
        load_benchmark_documents("ade", data_dir=tmp_path)
    (tmp_path / "DRUG-AE.rel").write_text("\n".join(lines[:2]), encoding="utf-8")
    (tmp_path / "ADE-NEG.txt").write_text("123 NEG fine\n456 POS not a negative line\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"ADE-NEG\.txt, line 2: expected 'PMID NEG sentence'"):
        load_benchmark_documents("ade", data_dir=tmp_path)


@needs_corpora
def test_ade_negatives_left_out_of_scoring_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from odin_medical_ner_re.corpora.runner import run_benchmark

    monkeypatch.setenv("ODIN_KNOWLEDGE_DIR", str(Path(__file__).resolve().parent / "fixtures" / "kb"))
    default = run_benchmark("ade", system="dictionary")
    assert default["documents"] == 336 and default["negative_documents_excluded"] == 1613
    everything = run_benchmark("ade", system="dictionary", include_negatives=True)
    assert everything["documents"] == 1949 and everything["negative_documents_excluded"] == 0
    assert everything["ner"]["strict"]["micro"]["support"] == default["ner"]["strict"]["micro"]["support"] == 860


def test_known_counts_match_the_manifest() -> None:
    """The counts the adapters check are the MANIFEST's (BC5CDR mentions: chemical + disease)."""
    assert {s: c[0] for s, c in CORPORA["bc5cdr"].expected.items()} == {"train": 500, "validation": 500, "test": 500}
    assert [CORPORA["bc5cdr"].expected[s][1] for s in ("train", "validation", "test")] == [
        5203 + 4182,
        5347 + 4244,
        5385 + 4424,
    ]
    assert {s: c[0] for s, c in CORPORA["biored"].expected.items()} == {"train": 400, "validation": 100}
    assert [CORPORA["ncbi_disease"].expected[s][0] for s in ("train", "validation", "test")] == [593, 100, 100]
    assert sum(c[0] for c in CORPORA["ade"].expected.values()) == 4272 + 16695


@needs_corpora
def test_a_truncated_or_empty_corpus_copy_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ncbi_disease"
    folder.mkdir()
    text = (ROOT / "ncbi_disease" / "NCBItestset_corpus.txt").read_text(encoding="utf-8")
    cut = text[: len(text) // 2]
    (folder / "NCBItestset_corpus.txt").write_text(cut[: cut.rfind("\n\n") + 2], encoding="utf-8")
    with pytest.raises(UserInputError, match="the original has 100 and 960: the copy is truncated"):
        load_benchmark_documents("ncbi_disease", data_dir=tmp_path)
    assert 0 < len(load_benchmark_documents("ncbi_disease", data_dir=tmp_path, allow_subset=True)["test"]) < 100
    (folder / "NCBItestset_corpus.txt").write_text("", encoding="utf-8")
    with pytest.raises(UserInputError, match="holds no documents"):
        load_benchmark_documents("ncbi_disease", data_dir=tmp_path, allow_subset=True)


def test_the_default_corpus_folder_exists_only_beside_a_source_checkout(tmp_path: Path) -> None:
    checkout = tmp_path / "repo"
    (checkout / "odin_medical_ner_re").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("[project]\n")
    assert checkout_root(checkout / "odin_medical_ner_re") == tmp_path / "shared" / "benchmarks"
    wheel = tmp_path / "site-packages" / "odin_medical_ner_re"
    wheel.mkdir(parents=True)
    assert checkout_root(wheel) is None


def test_an_installed_package_asks_for_the_corpus_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(corpus_module, "DEFAULT_ROOT", None)
    with pytest.raises(UserInputError, match=f"installed package has no default.*{ENV_VAR}"):
        corpus_module.resolve_corpus_dir(CORPORA["biored"])


def test_the_old_package_name_still_imports_the_same_modules_and_says_it_is_deprecated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Code written against ``odin_medical_ner_re.benchmarks`` (this package's old name) keeps working."""
    import sys

    from odin_medical_ner_re.corpora import transfer as transfer_module

    for name in [n for n in sys.modules if n.split(".")[:2] == ["odin_medical_ner_re", "benchmarks"]]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.warns(DeprecationWarning, match="import odin_medical_ner_re.corpora instead"):
        from odin_medical_ner_re.benchmarks.transfer import run_transfer
    from odin_medical_ner_re.benchmarks.corpus import Corpus as OldCorpus

    from odin_medical_ner_re.benchmarks import CORPORA as old_corpora
    from odin_medical_ner_re.benchmarks import load_benchmark as old_load_benchmark

    assert run_transfer is transfer_module.run_transfer
    assert old_corpora is CORPORA and old_load_benchmark is load_benchmark
    assert OldCorpus is corpus_module.Corpus  # the same class, not a second copy of the module
