"""``predict_shards``: one whole output per input shard, resumable runs, a killed worker's shard redone whole.

The model is the tiny from-scratch Llama of the inference tests, trained for a few steps so
that it tags something, and saved as a recipe would save it. Shards are a few short notes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from odin_medical_ner_re.cli import main
from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.formats import build_completion, build_prompt, tag_vocabulary
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.inference import load_model, predict
from odin_medical_ner_re.predict_shards import MANIFEST, predict_corpus, read_documents
from odin_medical_ner_re.schema import Document, save_documents, validate
from odin_medical_ner_re.training.tiny import SMOKE_SPEC, build_tiny_model, train_tokenizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SPEC = SMOKE_SPEC
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    return MedicalTextGenerator(seed=7).generate_dataset(36)


@pytest.fixture(scope="module")
def model_dir(corpus: list[Document], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained for a few steps on the tag completions, saved as a recipe saves it."""
    texts = [build_prompt(d.text, with_text=False) + build_completion(d) for d in corpus[:24]]
    tokenizer = train_tokenizer(texts, SPEC.vocab_size, tag_vocabulary())
    model = build_tiny_model(tokenizer, SPEC)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    batch = tokenizer(texts[:8], return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    for _ in range(4):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    folder = tmp_path_factory.mktemp("model")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def shards(corpus: list[Document], tmp_path: Path) -> list[Path]:
    """Two JSONL shards (gold annotations included, which predict ignores) and one parquet shard."""
    held_out = corpus[24:]
    folder = tmp_path / "corpus"
    folder.mkdir()
    paths = [
        save_documents(held_out[0:4], folder / "part-0.jsonl"),
        save_documents(held_out[4:8], folder / "part-1.jsonl"),
    ]
    table = pa.table({"id": [d.id for d in held_out[8:12]], "text": [d.text for d in held_out[8:12]]})
    pq.write_table(table, folder / "part-2.parquet")
    return [*paths, folder / "part-2.parquet"]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def expected_predictions(model_dir: Path, source: Path) -> list[dict[str, Any]]:
    model, tokenizer = load_model(model_dir)
    docs = [doc for batch in read_documents(source, 100) for doc in batch]
    predictions, _ = predict(model, tokenizer, docs)
    return [p.to_dict() for p in predictions]


def test_one_whole_output_per_shard_with_the_models_predictions(
    model_dir: Path, shards: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "preds"
    summary = predict_corpus(model_dir, shards, out, batch_size=3, show_progress=False)
    assert sorted(p.name for p in out.iterdir()) == [
        ".predict.lock",
        MANIFEST,
        "part-0.jsonl",
        "part-1.jsonl",
        "part-2.jsonl",
    ]
    for source in shards:
        rows = read_jsonl(out / f"{source.stem}.jsonl")
        assert rows == expected_predictions(model_dir, source)  # batching by 3 changes nothing
        assert all(validate(Document.from_dict(row)) == [] for row in rows)
    assert sum(len(read_jsonl(out / f"{s.stem}.jsonl")) for s in shards) == 12
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["model"] == str(model_dir.resolve())
    assert [entry["documents"] for entry in manifest["shards"]] == [4, 4, 4]
    (worker,) = manifest["workers"].values()
    assert worker["documents"] == 12 and worker["notes_per_s"] > 0
    assert len(summary.done) == 3 and summary.skipped == []


def test_a_rerun_never_redoes_a_finished_shard(model_dir: Path, shards: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "preds"
    predict_corpus(model_dir, shards[:2], out, show_progress=False)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.jsonl")}
    time.sleep(0.01)
    summary = predict_corpus(model_dir, shards, out, show_progress=False)
    assert [r.output for r in summary.done] == ["part-2.jsonl"]
    assert sorted(r.output for r in summary.skipped) == ["part-0.jsonl", "part-1.jsonl"]
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("part-[01].jsonl")} == before
    assert [e["output"] for e in json.loads((out / MANIFEST).read_text())["shards"]] == [
        "part-0.jsonl",
        "part-1.jsonl",
        "part-2.jsonl",
    ]
    again = predict_corpus(model_dir, shards, out, show_progress=False)
    assert again.done == [] and len(again.skipped) == 3


def test_two_worker_processes_write_what_one_writes(
    model_dir: Path, shards: list[Path], tmp_path: Path
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    predict_corpus(model_dir, shards, one, show_progress=False)
    predict_corpus(model_dir, shards, two, num_workers=2, threads=1, show_progress=False)
    for source in shards:
        name = f"{source.stem}.jsonl"
        assert (two / name).read_bytes() == (one / name).read_bytes()
    workers = json.loads((two / MANIFEST).read_text())["workers"]
    assert sum(w["documents"] for w in workers.values()) == 12  # one worker may take all: it loaded first
    assert all(w["notes_per_s"] > 0 and str(os.getpid()) not in name for name, w in workers.items())


def test_a_worker_killed_mid_shard_leaves_no_partial_output_and_the_shard_is_redone_whole(
    model_dir: Path, corpus: list[Document], tmp_path: Path
) -> None:
    inputs = []
    for index in range(3):
        path = tmp_path / f"big-{index}.jsonl"
        save_documents(corpus[index * 6 : index * 6 + 6], path)
        inputs.append(path)
    out = tmp_path / "preds"
    argv = [
        sys.executable,
        "-m",
        "odin_medical_ner_re",
        "predict",
        "--model",
        str(model_dir),
        "--input",
        *map(str, inputs),
        "--output",
        str(out),
        "--batch-size",
        "1",
        "--threads",
        "1",
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not ((out / "big-0.jsonl").exists() and list(out.glob(".big-1.jsonl.*.tmp"))):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "shard big-1 never started"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)  # no handler runs: the temporary stays behind
    process.wait()
    assert sorted(p.name for p in out.glob("*.jsonl")) == ["big-0.jsonl"]  # no half-written big-1
    assert list(out.glob(".big-1.jsonl.*.tmp"))
    finished = (out / "big-0.jsonl").stat().st_mtime_ns

    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "predicted 12 notes in 2 shard(s); 1 shard(s) already done" in result.stdout
    assert (out / "big-0.jsonl").stat().st_mtime_ns == finished
    assert not list(out.glob(".*.tmp"))
    for source in inputs:
        assert read_jsonl(out / f"{source.stem}.jsonl") == expected_predictions(model_dir, source)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("input_in_output", "lies in the output folder"),
        ("same_stem", "would both write part-0.jsonl"),
        ("missing_input", "no such file"),
        ("not_a_model", "not a trained model folder"),
        ("foreign_output", "holds part-0.jsonl but no manifest.json"),
        ("other_model", "holds predictions of the model"),
        ("changed_input", "changed since"),
        ("bad_suffix", "unknown kind '.txt'"),
    ],
)
def test_bad_inputs_give_one_error_line_and_exit_2(
    case: str,
    message: str,
    model_dir: Path,
    shards: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "preds"
    inputs, model = [str(s) for s in shards[:1]], str(model_dir)
    if case == "input_in_output":
        out = shards[0].parent
    elif case == "same_stem":
        other = tmp_path / "other"
        other.mkdir()
        inputs.append(str(save_documents([Document("x", "Fever.")], other / "part-0.jsonl")))
    elif case == "missing_input":
        inputs = [str(tmp_path / "nowhere.jsonl")]
    elif case == "not_a_model":
        model = str(tmp_path)
    elif case == "foreign_output":
        out.mkdir()
        (out / "part-0.jsonl").write_text("{}\n")
    elif case in ("other_model", "changed_input"):
        predict_corpus(model_dir, shards[:1], out, show_progress=False)
        if case == "other_model":
            (out / MANIFEST).write_text(json.dumps({"model": "/elsewhere", "shards": []}))
        else:
            with open(shards[0], "a") as handle:
                handle.write('{"id": "late", "text": "Cough."}\n')
    elif case == "bad_suffix":
        (tmp_path / "notes.txt").write_text("Fever.")
        inputs = [str(tmp_path / "notes.txt")]
    capsys.readouterr()
    code = main(["predict", "--model", model, "--input", *inputs, "--output", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err


def test_overwrite_redoes_shards_found_in_a_foreign_folder(
    model_dir: Path, shards: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "preds"
    out.mkdir()
    (out / "part-0.jsonl").write_text("{}\n")
    summary = predict_corpus(model_dir, shards[:1], out, overwrite=True, show_progress=False)
    assert len(summary.done) == 1
    assert read_jsonl(out / "part-0.jsonl") == expected_predictions(model_dir, shards[0])


def test_a_parquet_shard_without_text_is_named(model_dir: Path, tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": ["a"]}), tmp_path / "ids.parquet")
    with pytest.raises(UserInputError, match=r"ids\.parquet: no 'text' column"):
        predict_corpus(model_dir, [tmp_path / "ids.parquet"], tmp_path / "out", show_progress=False)
    assert not list((tmp_path / "out").glob("*.jsonl"))


@pytest.mark.slow  # ~35 s on the shared 2-core machine: Ray starts, two actors import torch
def test_ray_actors_write_what_local_workers_write(
    model_dir: Path, shards: list[Path], tmp_path: Path
) -> None:
    pytest.importorskip("ray")
    local, distributed = tmp_path / "local", tmp_path / "ray"
    predict_corpus(model_dir, shards, local, show_progress=False)
    # Ray runs in a process of its own (the CLI starts a local Ray on this machine's 2 CPUs): a
    # process that ran Ray can deadlock in a later fork, and the test process forks for num_proc.
    argv = [sys.executable, "-m", "odin_medical_ner_re", "predict", "--model", str(model_dir), "--input"]
    argv += [*map(str, shards), "--output", str(distributed), "--engine", "ray", "--num-workers", "3"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [*argv, "--threads", "1", "--quiet"], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]  # 3 asked, 2 CPUs hold 2 actors: no wait for a third
    for source in shards:
        name = f"{source.stem}.jsonl"
        assert (distributed / name).read_bytes() == (local / name).read_bytes()
    workers = json.loads((distributed / MANIFEST).read_text())["workers"]
    assert sum(w["documents"] for w in workers.values()) == 12 and len(workers) <= 2
    assert "predicted 12 notes in 3 shard(s)" in proc.stdout


def test_predict_on_an_address_that_does_not_answer_exits_1(
    model_dir: Path, shards: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("ray")
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = ["predict", "--model", str(model_dir), "--input", str(shards[0]), "--output", str(tmp_path / "o")]
    assert main([*argv, "--engine", "ray", "--address", f"127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not answer" in err
    assert not (tmp_path / "o").exists()


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_holds_it(
    model_dir: Path, shards: list[Path], tmp_path: Path
) -> None:
    from odin_medical_ner_re.predict_shards import folder_lock

    out = tmp_path / "preds"
    out.mkdir()
    with folder_lock(out), pytest.raises(UserInputError, match="another predict run is writing to"):
        predict_corpus(model_dir, shards[:1], out, show_progress=False)
    assert not (out / "part-0.jsonl").exists()


def test_a_shard_renamed_into_place_but_missing_from_the_manifest_counts_as_done(
    model_dir: Path, shards: list[Path], tmp_path: Path
) -> None:
    """Killed between the rename and the manifest's rewrite: the output is whole, so it is kept."""
    out = tmp_path / "preds"
    predict_corpus(model_dir, shards[:2], out, show_progress=False)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["shards"] = [e for e in manifest["shards"] if e["output"] != "part-1.jsonl"]
    (out / MANIFEST).write_text(json.dumps(manifest))
    before = (out / "part-1.jsonl").stat().st_mtime_ns
    summary = predict_corpus(model_dir, shards[:2], out, show_progress=False)
    assert summary.done == [] and (out / "part-1.jsonl").stat().st_mtime_ns == before
    entries = {e["output"]: e for e in json.loads((out / MANIFEST).read_text())["shards"]}
    assert entries["part-1.jsonl"]["documents"] == 4
