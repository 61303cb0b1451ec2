"""The transfer benchmark (``corpora/transfer.py``) and the synthetic projection of ``labels.py``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transfer_corpus import FIXTURE_KB, TRAIN_SIZE, make_corpus, make_synthetic

from odin_medical_ner_re.builder import config_names
from odin_medical_ner_re.corpora import load_benchmark_documents, run_transfer, write_transfer
from odin_medical_ner_re.corpora.ade import split_of
from odin_medical_ner_re.corpora.corpus import ALLOW_SUBSET_VAR, DEFAULT_ROOT, ENV_VAR
from odin_medical_ner_re.corpora.labels import project_for_corpus
from odin_medical_ner_re.corpora.runner import run_benchmark
from odin_medical_ner_re.corpora.transfer import (
    format_transfer_markdown,
    load_synthetic,
    parse_real,
    sample_real,
)
from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.schema import Document, Entity, Relation, load_documents


@pytest.fixture(autouse=True)
def _small_corpora_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture corpora are small slices of the real files, on purpose."""
    monkeypatch.setenv("ODIN_BENCHMARKS_ALLOW_SUBSET", "1")



@pytest.fixture()
def fixture_kb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODIN_KNOWLEDGE_DIR", str(FIXTURE_KB))
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture()
def corpus_dir(tmp_path: Path, fixture_kb: None) -> Path:
    return make_corpus(tmp_path / "corpora")


@pytest.fixture()
def synthetic(tmp_path: Path, fixture_kb: None) -> Path:
    return make_synthetic(tmp_path / "synthetic.jsonl")


# --------------------------------------------------------------------------- inputs


def test_parse_real_sorts_and_deduplicates() -> None:
    assert parse_real("100,0, 25,all,25") == (0, 25, 100, "all")
    assert parse_real([25, "ALL"]) == (25, "all")


@pytest.mark.parametrize("value", ["", "0,,25", "abc", "-1", "2.5", "25;100"])
def test_parse_real_rejects_bad_lists(value: str) -> None:
    with pytest.raises(UserInputError, match="--real"):
        parse_real(value)


def _docs(n: int) -> list[Document]:
    return [Document(f"d{i:03d}", f"text {i}", [], [], {}) for i in range(n)]


def test_real_sample_is_deterministic_nested_and_order_free() -> None:
    docs = _docs(40)
    first = [d.id for d in sample_real(docs, 25, seed=0)]
    assert first == [d.id for d in sample_real(docs, 25, seed=0)]
    assert first == [d.id for d in sample_real(list(reversed(docs)), 25, seed=0)]  # file order does not matter
    assert first != [d.id for d in sample_real(docs, 25, seed=1)]
    assert first[:10] == [d.id for d in sample_real(docs, 10, seed=0)]  # k=10 is inside k=25
    assert sorted(d.id for d in sample_real(docs, "all", seed=0)) == [d.id for d in docs]
    assert first[0] != "d000" or first[1] != "d001"  # shuffled, not the sorted head
    with pytest.raises(UserInputError, match="only 40 training documents"):
        sample_real(docs, 41, seed=0)


def _note() -> Document:
    text = "Fever from flu; oseltamivir for flu; chest X-ray; CRP."
    spans = [("Fever", "Symptom"), ("flu", "Disease"), ("oseltamivir", "Drug"), ("chest X-ray", "Procedure"), ("CRP", "Lab_Test")]
    entities = []
    for number, (mention, kind) in enumerate(spans, start=1):
        start = text.index(mention)
        entities.append(Entity(f"T{number}", mention, kind, start, start + len(mention)))
    relations = [Relation("R1", "causes", "T2", "T1"), Relation("R2", "treats", "T3", "T2"), Relation("R3", "treats", "T3", "T1")]
    return Document("n1", text, entities, relations, {})


