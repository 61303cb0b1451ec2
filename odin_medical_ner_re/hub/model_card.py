"""The model card (``README.md`` of a model repository): YAML metadata the Hub reads, then prose.

The counterpart of the dataset card (:mod:`odin_medical_ner_re.cards`), and like it a template
(``templates/model_card.md``, :class:`string.Template` placeholders) filled from plain data:
here a :class:`~.trained_model.TrainedModel`. The ``model-index`` numbers are copied unrounded
from the folder's ``report.json``, so the Hub widget and the card's table agree with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from huggingface_hub import EvalResult, ModelCardData

from .. import ENTITY_TYPES, RELATION_TYPES, __version__
from .trained_model import TrainedModel, _is_number, index_metric_keys, metric_label, split_scores

MODEL_CARD_TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "model_card.md"
PROJECT_URL = "https://github.com/odin-medical-ner-re/odin-medical-ner-re"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


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
    from ..builder import config_names
    from ..quality import BENCHMARK_NAMES

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
