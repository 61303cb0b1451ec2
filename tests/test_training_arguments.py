"""The recipes' arguments and launch decisions, in-process: TRL's classes and flags, clear errors, threads.

These tests parse and decide only (no training), so they run in a second; the recipes as a
user runs them are in ``test_training.py``.
"""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import pytest
import trl

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.schema import save_documents
from odin_medical_ner_re.training import launch
from odin_medical_ner_re.training.arguments import (
    DataArguments,
    EvaluationArguments,
    ModelArguments,
    evaluation_parser,
    parse_recipe_args,
    training_parser,
)
from odin_medical_ner_re.training.data import data_source

ROOT = Path(__file__).resolve().parents[1]
TINY_CONFIG = ROOT / "recipes" / "configs" / "tiny-cpu.yaml"
PEFT_CONFIG = ROOT / "recipes" / "configs" / "llama-3.2-1b-peft.yaml"


@pytest.fixture(autouse=True)
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch, "cuda_available", lambda: False)
    monkeypatch.delenv("ODIN_KEEP_BF16", raising=False)


def parse(argv: list[str]) -> tuple:
    from odin_medical_ner_re.training.slm import cpu_safe_argv

    return parse_recipe_args(training_parser(), cpu_safe_argv(argv))


# --------------------------------------------------------------------------- TRL's classes and flags


def test_arguments_are_trls_own_classes_with_help_on_every_field() -> None:
    assert issubclass(DataArguments, trl.ScriptArguments) and issubclass(ModelArguments, trl.ModelConfig)
    for dtype in (DataArguments, ModelArguments, EvaluationArguments):
        for field in dataclasses.fields(dtype):
            assert field.metadata.get("help"), f"{dtype.__name__}.{field.name} has no help text"
    usage = training_parser().format_help()
    for flag in ("--dataset_name", "--dtype", "--attn_implementation", "--dataset_train_split", "--tiny_vocab_size"):
        assert flag in usage


def test_trl_flags_are_accepted_and_mean_what_they_mean_in_trl() -> None:
    flags = shlex.split(
        "--dataset_name odin_medical_ner_re --dataset_config 10k --dataset_train_split train "
        "--dataset_test_split test --dtype bfloat16 --attn_implementation sdpa --lora_r 8 --use_rslora true"
    )
    data, training, model = parse(["--config", str(TINY_CONFIG), *flags])
    assert (data.dataset_name, data.dataset_config, data.dataset_train_split) == ("odin_medical_ner_re", "10k", "train")
    assert data.dataset_test_split == "test"
    assert (model.dtype, model.attn_implementation, model.lora_r, model.use_rslora) == ("bfloat16", "sdpa", 8, True)
    assert type(training) is trl.SFTConfig
    # the LoRA config is TRL's, built from ModelConfig's fields
    peft_model = parse(["--config", str(PEFT_CONFIG), "--lora_r", "4", "--lora_target_modules", "q_proj", "v_proj"])[2]
    lora = trl.get_peft_config(peft_model)
    assert lora.r == 4 and set(lora.target_modules) == {"q_proj", "v_proj"} and lora.lora_alpha == 32


def test_the_existing_configs_keep_their_meaning() -> None:
    """Old YAML files parse to the same values: data, LoRA defaults and the tiny model's shape."""
    data, training, model = parse(["--config", str(TINY_CONFIG)])
    assert (data.dataset_name, data.dataset_config, data.dataset_train_split) == (None, "1k", "train")
    assert data.dataset_test_split == "validation" and data.evaluate_splits == ["test", "test_unseen"]
    assert (training.max_steps, training.learning_rate, training.per_device_train_batch_size) == (600, 1e-3, 16)
    assert (model.model_name_or_path, model.tiny_hidden_size, model.max_seq_length) == ("tiny", 256, 1024)
    # chosen on validation over three seeds (RESULTS.md): line breaks marked, one augmented variant per note
    assert data.tag_line_breaks is True
    assert (data.augment_factor, data.augment_strategies) == (1, "paraphrase,substitute,reword")
    peft_model = parse(["--config", str(PEFT_CONFIG)])[2]
    assert peft_model.lora_dropout == 0.0 and peft_model.dtype is None
    assert peft_model.lora_target_modules == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [("[]", []), ("[test]", ["test"]), ('["test", "test_unseen"]', ["test", "test_unseen"])],
)
def test_list_overrides_parse_as_lists(given: str, expected: list[str]) -> None:
    data = parse(["--config", str(TINY_CONFIG), "--evaluate_splits", given])[0]
    assert data.evaluate_splits == expected