@pytest.mark.parametrize(
    ("corpus", "types", "relations"),
    [
        ("bc5cdr", [("Fever", "Disease"), ("flu", "Disease"), ("oseltamivir", "Drug")], []),
        ("ade", [("Fever", "Disease"), ("flu", "Disease"), ("oseltamivir", "Drug")], []),
        ("biored", [("Fever", "Disease"), ("flu", "Disease"), ("oseltamivir", "Drug")], [("treats", "T3", "T2"), ("treats", "T3", "T1")]),
        ("ncbi_disease", [("flu", "Disease")], []),
    ],
)
def test_projection_keeps_what_the_corpus_scores(corpus: str, types: list[tuple[str, str]], relations: list[tuple[str, str, str]]) -> None:
    doc = _note()
    projected = project_for_corpus(doc, corpus)
    assert [(e.text, e.type) for e in projected.entities] == types
    assert [(r.type, r.head, r.tail) for r in projected.relations] == relations
    assert all(projected.text[e.start : e.end] == e.text for e in projected.entities)
    assert project_for_corpus(doc, corpus, keep_relations=False).relations == []
    assert [e.type for e in doc.entities][0] == "Symptom"  # the input is not modified


def test_synthetic_file_and_cap(synthetic: Path) -> None:
    docs, info = load_synthetic(synthetic, seed=0, num_documents=5)
    assert [d.id for d in docs] == [d.id for d in load_documents(synthetic)[:5]]
    assert info == {"source": str(synthetic), "kind": "file", "documents": 5}
    with pytest.raises(UserInputError, match="holds only 12 documents"):
        load_synthetic(synthetic, seed=0, num_documents=13)


def test_synthetic_config_is_the_train_split_of_that_config(fixture_kb: None, tmp_path: Path) -> None:
    from odin_medical_ner_re.builder import load_dataset

    docs, info = load_synthetic("1k", seed=5, num_documents=4)
    built = load_dataset("1k", cache_dir=str(tmp_path), num_train=4, num_validation=1, num_test=1, num_test_unseen=1, seed=5)
    assert [d.text for d in docs] == built["train"]["text"]
    assert info == {"source": "1k", "kind": "config", "seed": 5, "documents": 4}
    assert [d.id for d in docs] == [f"1k-train-{i:07d}" for i in range(4)]
    assert [d.text for d in docs] == [d.text for d in load_synthetic("1k", seed=5, num_documents=4)[0]]
    assert [d.text for d in docs] != [d.text for d in load_synthetic("1k", seed=6, num_documents=4)[0]]


