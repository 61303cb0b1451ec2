"""The dataset card (``README.md``) of an exported dataset: statistics in, Markdown out.

The card is a template (``templates/dataset_card.md``, :class:`string.Template`
placeholders) filled from a plain ``stats`` dict, so the local Hub export
(:mod:`.hub_layout`) and the Hub push (``hub/push.py``) write the same card without
sharing any ``datasets`` object. ``stats`` is what
:func:`odin_medical_ner_re.hub_layout.collect_stats` returns:

.. code-block:: python

    {
        "version": "0.1.0", "year": 2025, "default_config": "10k",
        "knowledge_base": {"sources": [...], "files": [...], "counts": {"Disease": 361, ...}},
        "configs": {
            "10k": {
                "description": "...", "complexity": "simple", "seed": 42, "unseen_share": 0.2,
                "download_size": 1234,                       # bytes of parquet
                "splits": {"train": {"documents": 10000, "entities": ..., "relations": ...,
                                     "negated": ..., "mean_chars": ..., "num_bytes": ...,
                                     "entity_types": {"Disease": ...}, "relation_types": {...},
                                     "files": ["10k/train-00000-of-00001.parquet"]}, ...},
                "held_out": {"surface_forms": 3565, "held_out": 700, "share": 0.196,
                             "test_unseen_texts": 412, "test_unseen_texts_in_train": 0},
                "leakage": {"validation": 0, "test": 0, "test_unseen": 0},
            },
        },
    }

``quality`` (optional) is a flat or nested dict of figures from the quality report; it
becomes a "Quality" section so a pushed card can carry them without a template change.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from string import Template
from typing import Any

import datasets
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCardData

from .builder import SPLITS, features
from .files import human_bytes

TEMPLATE_PATH = Path(__file__).resolve().parent / "templates" / "dataset_card.md"
PRETTY_NAME = "Odin medical NER/RE: synthetic clinical notes"
SUMMARY = (
    "Synthetic clinical notes annotated for named-entity recognition (five types: Disease, Symptom, "
    "Drug, Procedure, Lab_Test) and relation extraction (four types: treats, causes, indicates, "
    "prevents). Every relation is a fact of a curated medical knowledge base, every offset is "
    "exact, and a `test_unseen` split written only with held-out surface forms measures "
    "generalization to unseen names. The `literature` config writes PubMed-like abstracts and case "
    "reports under the same discipline, for models that must work on the biomedical literature."
)
TAGS: tuple[str, ...] = ("medical", "clinical", "ner", "relation-extraction", "synthetic")
#: Hub size buckets, smallest first: (upper bound, label).
_SIZE_BUCKETS: tuple[tuple[float, str], ...] = (
    (1e3, "n<1K"),
    (1e4, "1K<n<10K"),
    (1e5, "10K<n<100K"),
    (1e6, "100K<n<1M"),
    (1e7, "1M<n<10M"),
    (1e8, "10M<n<100M"),
    (1e9, "100M<n<1B"),
    (float("inf"), "n>1B"),
)
_COLUMN_DOCS: dict[str, str] = {
    "id": "note id, `<config>-<split>-<index>`",
    "text": "the note",
    "entities": "mentions with half-open character offsets; `negated` marks negated findings",
    "relations": "directed relations between entity ids of the note",
    "tokens": "word tokens of `text` (see below)",
    "ner_tags": "IOB2 tag per token, consistent with `entities`",
    "metadata": "configuration, split, seed, generator shard and template ids",
}


def size_category(num_rows: int) -> str:
    """The Hub ``size_categories`` bucket of ``num_rows``."""
    return next(label for bound, label in _SIZE_BUCKETS if num_rows < bound)


def render_readme(
    stats: dict[str, Any], *, quality: dict[str, Any] | None = None, repo_id: str | None = None
) -> str:
    """The whole ``README.md``: YAML front matter that ``datasets`` reads, then the card."""
    front_matter = card_data(stats).to_yaml()
    card = render_dataset_card(stats, quality=quality, repo_id=repo_id)
    return f"---\n{front_matter}\n---\n\n{card}{shard_plan_section(stats['configs'])}"


def card_data(stats: dict[str, Any]) -> DatasetCardData:
    """Hub metadata: ``configs`` (data files per split) and ``dataset_info`` (features, sizes).

    ``dataset_info.features`` is what makes ``datasets.load_dataset(folder, name)`` restore
    the ``ClassLabel`` columns even for a reader that ignores the parquet schema metadata.
    """
    configs = stats["configs"]
    largest = max(sum(s["documents"] for s in c["splits"].values()) for c in configs.values())
    data = DatasetCardData(
        language=["en"],
        license="apache-2.0",
        pretty_name=PRETTY_NAME,
        size_categories=[size_category(largest)],
        task_categories=["token-classification", "text-generation"],
        task_ids=["named-entity-recognition"],
        tags=list(TAGS),
        annotations_creators=["machine-generated"],
        language_creators=["machine-generated"],
        multilinguality=["monolingual"],
        source_datasets=["original"],
    )
    DatasetInfosDict({name: _dataset_info(config) for name, config in configs.items()}).to_dataset_card_data(
        data
    )
    MetadataConfigs(
        {
            name: _metadata_config(name, config, name == stats["default_config"])
            for name, config in configs.items()
        }
    ).to_dataset_card_data(data)
    return data


def _dataset_info(config: dict[str, Any]) -> datasets.DatasetInfo:
    splits = datasets.SplitDict()
    for split, figures in _ordered_splits(config):
        splits.add(
            datasets.SplitInfo(name=split, num_bytes=figures["num_bytes"], num_examples=figures["documents"])
        )
    return datasets.DatasetInfo(
        features=features(),
        splits=splits,
        download_size=config["download_size"],
        dataset_size=sum(figures["num_bytes"] for _, figures in _ordered_splits(config)),
    )


def _metadata_config(name: str, config: dict[str, Any], default: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "data_files": [{"split": split, "path": f"{name}/{split}-*"} for split, _ in _ordered_splits(config)]
    }
    if default:
        entry["default"] = True
    return entry


def _ordered_splits(config: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    splits = config["splits"]
    return [(s, splits[s]) for s in SPLITS if s in splits] + [
        (s, v) for s, v in splits.items() if s not in SPLITS
    ]


def render_dataset_card(
    stats: dict[str, Any], *, quality: dict[str, Any] | None = None, repo_id: str | None = None
) -> str:
    """The Markdown body of the card (no front matter) from ``stats`` (see the module doc).

    ``repo_id`` is the Hub repository shown in the quick-start; without it the card says
    ``path/to/this/folder`` because a local export does not know where it will live.
    """
    values = {
        "pretty_name": PRETTY_NAME,
        "summary": SUMMARY,
        "load_path": repo_id or "path/to/this/folder",
        "default_config": stats["default_config"],
        "version": stats.get("version", ""),
        "year": stats.get("year", datetime.date.today().year),
        "schema_table": schema_table(),
        "label_sets": label_sets(),
        "sizes_table": sizes_table(stats["configs"]),
        "types_table": types_table(stats["configs"]),
        "kb_provenance": kb_provenance(stats.get("knowledge_base", {})),
        "held_out_table": held_out_table(stats["configs"]),
        "leakage_table": leakage_table(stats["configs"]),
        "quality_section": quality_section(quality),
    }
    return Template(TEMPLATE_PATH.read_text(encoding="utf-8")).substitute(values)


def shard_plan_section(configs: dict[str, Any]) -> str:
    """How the rows were cut into shards, for configs built with a shard plan (else nothing).

    Shard *i* of a split is data file *i* and draws from its own random stream, so this plan
    (with the config and seed) is what a rebuild on any engine must repeat to get the same rows.
    """
    planned = {name: config["shard_plan"] for name, config in configs.items() if config.get("shard_plan")}
    if not planned:
        return ""
    rows = [
        [name, split, len(counts), f"{min(counts):,}-{max(counts):,}" if counts else "-"]
        for name, plan in planned.items()
        for split, counts in plan["splits"].items()
    ]
    first = next(iter(planned.values()))
    return (
        "\n## Shard plan\n\n"
        f"Each split is cut into `num_shards` = {first['num_shards']} shards (fewer when a split has fewer rows), "
        "sizes differing by one at most, the larger first; data file *i* of a split is shard *i*, whose notes "
        f"draw from a random stream seeded with `{first['seeding']}`. Any engine that runs this plan "
        "(`odin-ner-re build --num-shards N`, locally or on Ray) writes the same files.\n\n"
        + _table(["config", "split", "shards", "rows per shard"], rows)
        + "\n"
    )


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _feature_type(feature: Any) -> str:
    """A short human reading of a ``datasets`` feature (the YAML holds the exact one)."""
    if isinstance(feature, datasets.ClassLabel):
        return "ClassLabel"
    if isinstance(feature, datasets.Value):
        return feature.dtype
    if isinstance(feature, (datasets.List, datasets.LargeList)):
        return f"list of {_feature_type(feature.feature)}"
    if isinstance(feature, dict):
        return "{" + ", ".join(f"{k}: {_feature_type(v)}" for k, v in feature.items()) + "}"
    return type(feature).__name__


def schema_table() -> str:
    rows = [
        [f"`{name}`", f"`{_feature_type(feature)}`", _COLUMN_DOCS.get(name, "")]
        for name, feature in features().items()
    ]
    return _table(["column", "type", "meaning"], rows)


def label_sets() -> str:
    feats = features()
    sets = {
        "`entities.type`": feats["entities"].feature["type"].names,
        "`relations.type`": feats["relations"].feature["type"].names,
        "`ner_tags`": feats["ner_tags"].feature.names,
    }
    return "\n".join(
        f"- {column}: " + ", ".join(f"{i} `{n}`" for i, n in enumerate(names))
        for column, names in sets.items()
    )


def sizes_table(configs: dict[str, Any]) -> str:
    header = [
        "config",
        "style",
        "seed",
        *SPLITS,
        "entities / note",
        "relations / note",
        "characters / note",
        "parquet size",
    ]
    rows = []
    for name, config in configs.items():
        splits = config["splits"]
        documents = sum(s["documents"] for s in splits.values())
        rows.append(
            [
                f"`{name}`",
                config.get("complexity", ""),
                config.get("seed", ""),
                *(f"{splits[s]['documents']:,}" if s in splits else "-" for s in SPLITS),
                f"{sum(s['entities'] for s in splits.values()) / documents:.1f}",
                f"{sum(s['relations'] for s in splits.values()) / documents:.1f}",
                f"{sum(s['mean_chars'] * s['documents'] for s in splits.values()) / documents:,.0f}",
                human_bytes(config.get("download_size", 0)),
            ]
        )
    notes = "\n".join(
        f"- `{name}`: {c['description']}" for name, c in configs.items() if c.get("description")
    )
    return _table(header, rows) + ("\n\n" + notes if notes else "")


def types_table(configs: dict[str, Any]) -> str:
    feats = features()
    entity_types = feats["entities"].feature["type"].names
    relation_types = feats["relations"].feature["type"].names
    header = ["config", "split", *entity_types, "negated", *relation_types]
    rows = [
        [
            f"`{name}`",
            split,
            *(f"{figures['entity_types'].get(t, 0):,}" for t in entity_types),
            f"{figures['negated']:,}",
            *(f"{figures['relation_types'].get(t, 0):,}" for t in relation_types),
        ]
        for name, config in configs.items()
        for split, figures in _ordered_splits(config)
    ]
    return _table(header, rows)


def kb_provenance(knowledge_base: dict[str, Any]) -> str:
    sources = knowledge_base.get("sources") or ["(not recorded)"]
    lines = [f"Source of the facts, as stated in the knowledge-base files: {'; '.join(sources)}."]
    if knowledge_base.get("files"):
        lines.append(f"Files: {', '.join(f'`{f}`' for f in knowledge_base['files'])}.")
    counts = knowledge_base.get("counts") or {}
    if counts:
        lines.append(
            "Contents: "
            + ", ".join(f"{value:,} {key.replace('_', ' ')}" for key, value in counts.items())
            + "."
        )
    lines.append(
        "Each edge is meant to be true as stated, without hedging; the files cite the kind of source."
    )
    return "\n".join(lines)


def held_out_table(configs: dict[str, Any]) -> str:
    header = [
        "config",
        "held-out share (target)",
        "surface forms held out",
        "distinct `test_unseen` entity texts",
        "of which also a `train` entity text (casefolded)",
    ]
    rows = []
    for name, config in configs.items():
        held = config.get("held_out")
        if not held:
            continue
        rows.append(
            [
                f"`{name}`",
                f"{held['share']:.1%} ({config.get('unseen_share', 0):.0%})",
                f"{held['held_out']:,} of {held['surface_forms']:,}",
                f"{held['test_unseen_texts']:,}",
                f"{held['test_unseen_texts_in_train']:,}",
            ]
        )
    return _table(header, rows)


def leakage_table(configs: dict[str, Any]) -> str:
    others = [s for s in SPLITS if s != "train"]
    rows = []
    for name, config in configs.items():
        leakage, splits = config.get("leakage", {}), config["splits"]
        cells = [
            f"{leakage[s]:,} of {splits[s]['documents']:,} ({leakage[s] / max(splits[s]['documents'], 1):.2%})"
            if s in leakage and s in splits
            else "-"
            for s in others
        ]
        rows.append([f"`{name}`", *cells])
    return _table(["config", *others], rows)


def quality_section(quality: dict[str, Any] | None) -> str:
    """A "Quality" section from the quality report's figures (empty when there are none)."""
    if not quality:
        return ""
    rows = [[f"`{key}`", _format_value(value)] for key, value in _flatten(quality)]
    return (
        "\n## Quality\n\nFigures from the dataset quality report:\n\n"
        + _table(["figure", "value"], rows)
        + "\n"
    )


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items += _flatten(value, f"{name}.")
        else:
            items.append((name, value))
    return items


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_format_value(v) for v in value)
    return str(value).replace("|", "\\|")
