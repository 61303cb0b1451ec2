"""The training and evaluation recipes as a user runs them: configs, backends, clear errors, real runs.

Runs go through ``recipes/*.py`` in a subprocess, exactly as documented, so what is
checked is what a user sees: exit codes, the one-line errors, the files in the output
folder. Models are tiny (hidden 32, one layer) and the corpora a few dozen notes; every
run gets its own datasets cache and an empty Hub cache with ``HF_HUB_OFFLINE=1``, so no
run reuses or downloads anything by accident. Subprocesses use one thread: the model is
too small to gain from more, and the tests share the machine.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.schema import save_documents, validate
from odin_medical_ner_re.training import (
    DataArguments,
    ModelArguments,
    SLMTrainer,
    cpu_safe_argv,
    select_backend,
)
from odin_medical_ner_re.training import launch as launch_module
from odin_medical_ner_re.training.tiny import TinyModelSpec, build_tiny_model, train_tokenizer

ROOT = Path(__file__).resolve().parents[1]
UNSLOTH_STUB = ROOT / "tests" / "fixtures" / "unsloth_stub"
TRAIN = ROOT / "recipes" / "train.py"
EVALUATE = ROOT / "recipes" / "evaluate_model.py"
TINY_CONFIG = ROOT / "recipes" / "configs" / "tiny-cpu.yaml"
CONFIGS = sorted((ROOT / "recipes" / "configs").glob("*.yaml"))
ACCELERATE_CONFIGS = sorted((ROOT / "recipes" / "accelerate").glob("*.yaml"))

#: The documented tiny run (issue 6), minus ``--max_steps`` and ``--output_dir``.
TINY_RUN = [
    "--config",
    str(TINY_CONFIG),
    *shlex.split(
        "--num_train 20 --num_validation 4 --num_test 4 --num_test_unseen 4 --save_steps 2 --eval_steps 2 "
        "--generation_eval_samples 2 --tiny_hidden_size 32 --tiny_num_layers 1 --tiny_num_heads 2 "
        "--tiny_intermediate_size 64 --tiny_vocab_size 400 --pseudo_name_copies 1 --tag_lookahead 1"
    ),
]
SMALL_DATA = shlex.split("--num_train 4 --num_validation 2 --num_test 2 --num_test_unseen 2")
FLAT_KEYS = (
    "ner_strict_f1",
    "ner_strict_precision",
    "ner_strict_recall",
    "re_strict_f1",
    "ner_partial_f1",
    "re_boundaries_f1",
    "ner_strict_macro_f1",
)


def run_env(folder: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_DATASETS_CACHE=str(folder / "hf-datasets"),
        HF_HUB_CACHE=str(folder / "hf-hub"),
        HF_HUB_OFFLINE="1",
        OMP_NUM_THREADS="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONUNBUFFERED="1",
    )
    env.pop("ODIN_KEEP_BF16", None)
    env.update(extra)
    return env


def run(command: list[str], env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout (tail)\n{proc.stdout[-3000:]}\n--- stderr (tail)\n{proc.stderr[-5000:]}"


def error_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


def parse(argv: list[str]) -> tuple[Any, Any, Any]:
    """The recipe's own parsing (a fresh parser each time: TrlParser writes config values into its defaults)."""
    from odin_medical_ner_re.commands.train import parse as parse_recipe

    return parse_recipe(argv)


@pytest.fixture
def one_thread() -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch_module, "cuda_available", lambda: False)
    monkeypatch.delenv("ODIN_KEEP_BF16", raising=False)


# --------------------------------------------------------------------------- config loading


