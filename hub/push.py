#!/usr/bin/env python
"""Publish the dataset or a trained model to the Hugging Face Hub, staging the exact folder first.

Commands::

    python hub/push.py dataset --configs 1k,10k,complex --repo-id USER/odin_medical_ner_re [--dry-run]
    python hub/push.py model outputs/tiny-cpu --repo-id USER/odin-ner-re-tiny [--dry-run]
    python hub/push.py upload hub-staging/odin_medical_ner_re --repo-id USER/odin_medical_ner_re --repo-type dataset

Every command first writes the folder that becomes the repository (``--output-dir``, default
``hub-staging/<repo name>``) and prints its tree; the upload then sends exactly that folder. So what a
dry run showed is what lands on the Hub, and a failed upload is retried from the folder with
``upload`` instead of rebuilding. The folder is written in a hidden sibling and renamed into place
when complete, so an upload never picks up a half-written one.

Without a token (``HF_TOKEN`` or the ``hf auth login`` cache) or with ``--dry-run`` nothing is sent.
The token is read once and never printed, logged or written: error texts are scrubbed of it, and
the staged files are checked for it before anything leaves the machine.

Exit codes: 0 staged (and uploaded when there is a token); 1 the Hub could not be reached or refused
the upload (one line on stderr; the staged folder is kept for a retry); 2 bad input or a local
file problem (one ``error:`` line, no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shlex
import shutil
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from huggingface_hub import EvalResult, HfApi, ModelCardData, get_token
from huggingface_hub.utils import validate_repo_id

from odin_medical_ner_re import ENTITY_TYPES, RELATION_TYPES, __version__
from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.files import file_tree, swap_into_place
from odin_medical_ner_re.quality import report_value

HUB_DIR = Path(__file__).resolve().parent
MODEL_CARD_TEMPLATE = HUB_DIR / "templates" / "model_card.md"
STAGING_ROOT = Path("hub-staging")
PROJECT_URL = "https://github.com/odin-medical-ner-re/odin-medical-ner-re"
DATASET_NAME = "odin_medical_ner_re"
SPLIT_SIZE_OPTIONS: tuple[str, ...] = ("num_train", "num_validation", "num_test", "num_test_unseen")

EXIT_OK, EXIT_HUB, EXIT_USAGE = 0, 1, 2

#: Hub tokens are ``hf_`` + ~34 letters/digits; anything that looks like one is masked in error
#: texts even when it is not the token we hold (a second token in an environment variable, say).
_TOKEN_LIKE = re.compile(r"hf_[A-Za-z0-9]{20,}")
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_SCAN_CHUNK = 1 << 20

# --------------------------------------------------------------------------- errors and token


class HubError(Exception):
    """The Hub could not be reached or refused a request: exit code 1, the staged folder is kept."""


def scrub(text: str, token: str | None) -> str:
    """``text`` without the token (or anything shaped like one): every error passes through here."""
    if token:
        text = text.replace(token, "***")
    return _TOKEN_LIKE.sub("hf_***", text)


def one_line(text: str, limit: int = 2000) -> str:
    """Errors are one line so scripts can log them and users see them whole."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def resolve_token() -> str | None:
    """``HF_TOKEN``, else the login cache (``huggingface_hub.get_token``); None means dry run."""
    try:
        return get_token() or None
    except Exception as err:  # e.g. a failed OIDC exchange; its text is not shown, it may hold secrets
        raise HubError(f"could not obtain a Hugging Face token ({type(err).__name__})") from None


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE``, read now: huggingface_hub reads it once at import."""
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE", "").strip().upper()
    return value in {"1", "ON", "YES", "TRUE"} or bool(constants.HF_HUB_OFFLINE)


def checked_repo_id(repo_id: str) -> str:
    """``OWNER/NAME``: checked before anything is built so a typo costs nothing."""
    try:
        validate_repo_id(repo_id)
    except Exception as err:
        raise UserInputError(f"--repo-id {repo_id!r} is not a valid Hub repository id: {err}") from None
    if repo_id.count("/") != 1:
        raise UserInputError(f"--repo-id must be OWNER/NAME (your user or organisation), got {repo_id!r}")
    return repo_id


def check_no_token(folder: Path, token: str | None) -> None:
    """Refuse to stage a file that holds the token (a config or log copied from elsewhere)."""
    if not token:
        return
    needle = token.encode("utf-8")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if _file_contains(path, needle):
            raise UserInputError(
                f"{path.relative_to(folder).as_posix()} holds your Hugging Face token; remove it from the "
                "source and run again (nothing was staged or sent)"
            )


def _file_contains(path: Path, needle: bytes) -> bool:
    """Chunked search with an overlap, so multi-GB weight files are scanned in bounded memory."""
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_SCAN_CHUNK):
            if needle in tail + chunk:
                return True
            tail = chunk[-(len(needle) - 1) :] if len(needle) > 1 else b""
    return False


# --------------------------------------------------------------------------- staging


def staging_dir(output_dir: str | None, repo_id: str) -> Path:
    """``--output-dir``, or ``hub-staging/<repo name>`` in the current folder."""
    return Path(os.path.abspath(output_dir or STAGING_ROOT / repo_id.split("/")[-1]))


def check_target(target: Path, replaceable: Callable[[Path], bool], overwrite: bool) -> None:
    """Replace ``target`` only if it is empty, an earlier staging of the same kind, or ``overwrite``."""
    if target.exists() and not target.is_dir():
        raise UserInputError(f"output {target} exists and is not a folder")
    cwd, home = Path.cwd(), Path.home()
    if target == Path(target.anchor) or target in (home, *home.parents) or target in (cwd, *cwd.parents):
        raise UserInputError(f"refusing to replace {target}: it is the root, your home or the current folder")
    if target.is_dir() and any(target.iterdir()) and not overwrite and not replaceable(target):
        found = ", ".join(sorted(p.name for p in target.iterdir())[:5])
        raise UserInputError(
            f"output folder {target} is not empty and is not an earlier staging (it holds {found}); "
            "choose another --output-dir or pass --overwrite to replace it and everything in it"
        )


@contextlib.contextmanager
def staged(target: Path, replaceable: Callable[[Path], bool], overwrite: bool) -> Iterator[Path]:
    """An empty hidden sibling of ``target``, renamed into place only when the body succeeds.

    A failed build leaves the previous staging (or nothing) behind, never a half-written folder
    that a later ``upload`` would send.
    """
    check_target(target, replaceable, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    partial.mkdir()
    try:
        yield partial
        swap_into_place(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


# --------------------------------------------------------------------------- upload


@dataclass
class UploadPlan:
    """Where and how a staged folder goes; also what a retry command must repeat."""

    folder: Path
    repo_id: str
    repo_type: str
    private: bool = False
    revision: str | None = None
    commit_message: str = "Upload with odin-medical-ner-re"

    @property
    def url(self) -> str:
        prefix = "datasets/" if self.repo_type == "dataset" else ""
        suffix = f"/tree/{self.revision}" if self.revision else ""
        return f"https://huggingface.co/{prefix}{self.repo_id}{suffix}"

    def retry_command(self) -> str:
        flags = " --private" if self.private else ""
        flags += f" --revision {shlex.quote(self.revision)}" if self.revision else ""
        return (
            f"python hub/push.py upload {shlex.quote(str(self.folder))} --repo-id {self.repo_id} "
            f"--repo-type {self.repo_type}{flags}"
        )


def publish(plan: UploadPlan, token: str | None, dry_run: bool, notes: Sequence[str] = ()) -> int:
    """Print the staged tree, then upload it unless this is a dry run (explicit or for lack of a token)."""
    print(file_tree(plan.folder))
    for note in notes:
        print(note)
    if dry_run or not token:
        why = "--dry-run" if dry_run else "no Hugging Face token: set HF_TOKEN or run `hf auth login`"
        print(f"dry run ({why}); nothing was sent. This folder is exactly what would go to {plan.url}")
        return EXIT_OK
    url = upload(plan, token)
    print(f"uploaded {plan.folder} to {url}")
    return EXIT_OK


def upload(plan: UploadPlan, token: str) -> str:
    """``create_repo`` + ``upload_folder``; the repository (at ``revision``) then mirrors the folder.

    ``delete_patterns="*"`` removes remote files that are not staged (``.gitattributes`` is kept by
    ``huggingface_hub``): stale parquet shards would otherwise be read by the README's glob
    patterns, and a stale full-model file would contradict an adapter.
    """
    keep = f"the staged folder is kept: retry with `{plan.retry_command()}`"
    if hub_offline():
        raise HubError(f"HF_HUB_OFFLINE is set, so nothing can be sent to the Hub; {keep}")
    api = HfApi(token=token)
    try:
        api.create_repo(plan.repo_id, repo_type=plan.repo_type, private=plan.private or None, exist_ok=True)
        if plan.private:  # an existing public repository must not receive what was meant to be private
            api.update_repo_settings(plan.repo_id, repo_type=plan.repo_type, private=True)
        if plan.revision and plan.revision != "main":
            api.create_branch(plan.repo_id, repo_type=plan.repo_type, branch=plan.revision, exist_ok=True)
        info = api.upload_folder(
            repo_id=plan.repo_id,
            repo_type=plan.repo_type,
            folder_path=plan.folder,
            revision=plan.revision,
            commit_message=plan.commit_message,
            delete_patterns="*",
        )
    except Exception as err:
        raise HubError(f"upload to {plan.repo_id} failed: {describe_hub_error(err)}; {keep}") from None
    return str(getattr(info, "commit_url", "") or plan.url)


def describe_hub_error(err: Exception) -> str:
    """Status and first line of a Hub error, with a hint where the cause is usually the token."""
    status = getattr(getattr(err, "response", None), "status_code", None)
    first = one_line((str(err).strip().splitlines() or [""])[0], limit=300)
    text = f"{type(err).__name__}: {first}" if first else type(err).__name__
    if status in (401, 403):
        text += " (check that the token is valid and has write access to this namespace)"
    return text


# --------------------------------------------------------------------------- dataset


def parse_configs(value: str) -> list[str]:
    """``1k,10k,complex`` (commas or spaces) -> checked, de-duplicated names."""
    from odin_medical_ner_re.builder import config_names

    names = list(dict.fromkeys(n for n in re.split(r"[,\s]+", value) if n))
    unknown = [n for n in names if n not in config_names()]
    if not names or unknown:
        shown = ", ".join(map(repr, unknown)) or "none"
        raise UserInputError(
            f"--configs: unknown or missing config(s) {shown}; valid: {', '.join(config_names())}"
        )
    return names


def size_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Only the options given, so config defaults stay in one place (the builder)."""
    names = (*SPLIT_SIZE_OPTIONS, "seed")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