def test_a_config_added_to_the_builder_table_is_accepted(fixture_kb: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from odin_medical_ner_re.builder import OdinNerRe, OdinNerReConfig

    extra = OdinNerReConfig(name="tiny-extra", num_train=3, complexity="complex")
    monkeypatch.setattr(OdinNerRe, "BUILDER_CONFIGS", [*OdinNerRe.BUILDER_CONFIGS, extra])
    # ``datasets`` memoizes its name -> config table when the class is made: refresh it as a new class would
    monkeypatch.setattr(OdinNerRe, "builder_configs", {c.name: c for c in OdinNerRe.BUILDER_CONFIGS})
    docs, _ = load_synthetic("tiny-extra", seed=0)
    assert [d.id for d in docs] == ["tiny-extra-train-0000000", "tiny-extra-train-0000001", "tiny-extra-train-0000002"]


# --------------------------------------------------------------------------- the benchmark


def test_run_transfer_end_to_end(corpus_dir: Path, synthetic: Path, tmp_path: Path) -> None:
    report = run_transfer(
        synthetic, ["bc5cdr"], real="0,3,all", seed=0, split="validation", data_dir=corpus_dir,
        real_repeat=2, mix="concat", show_progress=False,
    )
    assert report["synthetic"] == {"source": str(synthetic), "kind": "file", "documents": 12}
    assert (report["system"], report["split"], report["real"], report["real_repeat"]) == ("crf", "validation", [0, 3, "all"], 2)
    entry = report["corpora"]["bc5cdr"]
    assert entry["train_documents"] == TRAIN_SIZE and entry["scored_documents"] == 4
    assert entry["scored_entity_types"] == ["Disease", "Drug"]
    assert entry["synthetic_mentions"] < entry["synthetic_mentions_before_projection"]  # Procedure etc. dropped
    runs = {(r["k"], r["arm"]): r for r in entry["runs"]}
    assert runs[(0, "real")]["scores"] is None and runs[(0, "real")]["n_train_docs"] == 0
    assert runs[(0, "real+synthetic")]["n_train_docs"] == 12
    assert runs[(3, "real")]["n_train_docs"] == 3 and runs[(3, "real+synthetic")]["n_train_docs"] == 3 * 2 + 12
    assert runs[("all", "real")]["n_real"] == TRAIN_SIZE
    for run in entry["runs"][1:]:
        scores = run["scores"]
        assert 0.0 <= scores["ner_strict_f1"] <= 1.0 and run["seconds"] >= 0
        assert set(scores["ner_strict_per_type"]) == {"Disease", "Drug"}
    # scored exactly as `benchmark` scores: the CRF on the whole train split, odin labels
    reference = run_benchmark(
        "bc5cdr", split="validation", system="crf", label_set="odin", data_dir=corpus_dir
    )
    assert runs[("all", "real")]["scores"]["ner_strict_f1"] == pytest.approx(reference["ner_strict_f1"])
    dictionary = run_benchmark("bc5cdr", split="validation", system="dictionary", data_dir=corpus_dir)
    assert entry["dictionary"]["scores"]["ner_strict_f1"] == pytest.approx(dictionary["ner_strict_f1"])

    table = format_transfer_markdown(report)
    assert "## bc5cdr" in table and "| 0 | — |" in table and f"| all ({TRAIN_SIZE}) |" in table
    assert "| dictionary (zero-shot, no training) |" in table
    paths = write_transfer(report, tmp_path / "out")
    assert [p.name for p in paths] == ["transfer.json", "transfer.md", "transfer.png"]
    assert json.loads(paths[0].read_text(encoding="utf-8")) == json.loads(json.dumps(report))
    assert paths[2].read_bytes().startswith(b"\x89PNG")
    with pytest.raises(UserInputError, match="already exists; pass --overwrite"):
        write_transfer(report, tmp_path / "out")
    write_transfer(report, tmp_path / "out", overwrite=True)


def test_domain_mix_marks_each_source_in_both_arms(corpus_dir: Path, synthetic: Path) -> None:
    from odin_medical_ner_re.corpora import load_benchmark_documents
    from odin_medical_ner_re.corpora.baselines import CrfTagger
    from odin_medical_ner_re.corpora.labels import project_for_corpus
    from odin_medical_ner_re.corpora.runner import score_predictions
    from odin_medical_ner_re.corpora.transfer import sample_real
    from odin_medical_ner_re.schema import load_documents

    report = run_transfer(synthetic, "bc5cdr", real="3", data_dir=corpus_dir, show_progress=False)
    assert report["mix"] == "domain"
    runs = {r["arm"]: r for r in report["corpora"]["bc5cdr"]["runs"]}
    splits = load_benchmark_documents("bc5cdr", corpus_dir, "odin")
    sample, gold = sample_real(splits["train"], 3, 0), splits["validation"]
    projected = [project_for_corpus(d, "bc5cdr") for d in load_documents(synthetic)]
    expected = {
        "real": CrfTagger().fit(sample, domains=["real"] * 3),
        "real+synthetic": CrfTagger().fit(sample + projected, domains=["real"] * 3 + ["synthetic"] * len(projected)),
    }
    for arm, tagger in expected.items():
        scored = score_predictions("bc5cdr", "odin", tagger.predict(gold), gold)
        assert runs[arm]["scores"]["ner_strict_f1"] == pytest.approx(scored["ner"]["strict"]["micro"]["f1"])
    with pytest.raises(UserInputError, match="unknown mix 'blend'"):
        run_transfer(synthetic, "bc5cdr", real="3", data_dir=corpus_dir, mix="blend", show_progress=False)


def test_the_same_seed_trains_on_the_same_documents(corpus_dir: Path, synthetic: Path) -> None:
    kwargs = {"real": "2,5", "data_dir": corpus_dir, "show_progress": False}
    first = run_transfer(synthetic, "bc5cdr", seed=1, **kwargs)["corpora"]["bc5cdr"]
    again = run_transfer(synthetic, "bc5cdr", seed=1, **kwargs)["corpora"]["bc5cdr"]
    other = run_transfer(synthetic, "bc5cdr", seed=2, **kwargs)["corpora"]["bc5cdr"]
    assert first["real_sample_ids"] == again["real_sample_ids"] != other["real_sample_ids"]
    assert first["real_sample_ids"]["2"] == first["real_sample_ids"]["5"][:2]  # nested
    assert len(set(first["real_sample_ids"]["5"])) == 5
    assert [r["scores"] for r in first["runs"]] == [r["scores"] for r in again["runs"]]


def test_max_eval_docs_scores_a_prefix_for_every_row(corpus_dir: Path, synthetic: Path) -> None:
    report = run_transfer(synthetic, "bc5cdr", real="0", data_dir=corpus_dir, max_eval_docs=2, show_progress=False)
    entry = report["corpora"]["bc5cdr"]
    assert (report["max_eval_docs"], entry["scored_documents"], entry["split_documents"]) == (2, 2, 4)
    mentions = sum(entry["dictionary"]["scores"]["ner_strict_per_type"][t]["support"] for t in ("Disease", "Drug"))
    assert mentions == 6  # the gold mentions of the first two validation abstracts (3 + 3), not of all four
    assert "the first 2 of 4 validation documents scored" in format_transfer_markdown(report)


def test_a_truncated_corpus_needs_allow_subset(
    corpus_dir: Path, synthetic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ALLOW_SUBSET_VAR)
    with pytest.raises(UserInputError, match="the copy is truncated or not the original; pass --allow-subset"):
        run_transfer(synthetic, "bc5cdr", real="0", data_dir=corpus_dir, show_progress=False)
    report = run_transfer(synthetic, "bc5cdr", real="0", data_dir=corpus_dir, allow_subset=True, show_progress=False)
    assert report["allow_subset"] is True


def test_the_output_must_not_be_the_synthetic_input(corpus_dir: Path, tmp_path: Path, fixture_kb: None) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    synthetic = make_synthetic(folder / "transfer.json")
    report = run_transfer(synthetic, "bc5cdr", real="0", data_dir=corpus_dir, show_progress=False)
    with pytest.raises(UserInputError, match="would overwrite the input"):
        write_transfer(report, folder, overwrite=True)


def _ade_corpus(root: Path) -> Path:
    """Three annotated train sentences, one validation and one test sentence, negatives in two splits."""
    wanted = {"train": 2, "validation": 1, "test": 1}
    pmids: dict[str, list[str]] = {split: [] for split in wanted}
    number = 5_000_000
    while any(len(pmids[split]) < n for split, n in wanted.items()):
        split = split_of(str(number))
        if split in wanted and len(pmids[split]) < wanted[split]:
            pmids[split].append(str(number))
        number += 1
    sentence = "Hepatitis after isoniazid."
    lines = [f"{pmid}|{sentence}|Hepatitis|0|9|isoniazid|16|25" for pmid in (*pmids["train"], *pmids["validation"], *pmids["test"])]
    lines.append(f"{pmids['train'][0]}|Rash with amoxicillin.|Rash|30|34|amoxicillin|40|51")
    folder = root / "ade_corpus_v2"
    folder.mkdir(parents=True)
    (folder / "DRUG-AE.rel").write_text("\n".join(lines) + "\n", encoding="utf-8")
    negatives = [f"{pmids['train'][1]} NEG Aspirin was given for fever.", f"{pmids['validation'][0]} NEG No change."]
    (folder / "ADE-NEG.txt").write_text("\n".join(negatives) + "\n", encoding="utf-8")
    return root


def test_ade_negative_sentences_are_left_out(tmp_path: Path, synthetic: Path) -> None:
    root = _ade_corpus(tmp_path / "corpora")
    splits = load_benchmark_documents("ade", root, "odin")
    assert sum(d.metadata.get("negative", False) for d in splits["train"]) == 1
    report = run_transfer(synthetic, "ade", real="all", data_dir=root, show_progress=False)
    entry = report["corpora"]["ade"]
    assert entry["train_documents"] == 3 and entry["scored_documents"] == 1
    assert entry["negative_documents_excluded"] == 2
    assert {r["n_real"] for r in entry["runs"]} == {3}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"corpora": "pubmed"}, "unknown benchmark 'pubmed'"),
        ({"split": "test"}, "split 'test' of bc5cdr not found"),
        ({"real": "0,11"}, f"bc5cdr has only {TRAIN_SIZE} training documents"),
        ({"real": "0,x"}, "--real: 'x' is not an integer"),
        ({"system": "bert"}, "unknown system 'bert'"),
        ({"real_repeat": 0}, "--real-repeat must be a positive integer"),
        ({"synthetic": "2k"}, f"not a builder config; valid configs: {', '.join(config_names())}"),
        ({"corpora": []}, "give at least one corpus"),
        ({"max_eval_docs": 0}, "--max-eval-docs must be a positive integer"),
    ],
)
def test_bad_inputs_fail_before_training(
    corpus_dir: Path, synthetic: Path, kwargs: dict[str, object], message: str
) -> None:
    arguments = {"synthetic": synthetic, "corpora": "bc5cdr", "data_dir": corpus_dir, "show_progress": False, **kwargs}
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_transfer(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not text", "not valid UTF-8"),
        (b'{"id": "a", "text": "x"\n', "line 1"),
        (b'{"id": "a", "text": "flu", "entities": [{"id": "T1", "type": "Disease", "start": 0, "end": 9}]}\n', "invalid"),
    ],
)
def test_unreadable_or_invalid_synthetic_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(UserInputError, match=message) as caught:
        load_synthetic(path, seed=0)
    assert str(path) in str(caught.value)