def test_cli_overrides_take_precedence_over_the_yaml(no_gpu: None, tmp_path: Path) -> None:
    overrides = shlex.split("--max_steps 5 --dataset_config 10k --tiny_hidden_size 32 --learning_rate 1e-4")
    data, training, model = parse(
        ["--config", str(TINY_CONFIG), *overrides, "--output_dir", str(tmp_path / "X")]
    )
    assert isinstance(data, DataArguments) and isinstance(model, ModelArguments)
    assert type(training).__name__ == "SFTConfig"
    # overridden on the command line
    assert (training.max_steps, training.output_dir, data.dataset_config) == (5, str(tmp_path / "X"), "10k")
    assert (model.tiny_hidden_size, training.learning_rate) == (32, 1e-4)
    # from the YAML, untouched
    assert data.evaluate_splits == ["test", "test_unseen"] and data.pseudo_name_rate == 0.5
    assert (model.model_name_or_path, model.backend, model.tiny_num_layers) == ("tiny", "transformers", 4)
    written = yaml.safe_load(TINY_CONFIG.read_text())
    assert training.per_device_train_batch_size == written["per_device_train_batch_size"]
    assert training.save_steps == written["save_steps"] and data.tag_lookahead == written["tag_lookahead"]
    assert training.completion_only_loss is True


@pytest.mark.parametrize("config", CONFIGS, ids=[c.name for c in CONFIGS])
def test_every_recipe_config_parses_on_cpu(config: Path, no_gpu: None) -> None:
    data, training, model = parse(["--config", str(config)])
    assert isinstance(data, DataArguments) and isinstance(model, ModelArguments)
    assert training.output_dir and training.completion_only_loss
    # a GPU config still starts on a laptop: bf16 and gradient checkpointing are switched off
    assert training.bf16 is False and training.gradient_checkpointing is False


def _flags(argv: list[str]) -> dict[str, list[str]]:
    """Every value given to each ``--flag`` (a flag given twice would be a conflict)."""
    values: dict[str, list[str]] = {}
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        values.setdefault(flag, []).append(value)
    return values


def test_cpu_safe_argv_only_touches_what_the_user_did_not_set(
    monkeypatch: pytest.MonkeyPatch, no_gpu: None
) -> None:
    added = _flags(cpu_safe_argv(["--config", "c.yaml"]))
    assert added["--config"] == ["c.yaml"]
    # transformers 5.25 renamed the switch; the old name still sets it
    assert added["--bf16"] == ["false"] and added["--activation_checkpointing"] == ["false"]
    kept = _flags(cpu_safe_argv(["--bf16", "true", "--gradient_checkpointing", "true"]))
    assert kept["--bf16"] == ["true"] and kept["--gradient_checkpointing"] == ["true"]
    assert "--activation_checkpointing" not in kept
    monkeypatch.setenv("ODIN_KEEP_BF16", "1")
    assert cpu_safe_argv(["--config", "c.yaml"]) == ["--config", "c.yaml"]
    monkeypatch.delenv("ODIN_KEEP_BF16")
    monkeypatch.setattr(launch_module, "cuda_available", lambda: True)
    assert cpu_safe_argv(["--config", "c.yaml"]) == ["--config", "c.yaml"]


@pytest.mark.parametrize("config", ACCELERATE_CONFIGS, ids=[c.name for c in ACCELERATE_CONFIGS])
def test_accelerate_configs_load(config: Path) -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    loaded = load_config_from_file(str(config))
    assert loaded.num_processes >= 2 and (loaded.num_machines == 1) != config.name.startswith("multi-node")
    if config.name == "cpu-ddp.yaml":
        assert loaded.use_cpu and loaded.num_processes == 2


# --------------------------------------------------------------------------- backend selection


@pytest.mark.parametrize("has_gpu", [False, True])
@pytest.mark.parametrize("has_unsloth", [False, True])
@pytest.mark.parametrize("requested", ["auto", "unsloth", "transformers"])
def test_select_backend(requested: str, has_unsloth: bool, has_gpu: bool) -> None:
    if requested == "unsloth" and not has_unsloth:
        with pytest.raises(UserInputError, match=r"pip install '\.\[unsloth\]'"):
            select_backend(requested, has_unsloth=has_unsloth, has_gpu=has_gpu)
        return
    if requested == "unsloth" and not has_gpu:
        with pytest.raises(UserInputError, match="GPU") as info:
            select_backend(requested, has_unsloth=has_unsloth, has_gpu=has_gpu)
        assert "llama-3.2-1b-peft.yaml" in str(info.value)
        return
    backend, reason = select_backend(requested, has_unsloth=has_unsloth, has_gpu=has_gpu)
    expected = (
        "unsloth"
        if requested == "unsloth" or (requested == "auto" and has_unsloth and has_gpu)
        else "transformers"
    )
    assert backend == expected
    assert reason  # logged next to the backend: the user sees why
    if requested == "auto" and backend == "transformers":
        assert ("no CUDA GPU" in reason) if not has_gpu else ("Unsloth not installed" in reason)