def test_list_overrides_also_take_space_separated_values() -> None:
    data = parse(["--config", str(TINY_CONFIG), "--evaluate_splits", "test", "validation"])[0]
    assert data.evaluate_splits == ["test", "validation"]


def test_dict_overrides_parse_as_trl_parses_them() -> None:
    training = parse(["--config", str(TINY_CONFIG), "--lr_scheduler_kwargs", '{"num_cycles": 2}'])[1]
    assert training.lr_scheduler_kwargs == {"num_cycles": 2}


def test_evaluation_parser_shares_the_flags_and_reads_the_training_config(tmp_path: Path) -> None:
    data, training, _, evaluation = parse_recipe_args(
        evaluation_parser(), ["--config", str(TINY_CONFIG), "--model", str(tmp_path), "--max_eval_samples", "3"]
    )
    assert evaluation.model_path == str(tmp_path) and training.output_dir == "outputs/tiny-cpu-1k"
    assert data.evaluate_splits == ["test", "test_unseen"] and data.max_eval_samples == 3 and data.eval_batch_size == 32


# --------------------------------------------------------------------------- where the data comes from


def test_dataset_name_maps_to_the_builder_a_file_or_a_benchmark(tmp_path: Path) -> None:
    documents = save_documents(MedicalTextGenerator(seed=1).generate_dataset(2), tmp_path / "notes.jsonl")
    assert data_source(DataArguments()) == ("builder", "1k")
    assert data_source(DataArguments(dataset_name="odin_medical_ner_re", dataset_config="complex")) == (
        "builder",
        "complex",
    )
    assert data_source(DataArguments(dataset_name="10k")) == ("builder", "10k")
    assert data_source(DataArguments(dataset_name=str(documents))) == ("documents", str(documents))
    assert data_source(DataArguments(dataset_name="bc5cdr")) == ("benchmark", "bc5cdr")
    assert data_source(DataArguments(dataset_path=str(documents))) == ("documents", str(documents))


def test_dataset_name_mistakes_are_named(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="'org/notes' is not a file, a builder config"):
        data_source(DataArguments(dataset_name="org/notes"))
    with pytest.raises(UserInputError, match="give one data source"):
        data_source(DataArguments(dataset_name="10k", benchmark="bc5cdr"))
    with pytest.raises(UserInputError, match="a folder"):
        data_source(DataArguments(dataset_name=str(tmp_path)))


# --------------------------------------------------------------------------- mistakes, in-process


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max_steps", "-5"], "max_steps must be -1 .* got -5"),
        (["--max_stepz", "5"], r"unknown flag --max_stepz \(did you mean --max_steps\?\)"),
        (["--max_steps", "many"], "--max_steps.*invalid int value: 'many'"),
        (["--dtype", "float8"], "--dtype.*invalid choice"),
        (["--backend", "deepspeed"], "--backend.*invalid choice"),
        (["--evaluate_splits", "[test"], "not a list"),
        (["stray"], "unexpected argument"),
    ],
)
def test_command_line_mistakes_name_the_flag(argv: list[str], message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        parse(["--config", str(TINY_CONFIG), *argv])


def test_config_file_mistakes_name_the_file_and_field(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match=r"config file .*missing\.yaml does not exist"):
        parse(["--config", str(tmp_path / "missing.yaml")])
    broken = tmp_path / "broken.yaml"
    broken.write_text("max_steps: 5\nlearning_rate: 1e-4: x\n")
    with pytest.raises(UserInputError, match=r"broken\.yaml, line 2: not valid YAML \(mapping values are not allowed here\)"):
        parse(["--config", str(broken)])
    listed = tmp_path / "list.yaml"
    listed.write_text("- max_steps: 5\n")
    with pytest.raises(UserInputError, match=r"list\.yaml must be a YAML mapping"):
        parse(["--config", str(listed)])
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("max_steps: 5\nlearning_rat: 1.0e-4\n")
    with pytest.raises(UserInputError, match=r"unknown\.yaml: unknown field 'learning_rat' \(did you mean 'learning_rate'\?\)"):
        parse(["--config", str(unknown)])
    with pytest.raises(UserInputError, match="--config needs a file path"):
        parse(["--config"])


# --------------------------------------------------------------------------- launch decisions


def test_the_tiny_model_always_uses_transformers() -> None:
    assert launch.choose_backend("auto", "tiny").name == "transformers"
    with pytest.raises(UserInputError, match="needs a pretrained model_name_or_path"):
        launch.choose_backend("unsloth", "tiny")


def test_prepare_reads_the_backend_from_the_config_and_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch, "unsloth_installed", lambda: False)
    assert launch.prepare(["--config", str(PEFT_CONFIG)]).name == "transformers"
    assert launch.prepare(["--config", str(TINY_CONFIG), "--model_name_or_path", "org/model"]).reason.startswith(
        "requested"
    )
    with pytest.raises(UserInputError, match="needs Unsloth"):
        launch.prepare(["--config", str(PEFT_CONFIG), "--backend=unsloth"])