def test_a_folder_is_not_a_synthetic_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="is a directory"):
        load_synthetic(tmp_path, seed=0)


@pytest.mark.skipif(
    not (DEFAULT_ROOT / "biored" / "Train.PubTator").is_file(), reason="the shared BioRED files are not here"
)
def test_biored_has_no_test_split_here(synthetic: Path) -> None:
    with pytest.raises(UserInputError, match="split 'test' of biored not found; available: train, validation"):
        run_transfer(synthetic, "biored", split="test", data_dir=DEFAULT_ROOT, show_progress=False)


def test_model_system_trains_the_recipe_on_the_mix_and_scores_it(corpus_dir: Path, synthetic: Path) -> None:
    """The plumbing of ``--system model`` at a toy size (2 steps): documents file -> recipe -> decoder -> score."""
    tiny = {"max_steps": 2, "tiny_hidden_size": 32, "tiny_num_layers": 1, "tiny_num_heads": 2,
            "tiny_intermediate_size": 64, "tiny_vocab_size": 400, "disable_tqdm": True}
    report = run_transfer(
        synthetic, "bc5cdr", system="model", real="0,2", data_dir=corpus_dir, model_options=tiny,
        max_eval_docs=2, batch_size=2, show_progress=False,
    )
    runs = report["corpora"]["bc5cdr"]["runs"]
    assert report["model"]["options"]["max_steps"] == "2" and report["mix"] == "concat"
    assert [(r["k"], r["arm"], r["n_train_docs"]) for r in runs] == [
        (0, "real", 0), (0, "real+synthetic", 12), (2, "real", 2), (2, "real+synthetic", 14)
    ]
    for run in runs[1:]:
        assert 0.0 <= run["scores"]["ner_strict_f1"] <= 1.0 and 0 < run["train_seconds"] <= run["seconds"]