def test_select_backend_rejects_an_unknown_name() -> None:
    with pytest.raises(UserInputError, match="auto, unsloth or transformers"):
        select_backend("deepspeed", has_unsloth=False, has_gpu=False)


def test_select_backend_detects_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch_module, "cuda_available", lambda: False)
    monkeypatch.setattr(launch_module, "unsloth_installed", lambda: True)
    assert select_backend("auto")[0] == "transformers"
    monkeypatch.setattr(launch_module, "cuda_available", lambda: True)
    assert select_backend("auto")[0] == "unsloth"


# --------------------------------------------------------------------------- clear errors, no traceback


def test_hub_model_offline_fails_with_one_line(tmp_path: Path) -> None:
    config = ROOT / "recipes" / "configs" / "llama-3.2-1b-peft.yaml"
    output = ["--output_dir", str(tmp_path / "out")]
    proc = run([sys.executable, str(TRAIN), "--config", str(config), *SMALL_DATA, *output], run_env(tmp_path))
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr + proc.stdout, explain(proc)
    (line,) = error_lines(proc)
    assert "download" in line.lower() and "meta-llama/Llama-3.2-1B-Instruct" in line


@pytest.mark.skipif(importlib.util.find_spec("unsloth") is not None, reason="Unsloth is installed here")
def test_unsloth_config_without_unsloth_fails_with_one_line(tmp_path: Path) -> None:
    config = ROOT / "recipes" / "configs" / "llama-3.2-1b-unsloth.yaml"
    output = ["--output_dir", str(tmp_path / "out")]
    proc = run([sys.executable, str(TRAIN), "--config", str(config), *SMALL_DATA, *output], run_env(tmp_path))
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr + proc.stdout, explain(proc)
    (line,) = error_lines(proc)
    assert "pip install" in line


def _bad_configs(folder: Path) -> dict[str, Path]:
    files = {
        "broken": "max_steps: 5\nlearning_rate: 1e-4: x\n",
        "list": "- max_steps: 5\n",
        "unknown": "max_steps: 5\nlearning_rat: 1.0e-4\n",
    }
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return {name: folder / f"{name}.yaml" for name in files}