#: Headline figures of ``odin-ner-re report``'s report.json for the card (paths into one report).
QUALITY_FIGURES: tuple[str, ...] = (
    "documents",
    "per_document.entities.mean",
    "per_document.relations.mean",
    "per_document.tokens.mean",
    "diversity.distinct_1",
    "diversity.distinct_2",
    "diversity.distinct_3",
    "diversity.compression_ratio",
    "diversity.self_bleu",
    "diversity.templates.distinct",
    "coverage.distinct_mentions",
    "coverage.kb_concepts_used_share",
    "consistency.kb_edge_share",
    "validity.offset_errors",
    "validity.schema_violations",
)


def load_quality(path: str) -> dict[str, Any]:
    """Headline figures from a quality report.json (the whole report is far too detailed for a card)."""
    payload = read_json(Path(path), "--quality-report")
    reports = payload.get("datasets")
    reports = reports if isinstance(reports, list) else [payload]
    per_report = {
        str(report.get("name") or f"dataset {index + 1}"): figures
        for index, report in enumerate(reports)
        if isinstance(report, dict) and (figures := quality_figures(report))
    }
    if not per_report:
        raise UserInputError(
            f"--quality-report {path}: no quality figures found; expected the report.json of `odin-ner-re report`"
        )
    return next(iter(per_report.values())) if len(per_report) == 1 else per_report