@pytest.mark.parametrize(
    ("processes", "cores", "requested", "expected"),
    [(2, 2, None, 1), (2, 16, None, 8), (2, 16, "4", 4), (2, 2, "8", 1), (4, 2, None, 1), (2, 2, "x", 1)],
)
def test_threads_per_process_never_exceed_a_share_of_the_cores(
    processes: int, cores: int, requested: str | None, expected: int
) -> None:
    assert launch.threads_per_process(processes, cores, requested) == expected


def test_a_multi_process_cpu_launch_sets_omp_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    previous = torch.get_num_threads()
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("ACCELERATE_USE_CPU", "True")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(launch.os, "sched_getaffinity", lambda _: {0, 1, 2, 3}, raising=False)
    try:
        assert launch.set_cpu_threads() == 2
        assert launch.os.environ["OMP_NUM_THREADS"] == "2" and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    assert launch.set_cpu_threads() is None  # one process: its threads are the user's business


def test_evaluate_model_still_takes_its_earlier_flags() -> None:
    """Commands recorded in RESULTS.md keep working: same settings as the new flag names."""
    from odin_medical_ner_re.commands import evaluate_model as recipe

    old = recipe.parse(shlex.split("--model M --dataset_config 1k --split test --split test_unseen --max_samples 100 "
                                   "--batch_size 4 --output R.json"))
    new = recipe.parse(shlex.split("--model_path M --dataset_config 1k --evaluate_splits test test_unseen "
                                   "--max_eval_samples 100 --eval_batch_size 4 --report_path R.json"))
    assert old[0] == new[0] and old[3] == new[3]
    assert old[0].evaluate_splits == ["test", "test_unseen"] and old[3].model_path == "M"


# --------------------------------------------------------------------------- data and model loading


def test_dataset_streaming_reads_the_same_corpus(
    knowledge_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TRL's ``--dataset_streaming``: the notes are generated on the fly, the documents are the same."""
    from odin_medical_ner_re.training.data import load_training_data

    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    sizes = {"num_train": 3, "num_validation": 2, "num_test": 2, "num_test_unseen": 2}
    built = load_training_data(DataArguments(**sizes))
    streamed = load_training_data(DataArguments(dataset_streaming=True, **sizes))
    assert streamed.splits == built.splits and streamed.entity_types == built.entity_types
    assert [len(docs) for docs in streamed.splits.values()] == [3, 2, 2, 2]


def test_a_model_that_fails_to_load_is_one_error_naming_it(tmp_path: Path) -> None:
    """Not only a missing download: any failure inside from_pretrained is one line with the model's name."""
    from odin_medical_ner_re.training.backends import load_model_and_tokenizer
    from odin_medical_ner_re.training.tiny import TinyModelSpec, build_tiny_model, train_tokenizer

    folder = tmp_path / "broken-model"
    tokenizer = train_tokenizer(["a few words of text"], 280)
    spec = TinyModelSpec(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    build_tiny_model(tokenizer, spec).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")  # a truncated download, say
    with pytest.raises(UserInputError, match=rf"cannot load model '{folder}': \w+"):
        load_model_and_tokenizer(ModelArguments(model_name_or_path=str(folder)), "transformers")
    with pytest.raises(UserInputError, match=r"model folder \S*nowhere does not exist"):
        load_model_and_tokenizer(ModelArguments(model_name_or_path=str(tmp_path / "nowhere")), "transformers")


def test_the_training_seed_draws_the_tiny_models_weights() -> None:
    """``--seed`` must move the initial weights too, or runs over seeds only reorder the batches."""
    import torch

    from odin_medical_ner_re.training.backends import load_model_and_tokenizer

    args = ModelArguments(
        model_name_or_path="tiny", tiny_hidden_size=16, tiny_num_layers=1, tiny_num_heads=2,
        tiny_intermediate_size=32, tiny_vocab_size=300,
    )
    texts = ["fever and cough from pneumonia", "metformin for type 2 diabetes"]

    def weights(seed: int) -> torch.Tensor:
        model, _ = load_model_and_tokenizer(args, "transformers", texts, seed=seed)
        return model.model.layers[0].mlp.down_proj.weight

    assert torch.equal(weights(1), weights(1))
    assert not torch.equal(weights(1), weights(2))