BAD_INPUT = {
    "missing config": (["--config", "{tmp}/missing.yaml"], r"config file \S*missing\.yaml does not exist"),
    "malformed config": (["--config", "{tmp}/broken.yaml"], r"broken\.yaml, line 2: not valid YAML"),
    "config not a mapping": (["--config", "{tmp}/list.yaml"], r"list\.yaml must be a YAML mapping"),
    "unknown field": (["--config", "{tmp}/unknown.yaml"], r"unknown\.yaml: unknown field 'learning_rat'"),
    "unknown flag": (["--config", str(TINY_CONFIG), "--learning_rat", "1e-4"], r"unknown flag --learning_rat"),
    "max_steps below -1": (["--config", str(TINY_CONFIG), "--max_steps", "-3"], r"max_steps must be -1 .* got -3"),
    "model folder without a tokenizer": (
        ["--config", str(ROOT / "recipes" / "configs" / "llama-3.2-1b-peft.yaml"), "--model_name_or_path",
         "{tmp}/no-tokenizer"],
        r"model folder \S*no-tokenizer has no tokenizer",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_train_recipe_mistakes_end_in_one_error_line(case: str, tmp_path: Path) -> None:
    """Every mistake: one ``error:`` line naming the file, field or flag, exit code 2, no traceback."""
    import re

    _bad_configs(tmp_path)
    if case == "model folder without a tokenizer":
        save_pretrained_folder(tmp_path / "no-tokenizer", with_tokenizer=False)
    argv, pattern = BAD_INPUT[case]
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    proc = run([sys.executable, str(TRAIN), *argv, "--output_dir", str(tmp_path / "out")], run_env(tmp_path))
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr + proc.stdout, explain(proc)
    (line,) = error_lines(proc)
    assert re.search(pattern, line), line
    assert not (tmp_path / "out").exists()


def test_evaluate_model_on_a_missing_folder_fails_with_one_line(tmp_path: Path) -> None:
    proc = run([sys.executable, str(EVALUATE), "--model", str(tmp_path / "nowhere")], run_env(tmp_path))
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr
    (line,) = error_lines(proc)
    assert "does not exist" in line


def test_evaluate_splits_missing_from_the_data_fail_before_training(tmp_path: Path) -> None:
    """A documents file has no test split: say so at once, not after the whole training run."""
    documents = save_documents(MedicalTextGenerator(seed=3).generate_dataset(4), tmp_path / "train.jsonl")
    output = tmp_path / "out"
    argv = ["--config", str(TINY_CONFIG), "--dataset_path", str(documents), "--output_dir", str(output)]
    proc = run([sys.executable, str(TRAIN), *argv], run_env(tmp_path))
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr + proc.stdout, explain(proc)
    (line,) = error_lines(proc)
    assert "evaluate_splits" in line and "test_unseen" in line and "evaluate_model.py" in line
    assert not (output / "model.safetensors").exists()


def _pubtator(first_pmid: int, count: int) -> str:
    """``count`` BC5CDR-format abstracts, each one sentence with a chemical, a disease and a CID pair."""
    pairs = [("Metformin", "diabetes"), ("Aspirin", "headache"), ("Lithium", "tremor"), ("Cisplatin", "nephrotoxicity")]
    lines = []
    for n in range(count):
        pmid, (chemical, disease) = str(first_pmid + n), pairs[n % len(pairs)]
        title, abstract = "Case report.", f"{chemical} was followed by {disease} in one patient."
        text = f"{title} {abstract}"
        lines += [f"{pmid}|t|{title}", f"{pmid}|a|{abstract}"]
        for mention, kind, concept in ((chemical, "Chemical", f"C{n}"), (disease, "Disease", f"D{n}")):
            start = text.index(mention)
            lines.append("\t".join([pmid, str(start), str(start + len(mention)), mention, kind, concept]))
        lines += ["\t".join([pmid, "CID", f"C{n}", f"D{n}"]), ""]
    return "\n".join(lines) + "\n"


def test_recipe_fine_tunes_on_a_corpus_with_its_native_labels(tmp_path: Path) -> None:
    """``--benchmark NAME``: the same pipeline, the prompt and tags naming the corpus's own labels."""
    corpus = tmp_path / "bc5cdr"
    corpus.mkdir()
    (corpus / "CDR_TrainingSet.PubTator.txt").write_text(_pubtator(1000, 8), encoding="utf-8")
    (corpus / "CDR_TestSet.PubTator.txt").write_text(_pubtator(2000, 2), encoding="utf-8")
    output = tmp_path / "out"
    argv = [*TINY_RUN, "--benchmark", "bc5cdr", "--benchmark_data_dir", str(corpus), "--max_steps", "2",
            "--eval_strategy", "no", "--save_strategy", "no", "--evaluate_splits", "test", "--output_dir", str(output)]
    env = run_env(tmp_path, ODIN_BENCHMARKS_ALLOW_SUBSET="1")  # 8 abstracts, not the original 500
    proc = run([sys.executable, str(TRAIN), *argv], env)
    assert proc.returncode == 0, explain(proc)
    info = json.loads((output / "odin_training.json").read_text())
    assert (info["entity_types"], info["relation_types"]) == (["Chemical", "Disease"], ["CID"])
    assert info["train_examples"] == 16  # 8 abstracts + 1 renamed copy of each
    vocabulary = json.loads((output / "tokenizer.json").read_text())["added_tokens"]
    assert {"<B-Chemical>", "<t:CID>"} <= {token["content"] for token in vocabulary}
    report = json.loads((output / "report.json").read_text())
    assert report["dataset"] == "bc5cdr" and report["splits"]["test"]["documents"] == 2
    assert 0.0 <= report["splits"]["test"]["ner_strict_f1"] <= 1.0


def test_slm_trainer_rejects_a_missing_config(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="does not exist"):
        SLMTrainer(tmp_path / "missing.yaml")


# --------------------------------------------------------------------------- pretrained models: LoRA, Unsloth

#: A minimal chat template: the SFT records of a pretrained model are conversations.
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)
#: A short LoRA run of a GPU config on a local stand-in for a Hub model, scored on one note.
PRETRAINED_RUN = shlex.split(
    "--dataset_config 1k --num_train 4 --num_validation 2 --num_test 2 --num_test_unseen 2 --max_steps 2 "
    "--per_device_train_batch_size 2 --gradient_accumulation_steps 1 --eval_steps 2 --save_strategy no "
    "--generation_eval_samples 1 --evaluate_splits test --max_eval_samples 1 --max_new_tokens 8 "
    "--eval_batch_size 1 --logging_steps 1 --tag_lookahead 1 --disable_tqdm true"
)


def save_pretrained_folder(folder: Path, with_tokenizer: bool = True) -> Path:
    """A tiny Llama saved as a Hub model would be (config, weights, tokenizer with a chat template)."""
    texts = [doc.text for doc in MedicalTextGenerator(seed=2).generate_dataset(8)]
    tokenizer = train_tokenizer(texts, 300)  # no tag tokens: answers are generated freely, as by Hub models
    tokenizer.chat_template = CHAT_TEMPLATE
    spec = TinyModelSpec(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                         max_position_embeddings=4096, vocab_size=300)
    build_tiny_model(tokenizer, spec).save_pretrained(folder)
    if with_tokenizer:
        tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def pretrained(workdir: Path) -> Path:
    return save_pretrained_folder(workdir / "pretrained")


def run_with_unsloth_stub(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """recipes/train.py with the stand-in ``unsloth`` importable and a CUDA GPU reported (it runs on CPU)."""
    wrapper = (
        "import runpy, sys\n"
        "from odin_medical_ner_re.training import launch\n"
        "launch.cuda_available = lambda: True\n"
        f"sys.argv = [{str(TRAIN)!r}, *sys.argv[1:]]\n"
        f"runpy.run_path({str(TRAIN)!r}, run_name='__main__')\n"
    )
    env = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT), str(UNSLOTH_STUB), env.get("PYTHONPATH", "")])}
    return run([sys.executable, "-c", wrapper, *argv], env)


