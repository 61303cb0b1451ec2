"""``odin_medical_ner_re.hub.push`` (``hub/push.py``): the staged folder is what the Hub gets, so it
must load like the builder (dataset) or like a trained model (transformers / PEFT); the cards must carry
valid metadata with the exact numbers of ``report.json``; the token must never show up anywhere; and a
failed upload must exit 1 with one line and keep the staged folder for a retry.

Nothing here reaches the network: in-process runs have ``HF_HUB_OFFLINE=1`` and a patched token
lookup, and the upload path is exercised against a fake ``HfApi`` or an unroutable endpoint.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import datasets
import pytest
import yaml

from odin_medical_ner_re.builder import SPLITS, features, load_dataset
from odin_medical_ner_re.hub import push, tokens
from odin_medical_ner_re.hub import upload as hub_upload
from odin_medical_ner_re.hub.model_card import render_model_card
from odin_medical_ner_re.hub.trained_model import TrainedModel
from odin_medical_ner_re.scoring import flatten, score_documents

ROOT = Path(__file__).resolve().parents[1]
PUSH_PATH = ROOT / "hub" / "push.py"
FAKE_TOKEN = "hf_FAKEtoken0123456789abcdefghijklmnop"
SMALL_ARGS = ["--num-train", "20", "--num-validation", "5", "--num-test", "5", "--num-test-unseen", "5"]
SMALL = {"num_train": 20, "num_validation": 5, "num_test": 5, "num_test_unseen": 5}
DATASET_REPO = "tester/odin_medical_ner_re"
MODEL_REPO = "tester/odin-ner-re-tiny"



class RefusingApi:
    """Stands in for HfApi wherever no upload may happen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("HfApi must not be used here")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every in-process test is offline, tokenless and without HfApi unless it says otherwise."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(tokens, "get_token", lambda: None)
    monkeypatch.setattr(hub_upload, "HfApi", RefusingApi)


