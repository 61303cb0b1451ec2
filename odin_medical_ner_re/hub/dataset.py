"""``push dataset``: build the configs, stage the Hub layout (parquet + dataset card), publish it.

The layout and the card are :mod:`odin_medical_ner_re.hub_layout`'s and
:mod:`odin_medical_ner_re.cards`'s, the same as ``odin-ner-re build --hub-layout`` writes; this
module adds the checks of the push options and the headline figures of a quality report.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import UserInputError
from ..quality import report_value
from .staging import read_json, staged, staging_dir
from .tokens import check_no_token
from .upload import UploadPlan, checked_repo_id, publish

DATASET_NAME = "odin_medical_ner_re"
SPLIT_SIZE_OPTIONS: tuple[str, ...] = ("num_train", "num_validation", "num_test", "num_test_unseen")


def parse_configs(value: str) -> list[str]:
    """``1k,10k,complex`` (commas or spaces) -> checked, de-duplicated names."""
    from ..builder import config_names

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
    from ..hub_layout import (
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
    plan = UploadPlan(folder, repo_id, "dataset", args.private, args.revision, message, args.push_command)
    return publish(plan, token, args.dry_run)