def stub_events(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


def test_unsloth_backend_follows_unsloths_documented_usage(pretrained: Path, tmp_path: Path) -> None:
    """Imported first, LoRA with the config seed, checkpointing set up once, for_inference before generating."""
    import torch

    log, output = tmp_path / "unsloth.jsonl", tmp_path / "out"
    config = ROOT / "recipes" / "configs" / "llama-3.2-1b-unsloth.yaml"
    argv = ["--config", str(config), "--model_name_or_path", str(pretrained), *PRETRAINED_RUN, "--load_in_4bit",
            "false", "--use_cpu", "true", "--bf16", "false", "--gradient_checkpointing", "true", "--seed", "7",
            "--output_dir", str(output)]
    proc = run_with_unsloth_stub(argv, run_env(tmp_path, UNSLOTH_STUB_LOG=str(log)))
    assert proc.returncode == 0, explain(proc)
    assert "backend: unsloth" in proc.stderr
    events = stub_events(log)
    # the eval at step 2 generates between for_inference and for_training; the final scoring after for_inference
    names = [e["event"] for e in events]
    assert names == ["import", "from_pretrained", "get_peft_model", "for_inference", "for_training", "for_inference"]
    assert events[0]["already_loaded"] == []  # before transformers, trl and peft
    loading, lora = events[1], events[2]
    assert (loading["model_name"], loading["max_seq_length"], loading["load_in_4bit"]) == (str(pretrained), 2048, False)
    assert lora["random_state"] == 7 and lora["r"] == 16 and lora["lora_dropout"] == 0.0
    assert lora["use_gradient_checkpointing"] == "unsloth"
    # ... and the Trainer's own checkpointing is off, so the layers are not wrapped twice
    saved_args = torch.load(output / "training_args.bin", weights_only=False)
    assert saved_args.activation_checkpointing is False and saved_args.gradient_checkpointing is False
    info = json.loads((output / "odin_training.json").read_text())
    assert info["backend"] == "unsloth" and info["gradient_checkpointing"] == "unsloth"
    assert (output / "adapter_config.json").is_file() and (output / "report.json").is_file()


def test_an_unsloth_loading_failure_is_one_line(pretrained: Path, tmp_path: Path) -> None:
    config = ROOT / "recipes" / "configs" / "llama-3.2-1b-unsloth.yaml"
    argv = ["--config", str(config), "--model_name_or_path", str(pretrained), "--use_cpu", "true",
            "--bf16", "false", "--output_dir", str(tmp_path / "out")]
    env = run_env(tmp_path, UNSLOTH_STUB_LOG=str(tmp_path / "log.jsonl"), UNSLOTH_STUB_FAIL="1")
    proc = run_with_unsloth_stub(argv, env)
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr + proc.stdout, explain(proc)
    (line,) = error_lines(proc)
    assert f"cannot load model {str(pretrained)!r}: RuntimeError: CUDA error: no kernel image" in line


def test_unsloth_config_offline_fails_with_the_download_line(tmp_path: Path) -> None:
    """The GPU config as written, Unsloth present, the Hub model not cached: one line saying what to fetch."""
    config = ROOT / "recipes" / "configs" / "llama-3.2-1b-unsloth.yaml"
    argv = ["--config", str(config), *SMALL_DATA, "--use_cpu", "true", "--bf16", "false",
            "--output_dir", str(tmp_path / "out")]
    proc = run_with_unsloth_stub(argv, run_env(tmp_path, UNSLOTH_STUB_LOG=str(tmp_path / "log.jsonl")))
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr + proc.stdout, explain(proc)
    (line,) = error_lines(proc)
    assert "hf download unsloth/Llama-3.2-1B-Instruct" in line and "HF_HUB_OFFLINE=1" in line


def test_lora_adapter_keeps_the_tag_lookahead_and_names_its_base(pretrained: Path, tmp_path: Path) -> None:
    """transformers + PEFT (TRL's get_peft_config): the adapter folder reads back as it was trained."""
    from odin_medical_ner_re.inference import load_model, model_lookahead

    output = tmp_path / "lora"
    config = ROOT / "recipes" / "configs" / "llama-3.2-1b-peft.yaml"
    argv = ["--config", str(config), "--model_name_or_path", str(pretrained), *PRETRAINED_RUN,
            "--output_dir", str(output)]
    proc = run([sys.executable, str(TRAIN), *argv], run_env(tmp_path))
    assert proc.returncode == 0, explain(proc)
    assert (output / "adapter_config.json").is_file() and not (output / "model.safetensors").exists()
    assert json.loads((output / "config.json").read_text())["odin_tag_lookahead"] == 1
    model, _ = load_model(output)
    assert model_lookahead(model) == 1  # the format's default is 0: the saved value was read back
    assert f"fine-tuned version of the local model `{pretrained}`" in (output / "README.md").read_text()
    state = json.loads((output / "trainer_state.json").read_text())
    (evaluation,) = [e for e in state["log_history"] if "eval_loss" in e]
    assert "eval_ner_strict_f1" in evaluation
    assert "test_ner_strict_f1" in json.loads((output / "all_results.json").read_text())


# --------------------------------------------------------------------------- a real tiny run


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("training")


@pytest.fixture(scope="module")
def tiny_run(workdir: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The documented tiny end-to-end run: 4 steps, checkpoints every 2, F1 logged at each eval."""
    output = workdir / "tiny"
    proc = run(
        [sys.executable, str(TRAIN), *TINY_RUN, "--max_steps", "4", "--output_dir", str(output)],
        run_env(workdir),
    )
    return output, proc


def test_tiny_end_to_end_run_writes_model_tokenizer_and_reports(
    tiny_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    output, proc = tiny_run
    assert proc.returncode == 0, explain(proc)
    assert "backend: transformers" in proc.stderr
    expected = (
        "config.json model.safetensors tokenizer.json tokenizer_config.json odin_training.json report.json"
    )
    for name in [*expected.split(), "checkpoint-2", "checkpoint-4"]:
        assert (output / name).exists(), name
    info = json.loads((output / "odin_training.json").read_text())
    assert info["backend"] == "transformers" and info["format"] == "forced-word tags"
    # 20 notes + the recipe's augmented variant of (nearly) each, then 1 renamed copy of every one
    assert 40 < info["train_examples"] <= 80 and info["train_examples"] % 2 == 0
    assert info["data"]["augment_factor"] == 1
    # the tag lookahead travels with the model, so predict() reads answers the way they were trained
    config = json.loads((output / "config.json").read_text())
    assert config["odin_tag_lookahead"] == info["data"]["tag_lookahead"]
    assert config["odin_tag_line_breaks"] is info["data"]["tag_line_breaks"] is True
    report = json.loads((output / "report.json").read_text())
    assert set(report["splits"]) == {"test", "test_unseen"}
    for split in report["splits"].values():
        assert split["documents"] == 4
        for key in FLAT_KEYS:
            assert 0.0 <= split[key] <= 1.0, key
        assert set(split["parse"]) >= {"unparsed_tags", "unaligned_mentions", "dangling_relations"}
    assert "strict micro-F1 -> test: NER" in proc.stdout
    # evaluation during training generates and logs F1 in the same entry as the loss
    state = json.loads((output / "trainer_state.json").read_text())  # Trainer.save_state, top level
    assert state["global_step"] == 4
    evaluations = [entry for entry in state["log_history"] if "eval_loss" in entry]
    assert [entry["step"] for entry in evaluations] == [2, 4]
    for entry in evaluations:
        assert {"eval_ner_strict_f1", "eval_re_strict_f1", "eval_ner_partial_f1"} <= set(entry), entry
    assert not [e for e in state["log_history"] if "eval_ner_strict_f1" in e and "eval_loss" not in e]
    # Trainer.save_metrics: the train metrics and each scored split, together in all_results.json
    results = json.loads((output / "all_results.json").read_text())
    assert results["train_loss"] > 0 and results["epoch"] > 0
    for split in ("test", "test_unseen"):
        assert results[f"{split}_ner_strict_f1"] == report["splits"][split]["ner_strict_f1"]
        assert json.loads((output / f"{split}_results.json").read_text())[f"{split}_re_strict_f1"] == (
            report["splits"][split]["re_strict_f1"]
        )
    # TRL's model card says what the model is, not "a fine-tuned version of [None]"
    card = (output / "README.md").read_text()
    assert "[None]" not in card and "trained from scratch" in card


def test_trained_folder_loads_and_predicts(
    tiny_run: tuple[Path, subprocess.CompletedProcess[str]], one_thread: None
) -> None:
    output, proc = tiny_run
    assert proc.returncode == 0, explain(proc)
    docs = MedicalTextGenerator(seed=5).generate_dataset(2)
    predictions = SLMTrainer(TINY_CONFIG).load(output).predict([d.to_dict() for d in docs], batch_size=2)
    assert [(p.id, p.text) for p in predictions] == [(d.id, d.text) for d in docs]
    for doc in predictions:
        assert validate(doc) == []


def test_evaluate_model_script_writes_a_report_per_split(
    tiny_run: tuple[Path, subprocess.CompletedProcess[str]], workdir: Path, tmp_path: Path
) -> None:
    output, proc = tiny_run
    assert proc.returncode == 0, explain(proc)
    report_path = tmp_path / "eval" / "report.json"
    splits = shlex.split(
        "--dataset_config 1k --evaluate_splits test test_unseen --max_eval_samples 3 --eval_batch_size 4"
    )
    command = [sys.executable, str(EVALUATE), "--model_path", str(output), *splits, "--report_path", str(report_path)]
    proc = run(command, run_env(workdir))
    assert proc.returncode == 0, explain(proc)
    report = json.loads(report_path.read_text())
    assert report["dataset"] == "1k" and set(report["splits"]) == {"test", "test_unseen"}
    for split in report["splits"].values():
        assert split["documents"] == 3
        assert 0.0 <= split["ner_strict_f1"] <= 1.0 and 0.0 <= split["re_strict_f1"] <= 1.0
    assert "=== test_unseen (3 documents) ===" in proc.stdout and "ner strict" in proc.stdout
    assert f"report written to {report_path}" in proc.stdout


def test_slm_trainer_trains_on_a_documents_file_and_predicts(tmp_path: Path, one_thread: None) -> None:
    """The seed's API: ``SLMTrainer(config).train(dataset_path)`` then ``predict(documents)``."""
    docs = MedicalTextGenerator(seed=8).generate_dataset(24)
    dataset = save_documents(docs[:20], tmp_path / "train.json")
    trainer = SLMTrainer(
        TINY_CONFIG,
        max_steps=2,
        output_dir=tmp_path / "slm",
        save_strategy="no",
        disable_tqdm=True,
        tiny_hidden_size=32,
        tiny_num_layers=1,
        tiny_num_heads=2,
        tiny_intermediate_size=64,
        tiny_vocab_size=400,
    )
    trainer.train(dataset)
    assert (tmp_path / "slm" / "model.safetensors").is_file()
    predictions = trainer.predict(docs[20:])
    assert [(p.id, p.text) for p in predictions] == [(d.id, d.text) for d in docs[20:]]
    for doc in predictions:
        for entity in doc.entities:
            assert doc.text[entity.start : entity.end] == entity.text


@pytest.mark.slow
def test_resume_from_checkpoint_continues_the_run(
    tiny_run: tuple[Path, subprocess.CompletedProcess[str]], workdir: Path, tmp_path: Path
) -> None:
    source, proc = tiny_run
    assert proc.returncode == 0, explain(proc)
    output = tmp_path / "tiny"
    shutil.copytree(source, output)
    # a marker in the checkpoint's state survives only if the second run really resumes from it
    state_file = output / "checkpoint-4" / "trainer_state.json"
    state = json.loads(state_file.read_text())
    state["log_history"].insert(0, {"step": 0, "resume_marker": 1.0})
    state_file.write_text(json.dumps(state))
    resume = ["--output_dir", str(output), "--resume_from_checkpoint", str(output / "checkpoint-4")]
    proc = run([sys.executable, str(TRAIN), *TINY_RUN, "--max_steps", "6", *resume], run_env(workdir))
    assert proc.returncode == 0, explain(proc)
    resumed = json.loads((output / "checkpoint-6" / "trainer_state.json").read_text())
    assert resumed["global_step"] == 6 and resumed["max_steps"] == 6
    assert any(entry.get("resume_marker") == 1.0 for entry in resumed["log_history"])
    assert [e["step"] for e in resumed["log_history"] if "eval_ner_strict_f1" in e] == [2, 4, 6]


@pytest.mark.slow
def test_two_process_cpu_launch_through_accelerate(workdir: Path, tmp_path: Path) -> None:
    """``accelerate launch --config_file recipes/accelerate/cpu-ddp.yaml``: two ranks, DDP over gloo."""
    output = tmp_path / "ddp"
    launch = [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch"]
    config = ["--config_file", "recipes/accelerate/cpu-ddp.yaml"]
    # augmentation off: the epoch arithmetic below counts the 40 examples of 20 notes and their renamed copies
    training = [str(TRAIN), *TINY_RUN, "--augment_factor", "0", "--max_steps", "2", "--output_dir", str(output)]
    proc = run([*launch, *config, *training], run_env(workdir))
    assert proc.returncode == 0, explain(proc)
    assert (output / "model.safetensors").is_file() and (output / "report.json").is_file()
    # each rank logs its backend line; and with 2 ranks the 40 examples at 16 per rank take 2 steps per epoch
    assert proc.stderr.count("backend: transformers") == 2, explain(proc)
    # each rank caps its threads to its share of the cores before torch starts
    assert proc.stderr.count("2 CPU processes on") == 2, explain(proc)
    state = json.loads((output / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["epoch"] == pytest.approx(1.0), "one process ran: 3 steps per epoch, not 2"