@pytest.fixture(scope="module")
def quality_report(knowledge_dir: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from odin_medical_ner_re.generator import MedicalTextGenerator
    from odin_medical_ner_re.quality import run_report
    from odin_medical_ner_re.schema import save_documents

    folder = tmp_path_factory.mktemp("quality")
    generator = MedicalTextGenerator(seed=3)
    save_documents([generator.generate_clinical_note(f"q{i}") for i in range(20)], folder / "docs.json")
    directory, _ = run_report(str(folder / "docs.json"), folder / "report", bleu_sample=5)
    return directory / "report.json"


def _dataset_args(output: Path, cache: str, *extra: str) -> list[str]:
    return [
        "dataset",
        "--configs",
        "1k,complex",
        "--repo-id",
        DATASET_REPO,
        "--output-dir",
        str(output),
        "--cache-dir",
        cache,
        *SMALL_ARGS,
        *extra,
    ]


@pytest.fixture(scope="module")
def staged_dataset(cache_dir: str, quality_report: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("staging") / "odin_medical_ner_re"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setattr(tokens, "get_token", lambda: None)
        patch.setattr(hub_upload, "HfApi", RefusingApi)
        args = _dataset_args(output, cache_dir, "--dry-run", "--quality-report", str(quality_report))
        assert push.main(args) == 0
    return output


def _front_matter(readme: str) -> dict[str, Any]:
    match = re.match(r"---\n(.*?)\n---\n", readme, flags=re.DOTALL)
    assert match, "README.md has no YAML front matter"
    return yaml.safe_load(match.group(1))


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def _assert_no_token(*texts: str, folder: Path | None = None) -> None:
    for text in texts:
        assert FAKE_TOKEN not in text
    for path in _files(folder) if folder else []:
        assert FAKE_TOKEN.encode() not in path.read_bytes(), path


# --------------------------------------------------------------------------- dataset


@pytest.mark.parametrize("name", ["1k", "complex"])
def test_staged_dataset_loads_like_the_builder(
    staged_dataset: Path, cache_dir: str, name: str, tmp_path: Path
) -> None:
    loaded = datasets.load_dataset(str(staged_dataset), name, cache_dir=str(tmp_path))
    built = load_dataset(name, cache_dir=cache_dir, **SMALL)  # same cache: no regeneration
    assert list(loaded) == list(SPLITS)
    for split in SPLITS:
        assert loaded[split].features == built[split].features == features()
        assert loaded[split].to_list() == built[split].to_list(), split


def test_dataset_card_metadata_and_quality(staged_dataset: Path) -> None:
    readme = (staged_dataset / "README.md").read_text(encoding="utf-8")
    meta = _front_matter(readme)
    assert {c["config_name"] for c in meta["configs"]} == {"1k", "complex"}
    assert meta["task_categories"] and "token-classification" in meta["task_categories"]
    assert meta["license"] == "apache-2.0"
    assert f'load_dataset("{DATASET_REPO}"' in readme  # quick start names the pushed repository
    assert "## Quality" in readme and "diversity.distinct_2" in readme
    assert sorted(p.name for p in staged_dataset.iterdir()) == ["1k", "README.md", "complex"]


def test_dataset_restaging_replaces_the_previous_staging(
    staged_dataset: Path, cache_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "again"
    assert push.main(_dataset_args(output, cache_dir, "--configs", "1k")) == 0  # no token: dry run
    assert "no Hugging Face token" in capsys.readouterr().out
    assert push.main(_dataset_args(output, cache_dir, "--configs", "1k")) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial leftovers


def test_dataset_offline_with_token_exits_1_and_keeps_the_staging(
    cache_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tokens, "get_token", lambda: FAKE_TOKEN)
    output = tmp_path / "ds"
    assert push.main(_dataset_args(output, cache_dir, "--configs", "1k")) == 1
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "HF_HUB_OFFLINE" in err
    assert str(output) in err and "push.py upload" in err
    assert (output / "README.md").is_file()
    _assert_no_token(out, err, folder=output)


def test_bad_dataset_arguments_are_one_line_errors(
    cache_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert push.main(_dataset_args(tmp_path / "x", cache_dir, "--configs", "1k,huge")) == 2
    assert push.main(_dataset_args(tmp_path / "x", cache_dir, "--num-train", "0")) == 2
    assert push.main(["dataset", "--repo-id", "no-namespace", "--output-dir", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 3 and "Traceback" not in err
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- model


def _report() -> dict[str, Any]:
    """A real scoring report with uneven numbers, as the training recipe writes it."""
    gold = {
        "id": "d1",
        "text": "Start metformin for type 2 diabetes and aspirin for stroke.",
        "entities": [
            {"id": "E1", "text": "metformin", "type": "Drug", "start": 6, "end": 15},
            {"id": "E2", "text": "type 2 diabetes", "type": "Disease", "start": 20, "end": 35},
            {"id": "E3", "text": "aspirin", "type": "Drug", "start": 40, "end": 47},
            {"id": "E4", "text": "stroke", "type": "Disease", "start": 52, "end": 58},
        ],
        "relations": [
            {"id": "R1", "type": "treats", "head": "E1", "tail": "E2"},
            {"id": "R2", "type": "prevents", "head": "E3", "tail": "E4"},
        ],
    }
    pred = {**gold, "entities": gold["entities"][:3], "relations": gold["relations"][:1]}
    splits = {}
    for split, predictions in (("test", [pred, gold, gold]), ("test_unseen", [pred])):
        report = score_documents(predictions, [gold] * len(predictions))
        report["parse"] = {"lines": 3, "unparsed": 0}
        report.update(flatten(report))
        splits[split] = report
    return {"dataset": "1k", "splits": splits}


def _training_record(model_name: str, use_peft: bool) -> dict[str, Any]:
    return {
        "backend": "transformers",
        "backend_reason": "auto: no CUDA GPU, using transformers + PEFT",
        "data": {"dataset_config": "1k", "num_train": 20, "dataset_path": None, "benchmark": None},
        "model": {"model_name_or_path": model_name, "use_peft": use_peft, "lora_r": 2},
        "entity_types": ["Disease", "Symptom", "Drug", "Procedure", "Lab_Test"],
        "relation_types": ["treats", "causes", "indicates", "prevents"],
        "train_examples": 20,
        "train_seconds": 1.5,
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny full model folder and a LoRA adapter folder, with report.json and odin_training.json."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from odin_medical_ner_re.training.tiny import TinyModelSpec, build_tiny_model, train_tokenizer

    root = tmp_path_factory.mktemp("trained")
    texts = ["Start metformin for type 2 diabetes.", "Aspirin prevents stroke; denies chest pain."] * 20
    tokenizer = train_tokenizer(texts, 300)
    spec = TinyModelSpec(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, vocab_size=300
    )
    torch.manual_seed(0)
    model = build_tiny_model(tokenizer, spec)
    full = root / "full"
    model.save_pretrained(full)
    tokenizer.save_pretrained(full)
    (full / "checkpoint-10").mkdir()  # left out of the upload
    (full / "training_args.bin").write_bytes(b"pickle")
    base = root / "base"
    model.save_pretrained(base)
    tokenizer.save_pretrained(base)
    lora = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    adapter_model = get_peft_model(AutoModelForCausalLM.from_pretrained(base), lora)
    adapter = root / "adapter"
    adapter_model.save_pretrained(adapter)
    tokenizer.save_pretrained(adapter)
    for folder, name, peft in ((full, "tiny", False), (adapter, str(base), True)):
        (folder / "report.json").write_text(json.dumps(_report(), indent=2), encoding="utf-8")
        record = _training_record(name, peft)
        (folder / "odin_training.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return {"full": full, "adapter": adapter, "base": base, "root": root}


def _model_args(source: Path, output: Path, *extra: str) -> list[str]:
    return ["model", str(source), "--repo-id", MODEL_REPO, "--output-dir", str(output), *extra]


@pytest.fixture(scope="module")
def staged_models(trained: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("model-staging")
    staged = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setattr(tokens, "get_token", lambda: None)
        patch.setattr(hub_upload, "HfApi", RefusingApi)
        for kind in ("full", "adapter"):
            assert push.main(_model_args(trained[kind], root / kind, "--dry-run")) == 0
            staged[kind] = root / kind
    return staged


def _generate(model: Any, tokenizer: Any) -> None:
    import torch

    encoded = tokenizer("Start metformin for", return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**encoded, max_new_tokens=4, min_new_tokens=4, do_sample=False)
    assert out.shape[1] == encoded["input_ids"].shape[1] + 4


def test_staged_full_model_loads_and_generates(staged_models: dict[str, Path]) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = staged_models["full"]
    names = {p.name for p in folder.iterdir()}
    assert {"README.md", "config.json", "model.safetensors", "report.json", "odin_training.json"} <= names
    assert not names & {"checkpoint-10", "training_args.bin"}
    _generate(AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder))


def test_staged_adapter_loads_with_peft_and_generates(staged_models: dict[str, Path]) -> None:
    from peft import AutoPeftModelForCausalLM, PeftModel
    from transformers import AutoTokenizer

    folder = staged_models["adapter"]
    assert {"adapter_config.json", "adapter_model.safetensors"} <= {p.name for p in folder.iterdir()}
    model = AutoPeftModelForCausalLM.from_pretrained(folder)
    assert isinstance(model, PeftModel)
    _generate(model, AutoTokenizer.from_pretrained(folder))
    meta = _front_matter((folder / "README.md").read_text(encoding="utf-8"))
    assert meta["library_name"] == "peft" and "lora" in meta["tags"]
    assert "base_model" not in meta  # a local base folder is no Hub model


def test_card_usage_snippet_runs(staged_models: dict[str, Path]) -> None:
    """The card's snippet, pointed at the staged folder instead of the Hub, extracts from its note."""
    readme = (staged_models["full"] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, flags=re.DOTALL).group(1)
    call = f'snapshot_download("{MODEL_REPO}")'
    assert call in code
    assert "[note])" in code
    code = code.replace(call, repr(str(staged_models["full"])))
    code = code.replace("[note])", "[note], max_new_tokens=8)")  # a random model rarely stops by itself
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - the code of our own card
    assert namespace["prediction"].text.startswith("Started metformin")


@pytest.mark.parametrize("kind", ["full", "adapter"])
def test_model_index_numbers_equal_report_json(staged_models: dict[str, Path], kind: str) -> None:
    folder = staged_models[kind]
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    meta = _front_matter((folder / "README.md").read_text(encoding="utf-8"))
    assert meta["datasets"] == [DATASET_REPO]
    assert meta["library_name"] == ("peft" if kind == "adapter" else "transformers")
    [entry] = meta["model-index"]
    results = {r["dataset"]["split"]: r for r in entry["results"]}
    assert set(results) == set(report["splits"])
    for split, result in results.items():
        assert result["dataset"]["config"] == "1k"
        metrics = {m["type"]: m["value"] for m in result["metrics"]}
        assert {"ner_strict_f1", "re_strict_f1", "ner_strict_precision", "re_strict_recall"} <= set(metrics)
        for key, value in metrics.items():
            assert value == report["splits"][split][key], (split, key)
    assert any(v not in (0.0, 1.0) for r in results.values() for v in (m["value"] for m in r["metrics"]))


def test_model_card_sections(staged_models: dict[str, Path]) -> None:
    readme = (staged_models["full"] / "README.md").read_text(encoding="utf-8")
    for heading in (
        "## Usage",
        "## Training configuration",
        "## Data configuration",
        "## Evaluation",
        "## Limitations",
    ):
        assert heading in readme
    assert "| `backend` | transformers |" in readme and "| `num_train` | 20 |" in readme
    assert "| `test_unseen` |" in readme and "not for clinical use" in readme.lower()


def test_hub_base_model_goes_into_the_metadata(tmp_path: Path) -> None:
    model = TrainedModel(
        folder=tmp_path,
        files=[],
        skipped={},
        adapter={"base_model_name_or_path": "meta-llama/Llama-3.2-1B-Instruct", "r": 16},
        training=_training_record("meta-llama/Llama-3.2-1B-Instruct", True),
        report=_report(),
    )
    card = render_model_card(model, MODEL_REPO, dataset_repo_id="org/data", license_id="llama3.2")
    meta = _front_matter(card)
    assert meta["base_model"] == "meta-llama/Llama-3.2-1B-Instruct"
    assert meta["license"] == "llama3.2" and meta["datasets"] == ["org/data"]


def test_missing_report_is_refused_unless_allowed(
    trained: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "no-eval"
    source.mkdir()
    for path in trained["full"].iterdir():
        if path.is_file() and path.name != "report.json":
            (source / path.name).write_bytes(path.read_bytes())
    assert push.main(_model_args(source, tmp_path / "out", "--dry-run")) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "report.json" in err and "--allow-missing-eval" in err
    assert not (tmp_path / "out").exists()
    assert push.main(_model_args(source, tmp_path / "out", "--dry-run", "--allow-missing-eval")) == 0
    readme = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert "model-index" not in _front_matter(readme) and "No evaluation report" in readme


def test_unrelated_output_folder_is_not_replaced(
    trained: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "mine"
    output.mkdir()
    (output / "notes.txt").write_text("keep me", encoding="utf-8")
    assert push.main(_model_args(trained["full"], output, "--dry-run")) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert [p.name for p in output.iterdir()] == ["notes.txt"]


# --------------------------------------------------------------------------- token and faults


def test_token_in_a_source_file_is_refused(
    trained: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(tokens, "get_token", lambda: FAKE_TOKEN)
    source = tmp_path / "leaky"
    source.mkdir()
    for path in trained["full"].iterdir():
        if path.is_file():
            (source / path.name).write_bytes(path.read_bytes())
    record = json.loads((source / "odin_training.json").read_text(encoding="utf-8"))
    record["model"]["hub_token"] = FAKE_TOKEN
    (source / "odin_training.json").write_text(json.dumps(record), encoding="utf-8")
    assert push.main(_model_args(source, tmp_path / "out", "--dry-run")) == 2
    out, err = capsys.readouterr()
    assert "holds your Hugging Face token" in err
    _assert_no_token(out, err)
    assert not (tmp_path / "out").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


class FakeApi:
    """Records the calls an upload makes; ``fail`` makes ``upload_folder`` raise with the token inside."""

    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    fail = False

    def __init__(self, token: str | None = None) -> None:
        assert token == FAKE_TOKEN

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            FakeApi.calls.append((name, args, kwargs))
            if name == "upload_folder" and FakeApi.fail:
                raise ConnectionError(f"upload refused for Bearer {FAKE_TOKEN}\nsecond line")
            return type("CommitInfo", (), {"commit_url": "https://huggingface.co/x/commit/1"})()

        return call


@pytest.mark.parametrize("fail", [False, True])
def test_upload_calls_and_failure(
    trained: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fail: bool,
) -> None:
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(tokens, "get_token", lambda: FAKE_TOKEN)
    monkeypatch.setattr(hub_upload, "HfApi", FakeApi)
    monkeypatch.setattr(FakeApi, "calls", [])
    monkeypatch.setattr(FakeApi, "fail", fail)
    output = tmp_path / "out"
    args = _model_args(trained["adapter"], output, "--private", "--revision", "v1", "--commit-message", "hi")
    assert push.main(args) == (1 if fail else 0)
    out, err = capsys.readouterr()
    _assert_no_token(out, err, folder=output)
    calls = {name: kwargs for name, _, kwargs in FakeApi.calls}
    assert calls["create_repo"] == {"repo_type": "model", "private": True, "exist_ok": True}
    assert calls["update_repo_settings"]["private"] is True
    assert calls["create_branch"]["branch"] == "v1"
    upload = calls["upload_folder"]
    assert (upload["folder_path"], upload["revision"], upload["commit_message"]) == (output, "v1", "hi")
    assert upload["repo_id"] == MODEL_REPO and upload["repo_type"] == "model"
    if fail:  # one scrubbed line naming the kept folder; its retry command then uploads that folder
        assert len(err.strip().splitlines()) == 1 and "ConnectionError" in err and "***" in err
        assert (output / "README.md").is_file()
        retry = shlex.split(re.search(r"`(python hub/push.py upload [^`]*)`", err).group(1))
        monkeypatch.setattr(FakeApi, "fail", False)
        FakeApi.calls.clear()
        assert push.main(retry[2:]) == 0
        upload = {name: kwargs for name, _, kwargs in FakeApi.calls}["upload_folder"]
        assert (upload["folder_path"], upload["revision"], upload["repo_type"]) == (output, "v1", "model")


def _subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update({"HF_HOME": str(tmp_path / "hf-home"), "HF_TOKEN": FAKE_TOKEN, **extra})
    return env


@pytest.mark.parametrize(
    "network",
    [{"HF_HUB_OFFLINE": "1"}, {"HF_ENDPOINT": "http://127.0.0.1:9"}],
    ids=["offline", "unreachable"],
)
def test_cli_failure_is_one_line_exit_1_and_keeps_the_staging(
    trained: dict[str, Path], tmp_path: Path, network: dict[str, str]
) -> None:
    output = tmp_path / "staged"
    proc = subprocess.run(
        [sys.executable, str(PUSH_PATH), *_model_args(trained["full"], output)],
        capture_output=True,
        text=True,
        env=_subprocess_env(tmp_path, **network),
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr
    assert str(output) in lines[0]
    assert (output / "README.md").is_file() and (output / "model.safetensors").is_file()
    _assert_no_token(proc.stdout, proc.stderr, folder=output)


def test_cli_without_token_is_a_dry_run(trained: dict[str, Path], tmp_path: Path) -> None:
    env = _subprocess_env(tmp_path)
    del env["HF_TOKEN"]
    proc = subprocess.run(
        [sys.executable, str(PUSH_PATH), "model", str(trained["full"]), "--repo-id", MODEL_REPO],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "dry run" in proc.stdout and "nothing was sent" in proc.stdout
    assert (tmp_path / "hub-staging" / "odin-ner-re-tiny" / "README.md").is_file()


def test_scrub_masks_the_token_and_token_shaped_strings() -> None:
    other = "hf_" + "x" * 34
    text = tokens.scrub(f"a {FAKE_TOKEN} b {other} c hf_hub_download", FAKE_TOKEN)
    assert FAKE_TOKEN not in text and other not in text and "hf_hub_download" in text