def quality_figures(report: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`QUALITY_FIGURES` of one report, led by the name of what it measured."""
    figures = {
        key: value for key in QUALITY_FIGURES if (value := report_value(report, key, scalar=True)) is not None
    }
    if figures and report.get("name"):
        figures = {"measured": str(report["name"]), **figures}
    for split, row in (report.get("leakage") or {}).items():
        for name in ("exact_text_overlap", "surface_overlap_share"):
            if isinstance(row, dict) and row.get(name) is not None:
                figures[f"leakage.{split}.{name}"] = row[name]
    return figures


def stage_dataset(args: argparse.Namespace, repo_id: str, token: str | None) -> Path:
    """Build the configs and write the Hub layout (parquet + card) into the staging folder."""
    from odin_medical_ner_re.hub_layout import (
        DEFAULT_MAX_ROWS_PER_SHARD,
        checked_builder,
        is_previous_export,
        write_layout,
    )

    configs = parse_configs(args.configs)
    quality = load_quality(args.quality_report) if args.quality_report else None
    rows = DEFAULT_MAX_ROWS_PER_SHARD if args.max_rows_per_shard is None else args.max_rows_per_shard
    for name, value in (("--max-rows-per-shard", rows), ("--num-proc", args.num_proc)):
        if value is not None and value < 1:
            raise UserInputError(f"{name} must be a positive integer, got {value}")
    builders = [checked_builder(n, cache_dir=args.cache_dir, **size_overrides(args)) for n in configs]
    target = staging_dir(args.output_dir, repo_id)
    with staged(target, is_previous_export, args.overwrite) as partial:
        built = {}
        for builder in builders:
            builder.download_and_prepare(num_proc=args.num_proc)
            built[builder.config.name] = (builder.config, builder.as_dataset())
        write_layout(partial, built, max_rows_per_shard=rows, quality=quality, repo_id=repo_id)
        check_no_token(partial, token)
    return target


def run_dataset(args: argparse.Namespace, token: str | None) -> int:
    repo_id = checked_repo_id(args.repo_id)
    folder = stage_dataset(args, repo_id, token)
    configs = ", ".join(parse_configs(args.configs))
    message = args.commit_message or f"Upload configs {configs} (odin-medical-ner-re {__version__})"
    plan = UploadPlan(folder, repo_id, "dataset", args.private, args.revision, message)
    return publish(plan, token, args.dry_run)


# --------------------------------------------------------------------------- model: reading


ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
MODEL_WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
#: Top-level files of a training output that are not uploaded, and why.
SKIPPED_FILES: dict[str, str] = {
    "README.md": "replaced by the generated model card",
    "training_args.bin": "pickled TrainingArguments, which can hold a hub_token; the card records the config",
}


@dataclass
class TrainedModel:
    """What a training output folder holds that the card and the staging need."""

    folder: Path
    files: list[Path]
    skipped: dict[str, str]
    config: dict[str, Any] | None = None
    adapter: dict[str, Any] | None = None
    training: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] | None = None

    @property
    def is_adapter(self) -> bool:
        return self.adapter is not None

    def data_args(self) -> dict[str, Any]:
        return dict(self.training.get("data") or {})

    def model_args(self) -> dict[str, Any]:
        return dict(self.training.get("model") or {})


def read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from ``path``; anything else is the user's file problem, reported in one line."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"{what}: {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserInputError(f"{what}: {path} is not readable JSON ({err})") from None
    if not isinstance(data, dict):
        raise UserInputError(f"{what}: {path} must hold a JSON object, not {type(data).__name__}")
    return data


def read_trained_model(folder: Path, allow_missing_eval: bool) -> TrainedModel:
    """Check a training output folder and read its JSON files; refuse what would make a broken repo."""
    if not folder.is_dir():
        raise UserInputError(f"model folder {folder} does not exist or is not a folder")
    files, skipped = select_files(folder)
    names = {p.name for p in files}
    model = TrainedModel(folder, files, skipped)
    if "adapter_config.json" in names:
        model.adapter = read_json(folder / "adapter_config.json", "adapter")
        weights = ADAPTER_WEIGHTS
    elif "config.json" in names:
        model.config = read_json(folder / "config.json", "model config")
        weights = MODEL_WEIGHTS
    else:
        raise UserInputError(
            f"{folder} holds no config.json or adapter_config.json: not a trained model folder"
        )
    if not names & set(weights):
        raise UserInputError(f"{folder} holds no weights (expected one of {', '.join(weights)})")
    if not names & set(TOKENIZER_FILES):
        raise UserInputError(f"{folder} holds no tokenizer (tokenizer.json / tokenizer_config.json)")
    if "odin_training.json" in names:
        model.training = read_json(folder / "odin_training.json", "training record")
    model.report = read_report(folder / "report.json", allow_missing_eval)
    return model


def select_files(folder: Path) -> tuple[list[Path], dict[str, str]]:
    """Top-level files to upload, and what is left out with the reason (checkpoints, logs, pickles)."""
    files, skipped = [], {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name.endswith(".tmp"):
            skipped[path.name] = "hidden or temporary"
        elif path.is_dir():
            skipped[path.name + "/"] = "a folder: training checkpoints and logs stay local"
        elif path.name in SKIPPED_FILES:
            skipped[path.name] = SKIPPED_FILES[path.name]
        elif path.is_file():
            files.append(path)
    return files, skipped


def read_report(path: Path, allow_missing_eval: bool) -> dict[str, Any] | None:
    """``report.json`` of the training recipe; its absence is refused unless the user opts out."""
    if not path.is_file():
        if allow_missing_eval:
            return None
        raise UserInputError(
            f"{path.parent} has no report.json (evaluation results); evaluate the model first "
            "(evaluate_splits in the training config) or pass --allow-missing-eval"
        )
    report = read_json(path, "evaluation report")
    splits = report.get("splits")
    if not isinstance(splits, dict) or not splits or not all(isinstance(v, dict) for v in splits.values()):
        raise UserInputError(f"{path}: expected {{'dataset': ..., 'splits': {{split: scores}}}}")
    return report


def split_scores(report: Mapping[str, Any]) -> dict[str, float]:
    """Flat scores of one split: the report's own flat keys, else derived from its nested ``ner``/``re``."""
    flat = {k: v for k, v in report.items() if _is_number(v)}
    if not any(k.startswith(("ner_", "re_")) for k in flat) and ("ner" in report or "re" in report):
        from odin_medical_ner_re.scoring import flatten

        flat = {**flatten(report), **flat}
    return flat


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def index_metric_keys(scores: Mapping[str, Any]) -> list[str]:
    """Micro F1 of every mode plus strict precision and recall, per task, in report order.

    Every flat key would put ~50 numbers per split in the Hub widget; these are the ones a reader
    compares, and the card's table and the uploaded report.json hold the rest.
    """
    keys = []
    for key in scores:
        task, _, rest = key.partition("_")
        mode, _, stat = rest.rpartition("_")
        if task not in ("ner", "re") or not mode or "macro" in mode.split("_"):
            continue
        if stat == "f1" or (mode == "strict" and stat in ("precision", "recall")):
            keys.append(key)
    return keys


def metric_label(key: str) -> str:
    """``ner_strict_f1`` -> ``NER strict micro F1``."""
    task, _, rest = key.partition("_")
    mode, _, stat = rest.rpartition("_")
    stat_name = {"f1": "F1", "precision": "precision", "recall": "recall"}.get(stat, stat)
    return f"{task.upper()} {mode.replace('_', ' ')} micro {stat_name}"


# --------------------------------------------------------------------------- model: card


def base_model_id(model: TrainedModel) -> str | None:
    """The base model when it is a Hub model id (not ``tiny``, not a local folder)."""
    candidates = [
        model.model_args().get("model_name_or_path"),
        (model.adapter or {}).get("base_model_name_or_path"),
    ]
    for name in candidates:
        if isinstance(name, str) and _HUB_ID.fullmatch(name) and not Path(name).expanduser().exists():
            return name
    return None


def local_base_model(model: TrainedModel) -> str | None:
    """An adapter's base model that others cannot download (a local path or nothing at all)."""
    if not model.is_adapter or base_model_id(model):
        return None
    return str((model.adapter or {}).get("base_model_name_or_path") or "(not recorded)")


@dataclass
class DatasetRef:
    """How the evaluation data is named in ``model-index`` and ``datasets:``."""

    type: str
    name: str
    config: str | None = None
    hub_id: str | None = None


def dataset_ref(model: TrainedModel, dataset_repo_id: str) -> DatasetRef:
    """The pushed synthetic dataset for builder configs; a benchmark or file name otherwise."""
    from odin_medical_ner_re.builder import config_names
    from odin_medical_ner_re.quality import BENCHMARK_NAMES

    data = model.data_args()
    name = str((model.report or {}).get("dataset") or data.get("benchmark") or data.get("dataset_path") or "")
    name = name or str(data.get("dataset_config") or "1k")
    if name in BENCHMARK_NAMES:
        return DatasetRef(type=name, name=f"{name} (real corpus)")
    if name not in config_names():  # a documents file (dataset_path) or another corpus
        return DatasetRef(type="json" if name == data.get("dataset_path") else name, name=Path(name).name)
    return DatasetRef(
        type=dataset_repo_id, name="Odin medical NER/RE (synthetic)", config=name, hub_id=dataset_repo_id
    )


def eval_results(model: TrainedModel, ref: DatasetRef) -> list[EvalResult]:
    """One ``model-index`` result per split, values copied unrounded from report.json."""
    results = []
    for split, report in (model.report or {}).get("splits", {}).items():
        scores = split_scores(report)
        for key in index_metric_keys(scores):
            results.append(
                EvalResult(
                    task_type="token-classification",
                    task_name="Medical named-entity recognition and relation extraction",
                    dataset_type=ref.type,
                    dataset_name=ref.name,
                    dataset_config=ref.config,
                    dataset_split=split,
                    metric_type=key,
                    metric_name=metric_label(key),
                    metric_value=scores[key],
                )
            )
    return results


def model_card_data(model: TrainedModel, repo_id: str, ref: DatasetRef, license_id: str) -> ModelCardData:
    """The YAML front matter the Hub reads: library, base model, tags, datasets and results."""
    tags = ["odin-medical-ner-re", "medical", "clinical", "ner", "relation-extraction", "trl", "sft"]
    if model.is_adapter:
        tags += ["peft", "lora"]
    return ModelCardData(
        model_name=repo_id.split("/")[-1],
        base_model=base_model_id(model),  # the Hub derives the base_model:* tags from it
        library_name="peft" if model.is_adapter else "transformers",
        pipeline_tag="text-generation",
        license=license_id,
        language=["en"],
        tags=tags,
        datasets=[ref.hub_id] if ref.hub_id else None,
        metrics=["f1", "precision", "recall"],
        eval_results=eval_results(model, ref) or None,
    )


def render_model_card(model: TrainedModel, repo_id: str, *, dataset_repo_id: str, license_id: str) -> str:
    """README.md of the model repository: YAML metadata, then the filled template."""
    ref = dataset_ref(model, dataset_repo_id)
    front = model_card_data(model, repo_id, ref, license_id).to_yaml()
    entity_types = list(model.training.get("entity_types") or ENTITY_TYPES)
    relation_types = list(model.training.get("relation_types") or RELATION_TYPES)
    values = {
        "title": repo_id.split("/")[-1],
        "summary": summary(model, ref, entity_types, relation_types),
        "repo_id": repo_id,
        "version": __version__,
        "project_url": PROJECT_URL,
        "install": 'pip install "odin-medical-ner-re @ git+' + PROJECT_URL + '"',
        "label_args": label_args(entity_types, relation_types),
        "model_table": model_table(model),
        "training_table": key_value_table(training_summary(model)),
        "data_table": key_value_table(model.data_args()),
        "evaluation": evaluation_section(model, ref),
        "limitations": limitations(model),
        "license_id": license_id,
    }
    body = Template(MODEL_CARD_TEMPLATE.read_text(encoding="utf-8")).substitute(values)
    return f"---\n{front}\n---\n\n{body}"


def summary(model: TrainedModel, ref: DatasetRef, entity_types: list[str], relation_types: list[str]) -> str:
    base = base_model_id(model)
    if model.is_adapter:
        kind = f"A LoRA adapter for `{base or local_base_model(model)}`"
    elif model.model_args().get("model_name_or_path", "tiny") == "tiny":
        kind = "A small Llama-architecture model trained from scratch (no base model)"
    else:
        kind = f"A fine-tune of `{base or model.model_args().get('model_name_or_path')}`"
    data = f"the `{ref.config}` configuration of `{ref.type}`" if ref.config else f"`{ref.name}`"
    return (
        f"{kind} that reads a clinical note and extracts entities ({', '.join(entity_types)}) and "
        f"relations ({', '.join(relation_types) or 'none'}). Trained with "
        f"[odin-medical-ner-re]({PROJECT_URL}) (TRL supervised fine-tuning) on {data}."
    )


def label_args(entity_types: list[str], relation_types: list[str]) -> str:
    """Extra ``predict`` arguments when the model was trained on another label set (a benchmark)."""
    if list(entity_types) == list(ENTITY_TYPES) and list(relation_types) == list(RELATION_TYPES):
        return ""
    return f",\n    entity_types={entity_types!r},\n    relation_types={relation_types!r},\n"


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value) or "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def key_value_table(values: Mapping[str, Any]) -> str:
    rows = [f"| `{key}` | {_cell(value)} |" for key, value in values.items() if value is not None]
    if not rows:
        return "Not recorded (the folder has no `odin_training.json`)."
    return "\n".join(["| setting | value |", "|---|---|", *rows])


def training_summary(model: TrainedModel) -> dict[str, Any]:
    """Backend, model arguments and run figures of ``odin_training.json`` in one table."""
    record = model.training
    keys = ("backend", "backend_reason", "train_examples", "train_seconds")
    return {**{k: record.get(k) for k in keys}, **model.model_args()} if record else {}


def model_table(model: TrainedModel) -> str:
    rows: dict[str, Any] = {"kind": "LoRA adapter (PEFT)" if model.is_adapter else "full model"}
    rows["base model"] = base_model_id(model) or local_base_model(model) or "none (trained from scratch)"
    if model.adapter:
        for key in ("r", "lora_alpha", "lora_dropout", "target_modules", "task_type"):
            rows[key] = model.adapter.get(key)
    if model.config:
        for key in ("architectures", "hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size"):
            rows[key] = model.config.get(key)
    return key_value_table(rows)


def evaluation_section(model: TrainedModel, ref: DatasetRef) -> str:
    if not model.report:
        return (
            "No evaluation report came with this model (it was pushed with `--allow-missing-eval`): "
            "its quality is unknown. Evaluate it on the test splits before use."
        )
    header = ["split", "documents", "task", "mode", "precision", "recall", "F1", "macro F1"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for split, report in model.report["splits"].items():
        scores = split_scores(report)
        for task, mode in _modes(scores):
            cells = [scores.get(f"{task}_{mode}_{s}") for s in ("precision", "recall", "f1", "macro_f1")]
            row = [f"`{split}`", _cell(report.get("documents", "-")), task.upper(), mode]
            lines.append("| " + " | ".join(row + [_score(c) for c in cells]) + " |")
    source = f"the `{ref.config}` configuration" if ref.config else f"`{ref.name}`"
    return (
        f"Scores on the splits of {source}, from the `report.json` written by the training recipe "
        "(uploaded with the model); micro-averaged over types except the last column. `strict` "
        "needs exact boundaries and type (for relations: both arguments strict and the relation "
        "type); the other modes relax boundaries or type as defined by the package's scoring "
        "protocol. `test_unseen` uses only entity names never seen in training.\n\n" + "\n".join(lines)
    )


def _modes(scores: Mapping[str, Any]) -> list[tuple[str, str]]:
    modes: dict[tuple[str, str], None] = {}
    for key in scores:
        task, _, rest = key.partition("_")
        if task in ("ner", "re") and rest.endswith("_f1") and "_macro_" not in f"_{rest}":
            modes[(task, rest[: -len("_f1")])] = None
    return list(modes)


def _score(value: Any) -> str:
    return f"{value:.4f}" if _is_number(value) else "-"


def limitations(model: TrainedModel) -> str:
    corpus = model.data_args().get("benchmark")
    items = [
        f"Trained on the `{corpus}` corpus: other corpora and real notes use other conventions; measure "
        "on your own data before relying on it."
        if corpus
        else "Trained on synthetic, template-written notes: expect lower scores on real clinical text, "
        "and measure on a real corpus (BioRED, BC5CDR, ADE, NCBI disease) before relying on it.",
        "Generative extraction: the model may miss entities, mislabel them or add spurious ones; "
        "`predict` keeps only what it can align to the input text.",
        f"Use the package version the model was trained with (pushed with {__version__}): the prompt "
        "and answer format belong to the package and may change between versions.",
        "**Not for clinical use.** Its output must not inform diagnosis or treatment.",
    ]
    if model.model_args().get("model_name_or_path", "tiny") == "tiny" and not model.is_adapter:
        items.insert(
            0, "A tiny model trained from scratch on CPU to show the recipe, not a strong extractor."
        )
    if local_base_model(model):
        items.insert(
            0,
            f"The base model of this adapter (`{local_base_model(model)}`) is not a Hub model: the adapter "
            "cannot be loaded without a local copy of it.",
        )
    if not model.report:
        items.insert(0, "No evaluation results were published with this model.")
    return "\n".join(f"- {item}" for item in items)


# --------------------------------------------------------------------------- model: staging


def is_previous_model_staging(folder: Path) -> bool:
    """A folder this command wrote: only files, a README and a model or adapter config."""
    entries = list(folder.iterdir())
    names = {p.name for p in entries}
    return (
        all(p.is_file() for p in entries)
        and "README.md" in names
        and bool(names & {"config.json", "adapter_config.json"})
    )


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link when possible: weights can be gigabytes and are never modified in the staging."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def stage_model(args: argparse.Namespace, repo_id: str, token: str | None) -> tuple[Path, TrainedModel]:
    source = Path(os.path.abspath(args.model_dir))
    model = read_trained_model(source, args.allow_missing_eval)
    target = staging_dir(args.output_dir, repo_id)
    if target == source or target in source.parents:
        raise UserInputError(f"--output-dir {target} would replace the model folder {source}; choose another")
    dataset_repo_id = args.dataset_repo_id or f"{repo_id.split('/')[0]}/{DATASET_NAME}"
    card = render_model_card(model, repo_id, dataset_repo_id=dataset_repo_id, license_id=args.license)
    with staged(target, is_previous_model_staging, args.overwrite) as partial:
        for path in model.files:
            link_or_copy(path, partial / path.name)
        (partial / "README.md").write_text(card, encoding="utf-8")
        check_no_token(partial, token)
    return target, model


def run_model(args: argparse.Namespace, token: str | None) -> int:
    repo_id = checked_repo_id(args.repo_id)
    folder, model = stage_model(args, repo_id, token)
    notes = [f"not uploaded: {name} ({why})" for name, why in model.skipped.items()]
    if local_base_model(model):
        notes.append(
            f"warning: the adapter's base model {local_base_model(model)!r} is not a Hub model id; "
            "others cannot load this adapter without it"
        )
    kind = "LoRA adapter" if model.is_adapter else "model"
    message = args.commit_message or f"Upload {kind} trained with odin-medical-ner-re {__version__}"
    plan = UploadPlan(folder, repo_id, "model", args.private, args.revision, message)
    return publish(plan, token, args.dry_run, notes)


# --------------------------------------------------------------------------- upload (retry)


def run_upload(args: argparse.Namespace, token: str | None) -> int:
    """Send an already staged folder (after a failed upload) without rebuilding it."""
    repo_id = checked_repo_id(args.repo_id)
    folder = Path(os.path.abspath(args.folder))
    if not (folder / "README.md").is_file():
        raise UserInputError(
            f"{folder} is not a staged folder (no README.md); run `dataset` or `model` first"
        )
    check_no_token(folder, token)
    message = args.commit_message or "Upload with odin-medical-ner-re"
    plan = UploadPlan(folder, repo_id, args.repo_type, args.private, args.revision, message)
    return publish(plan, token, args.dry_run)


# --------------------------------------------------------------------------- command line


def _common(parser: argparse.ArgumentParser, default_name: str) -> None:
    parser.add_argument(
        "--repo-id", required=True, metavar="OWNER/NAME", help=f"Hub repository, e.g. USER/{default_name}"
    )
    parser.add_argument("--dry-run", action="store_true", help="stage and print the folder; send nothing")
    parser.add_argument("--private", action="store_true", help="create (or switch) the repository to private")
    parser.add_argument("--revision", metavar="BRANCH", help="branch to commit to (created if missing)")
    parser.add_argument("--commit-message", metavar="TEXT", help="commit message of the upload")


def _staging_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-dir", metavar="DIR", help="staging folder (default: hub-staging/<repo name>)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --output-dir even if it holds other files (deleted)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hub/push.py",
        description="Stage the dataset or a trained model as a Hub repository folder, then upload it.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dataset = sub.add_parser("dataset", help="build configs and push the dataset (parquet + card)")
    _common(dataset, DATASET_NAME)
    _staging_options(dataset)
    dataset.add_argument("--configs", default="1k,10k,complex,literature", help="comma-separated configs (default: all)")
    dataset.add_argument(
        "--quality-report", metavar="PATH", help="report.json of `odin-ner-re report` for the card"
    )
    for option in SPLIT_SIZE_OPTIONS:
        dataset.add_argument(
            f"--{option.replace('_', '-')}", type=int, dest=option, metavar="N", help=f"override {option}"
        )
    dataset.add_argument("--seed", type=int, help="override the seed of every config")
    dataset.add_argument("--num-proc", type=int, help="processes that generate shards in parallel")
    dataset.add_argument("--cache-dir", help="datasets cache folder (default: the datasets default)")
    dataset.add_argument("--max-rows-per-shard", type=int, metavar="N", help="rows per parquet file")
    dataset.set_defaults(func=run_dataset)

    model = sub.add_parser(
        "model", help="push a trained output folder (full model or LoRA adapter) with a card"
    )
    model.add_argument("model_dir", metavar="OUTPUT_DIR", help="output_dir of recipes/train.py")
    _common(model, "odin-ner-re-tiny")
    _staging_options(model)
    model.add_argument("--allow-missing-eval", action="store_true", help="push even without report.json")
    model.add_argument(
        "--dataset-repo-id",
        metavar="OWNER/NAME",
        help=f"dataset the card links to (default: OWNER/{DATASET_NAME})",
    )
    model.add_argument(
        "--license", default="apache-2.0", help="license id for the card (default: apache-2.0)"
    )
    model.set_defaults(func=run_model)

    upload_cmd = sub.add_parser("upload", help="upload an already staged folder (retry after a failure)")
    upload_cmd.add_argument("folder", metavar="STAGED_DIR")
    _common(upload_cmd, DATASET_NAME)
    upload_cmd.add_argument("--repo-type", choices=("dataset", "model"), required=True)
    upload_cmd.set_defaults(func=run_upload)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every failure becomes one scrubbed line on stderr and an exit code."""
    args = build_parser().parse_args(argv)
    token: str | None = None
    try:
        token = resolve_token()
        return int(args.func(args, token))
    except UserInputError as err:
        return _fail(EXIT_USAGE, f"error: {err}", token)
    except HubError as err:
        return _fail(EXIT_HUB, f"error: {err}", token)
    except OSError as err:  # local I/O (disk full, permissions): the Hub's failures are HubError
        return _fail(EXIT_USAGE, f"error: {err}", token)
    except KeyboardInterrupt:
        return _fail(130, "error: interrupted", token)
    except Exception:  # a bug: keep the traceback for the report, without the token
        print(scrub(traceback.format_exc(), token), file=sys.stderr, end="")
        return EXIT_HUB


def _fail(code: int, message: str, token: str | None) -> int:
    print(one_line(scrub(message, token)), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
