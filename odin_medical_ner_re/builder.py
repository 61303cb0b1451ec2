"""``datasets`` builder for the synthetic data: configs ``1k``, ``10k``, ``complex`` and ``literature``.

Each split is cut into shards passed through ``gen_kwargs`` so ``num_proc`` spreads
them over processes; every shard draws from its own ``random.Random`` seeded from
(config, split, seed, shard), which makes the output independent of ``num_proc``.
A share of surface forms (hashed from the seed) is held out of train/validation/test
and is the only vocabulary of ``test_unseen``.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import datasets
import pyarrow as pa

from .arrow_rows import RowEncoder
from .bigbio import bigbio_kb_features, bigbio_kb_record
from .errors import UserInputError
from .gcpause import gc_paused
from .generator import COMPLEXITY_PRESETS, MedicalTextGenerator, load_templates
from .knowledge import load_knowledge_base
from .literature.generator import LiteratureGenerator
from .schema import ENTITY_TYPES, RELATION_TYPES, Document, struct_rows
from .seeds import stable_int
from .shard_plan import split_shards
from .tokenize import tokens_and_tags

SPLITS: tuple[str, ...] = ("train", "validation", "test", "test_unseen")
#: Writing styles: clinical notes (the default) or PubMed-like abstracts (see ``literature/``).
STYLES: tuple[str, ...] = ("clinical", "literature")
#: Rows per Arrow table handed to ``datasets``: big enough to amortize the conversion, small
#: enough to keep memory flat (about 1 MB of complex notes).
TABLE_ROWS = 1_000
BIO_LABELS: tuple[str, ...] = ("O", *(f"{p}-{t}" for t in ENTITY_TYPES for p in ("B", "I")))

_DESCRIPTION = (
    "Synthetic clinical notes annotated with five entity types (Disease, Symptom, Drug, "
    "Procedure, Lab_Test) and four relations (treats, causes, indicates, prevents); every "
    "relation is a fact of a curated medical knowledge base and every offset is exact. The "
    "`literature` config writes PubMed-like abstracts and case reports under the same rules."
)


def features() -> datasets.Features:
    """The schema shared by the builder, the Hub export and the benchmark adapters."""
    return features_for(ENTITY_TYPES, RELATION_TYPES)


def features_for(
    entity_types: tuple[str, ...] | list[str], relation_types: tuple[str, ...] | list[str]
) -> datasets.Features:
    """Same columns with other label sets (real corpora keep their native labels)."""
    bio = ["O", *(f"{p}-{t}" for t in entity_types for p in ("B", "I"))]
    return datasets.Features(
        {
            "id": datasets.Value("string"),
            "text": datasets.Value("string"),
            "entities": datasets.List(
                {
                    "id": datasets.Value("string"),
                    "text": datasets.Value("string"),
                    "type": datasets.ClassLabel(names=list(entity_types)),
                    "start": datasets.Value("int32"),
                    "end": datasets.Value("int32"),
                    "negated": datasets.Value("bool"),
                }
            ),
            "relations": datasets.List(
                {
                    "id": datasets.Value("string"),
                    "type": datasets.ClassLabel(names=list(relation_types)),
                    "head": datasets.Value("string"),
                    "tail": datasets.Value("string"),
                }
            ),
            "tokens": datasets.List(datasets.Value("string")),
            "ner_tags": datasets.List(datasets.ClassLabel(names=bio)),
            "metadata": {
                "config": datasets.Value("string"),
                "split": datasets.Value("string"),
                "seed": datasets.Value("int64"),
                "shard": datasets.Value("int32"),
                "templates": datasets.List(datasets.Value("string")),
            },
        }
    )


@dataclass
class OdinNerReConfig(datasets.BuilderConfig):
    """Sizes, seed and note complexity; any field can be overridden as a config kwarg."""

    num_train: int = 1_000
    num_validation: int = 200
    num_test: int = 200
    num_test_unseen: int = 200
    seed: int = 42
    complexity: str = "simple"
    style: str = "clinical"
    unseen_share: float = 0.2
    shard_size: int = 2_000
    #: Shards per split (one parquet file each in the Hub export); None: ``shard_size`` rows each.
    num_shards: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for split in SPLITS:
            value = getattr(self, f"num_{split}")
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UserInputError(f"num_{split} must be a positive integer, got {value!r}")
        if self.shard_size < 1:
            raise UserInputError(f"shard_size must be positive, got {self.shard_size}")
        if self.num_shards is not None and (
            not isinstance(self.num_shards, int) or isinstance(self.num_shards, bool) or self.num_shards < 1
        ):
            raise UserInputError(f"num_shards must be a positive integer, got {self.num_shards!r}")
        if self.complexity not in COMPLEXITY_PRESETS:
            raise UserInputError(
                f"unknown complexity {self.complexity!r}; valid: {', '.join(COMPLEXITY_PRESETS)}"
            )
        if self.style not in STYLES:
            raise UserInputError(f"unknown style {self.style!r}; valid: {', '.join(STYLES)}")
        if not 0.0 < self.unseen_share < 1.0:
            raise UserInputError(f"unseen_share must be in (0, 1), got {self.unseen_share}")

    def size(self, split: str) -> int:
        return getattr(self, f"num_{split}")

    def shard_plan(self) -> dict[str, list[dict[str, Any]]]:
        """Every split's shards (see :mod:`.shard_plan`): the same for every engine and ``num_proc``."""
        return {
            split: split_shards(split, self.size(split), self.shard_size, self.num_shards) for split in SPLITS
        }


@functools.lru_cache(maxsize=1 << 16)
def is_held_out(surface_form: str, seed: int, share: float) -> bool:
    """Whether a surface form belongs to the ``test_unseen`` vocabulary (case-insensitive).

    Cached: both generators of a build (held-out and kept vocabulary) ask about every form.
    """
    return stable_int("unseen", seed, surface_form.casefold()) < share * 2**64


def surface_form_filter(split: str, seed: int, share: float) -> Callable[[str], bool]:
    if split == "test_unseen":
        return lambda form: is_held_out(form, seed, share)
    return lambda form: not is_held_out(form, seed, share)


def document_to_example(doc: Document, config: str, split: str, seed: int, shard: int) -> dict[str, Any]:
    tokens, tags = tokens_and_tags(doc.text, [(e.start, e.end, e.type) for e in doc.entities])
    return {
        "id": doc.id,
        "text": doc.text,
        "entities": [
            {"id": e.id, "text": e.text, "type": e.type, "start": e.start, "end": e.end, "negated": e.negated}
            for e in doc.entities
        ],
        "relations": [{"id": r.id, "type": r.type, "head": r.head, "tail": r.tail} for r in doc.relations],
        "tokens": tokens,
        "ner_tags": tags,
        "metadata": {
            "config": config,
            "split": split,
            "seed": seed,
            "shard": shard,
            "templates": doc.metadata.get("templates", []),
        },
    }


class OdinNerRe(datasets.ArrowBasedBuilder):
    """Synthetic medical NER/RE notes (see the dataset card for the method and limits)."""

    BUILDER_CONFIG_CLASS = OdinNerReConfig
    BUILDER_CONFIGS = [
        OdinNerReConfig(name="1k", description="1,000 short notes for training, 200 per evaluation split."),
        OdinNerReConfig(
            name="10k",
            description="10,000 short notes for training, 1,000 per evaluation split.",
            num_train=10_000,
            num_validation=1_000,
            num_test=1_000,
            num_test_unseen=1_000,
        ),
        OdinNerReConfig(
            name="complex",
            description="Long multi-section notes: more entities and relations, negation, "
            "abbreviations and cross-sentence relations.",
            num_train=10_000,
            num_validation=1_000,
            num_test=1_000,
            num_test_unseen=1_000,
            complexity="complex",
        ),
        OdinNerReConfig(
            name="literature",
            description="PubMed-like titles, abstracts and case reports (the register of BC5CDR, BioRED, "
            "NCBI disease and ADE): the same facts discipline, a broad vocabulary for mentions without "
            "relations, abbreviations defined in parentheses, '-induced' compounds.",
            num_train=10_000,
            num_validation=1_000,
            num_test=1_000,
            num_test_unseen=1_000,
            style="literature",
        ),
    ]
    DEFAULT_CONFIG_NAME = "1k"

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=_DESCRIPTION,
            features=features(),
            homepage="https://github.com/odin-medical-ner-re/odin-medical-ner-re",
            license="apache-2.0",
        )

    def _split_generators(self, dl_manager: Any) -> list[datasets.SplitGenerator]:
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"shards": shards})
            for split, shards in self.config.shard_plan().items()
        ]

    def _generate_tables(self, shards: list[dict[str, Any]]) -> Iterator[tuple[str, pa.Table]]:
        """Arrow tables of at most ``TABLE_ROWS`` rows, in shard order (see :mod:`.arrow_rows`)."""
        config = self.config
        encoder = RowEncoder(self.info.features)
        for shard in shards:
            split, index = shard["split"], shard["shard"]
            documents = self._shard_documents(shard)
            for batch in itertools.count():
                with gc_paused():
                    table = _next_table(documents, encoder, config.name, split, config.seed, index)
                if table is None:
                    break
                yield f"{split}-{index}-{batch}", table

    def _shard_documents(self, shard: dict[str, Any]) -> Iterator[Document]:
        """The notes of one shard, from its own random stream (independent of ``num_proc``)."""
        config = self.config
        split, index = shard["split"], shard["shard"]
        shard_seed = stable_int(config.name, split, config.seed, index)
        keep = surface_form_filter(split, config.seed, config.unseen_share)
        if config.style == "literature":
            writer = LiteratureGenerator(seed=shard_seed, surface_form_filter=keep)
            for offset in range(shard["count"]):
                yield writer.generate_document(f"{config.name}-{split}-{shard['start'] + offset:07d}")
            return
        key = _generator_key(config, split)
        generator = _GENERATORS.get(key)
        if generator is None:
            generator = MedicalTextGenerator(
                seed=shard_seed,
                complexity=config.complexity,
                surface_form_filter=keep,
            )
            if len(_GENERATORS) >= 8:
                _GENERATORS.clear()
            _GENERATORS[key] = generator
        else:
            generator.restart(shard_seed)
        for offset in range(shard["count"]):
            doc_id = f"{config.name}-{split}-{shard['start'] + offset:07d}"
            yield generator.generate_clinical_note(doc_id)

    def shard_table(self, shard: dict[str, Any]) -> pa.Table:
        """One shard's rows as one Arrow table, as :meth:`_generate_tables` yields them (distributed builds)."""
        config, encoder = self.config, RowEncoder(self.info.features)
        documents = self._shard_documents(shard)
        tables = []
        while True:
            with gc_paused():
                table = _next_table(
                    documents, encoder, config.name, shard["split"], config.seed, shard["shard"]
                )
            if table is None:
                break
            tables.append(table)
        return pa.concat_tables(tables) if tables else encoder.schema.empty_table()


def _next_table(
    documents: Iterator[Document], encoder: RowEncoder, config: str, split: str, seed: int, shard: int
) -> pa.Table | None:
    """The next ``TABLE_ROWS`` notes as a table (None when there are no more); the notes die here."""
    chunk = list(itertools.islice(documents, TABLE_ROWS))
    return encoder.table(chunk, config, split, seed, shard) if chunk else None


#: Generators of this process by :func:`_generator_key`: shards restart one instead of building
#: its indexes again (a fresh generator per shard cost a quarter of the ``10k`` build).
_GENERATORS: dict[tuple[Any, ...], MedicalTextGenerator] = {}


def _generator_key(config: OdinNerReConfig, split: str) -> tuple[Any, ...]:
    """Everything a shard's generator is built from, except its seed.

    Every config field is in the key (a field added later cannot be forgotten), with the side
    of the held-out vocabulary the split draws from and the knowledge base and templates in
    use (their objects are cached per folder and file state, so identity tells them apart).
    """
    fields = tuple((name, repr(getattr(config, name))) for name in config.__dataclass_fields__)
    kb, templates = load_knowledge_base(), load_templates()
    return fields, split == "test_unseen", id(kb), id(templates)


def config_names() -> list[str]:
    return [c.name for c in OdinNerRe.BUILDER_CONFIGS]


def make_builder(config_name: str = "1k", cache_dir: str | None = None, **overrides: Any) -> OdinNerRe:
    """The builder for ``config_name`` with size/seed/complexity overrides."""
    if config_name not in config_names():
        raise UserInputError(f"unknown config {config_name!r}; valid configs: {', '.join(config_names())}")
    unknown = set(overrides) - set(OdinNerReConfig.__dataclass_fields__)
    if unknown:
        valid = sorted(
            set(OdinNerReConfig.__dataclass_fields__)
            - {"name", "version", "data_dir", "data_files", "description"}
        )
        raise UserInputError(f"unknown option(s) {sorted(unknown)}; valid: {', '.join(valid)}")
    # Read here, in the caller's process: a missing or broken knowledge base is one clear error,
    # not a traceback re-raised by ``datasets`` from a generating worker (cached, so nearly free).
    load_knowledge_base()
    builder = OdinNerRe(config_name=config_name, cache_dir=cache_dir, hash=content_hash(), **overrides)
    # ``datasets`` applies overrides with setattr, after the dataclass checks ran: check again.
    builder.config.__post_init__()
    return builder


def content_hash() -> str:
    """Digest of everything that shapes the generated rows (code, templates, knowledge base).

    Passed as the builder's ``hash`` so the ``datasets`` cache never serves rows made by an
    older generator or knowledge base.
    """
    import os
    from pathlib import Path

    from . import __version__
    from .knowledge import DATA_DIR

    package = Path(__file__).resolve().parent
    knowledge_dir = Path(os.environ.get("ODIN_KNOWLEDGE_DIR") or DATA_DIR)
    shaping = ("builder.py", "arrow_rows.py", "tokenize.py", "schema.py", "seeds.py", "shard_plan.py")
    files = [package / name for name in shaping]
    files += sorted((package / "generator").glob("*.py"))
    files += sorted((package / "templates").glob("*.yaml")) + sorted(knowledge_dir.glob("*.yaml"))
    literature = package / "literature"
    files += [literature / "generator.py", literature / "templates.yaml", *sorted((literature / "data").glob("*"))]
    digest = hashlib.blake2b(__version__.encode(), digest_size=8)
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_dataset(
    config: str = "1k",
    *,
    split: str | None = None,
    streaming: bool = False,
    cache_dir: str | None = None,
    num_proc: int | None = None,
    **overrides: Any,
) -> datasets.DatasetDict | datasets.Dataset | datasets.IterableDatasetDict | datasets.IterableDataset:
    """Build (or reuse from cache) a config, as ``datasets.load_dataset("odin_medical_ner_re", config)`` would.

    ``datasets`` >= 4 no longer runs loading scripts, so the builder is used directly, with
    ``load_dataset``'s own arguments: ``split`` (``"train"``, ``"test[:10]"``; None: every
    split) and ``streaming`` (notes generated on the fly, nothing written to the cache).
    The default config is the builder's, ``1k``.
    """
    if split is not None and split.split("[", 1)[0] not in SPLITS:
        raise UserInputError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    builder = make_builder(config, cache_dir=cache_dir, **overrides)
    if streaming:
        return builder.as_streaming_dataset(split=split)
    builder.download_and_prepare(num_proc=num_proc)
    return builder.as_dataset(split=split)


def to_bigbio_kb(dataset: datasets.Dataset) -> datasets.Dataset:
    """The BigBIO ``bigbio_kb`` view of a split (passages, entities with offset lists, relations):
    each row's :func:`~.bigbio.bigbio_kb_record`, the same record the JSONL export writes."""
    entity_names = list(dataset.features["entities"].feature["type"].names)
    relation_names = list(dataset.features["relations"].feature["type"].names)

    def convert(row: dict[str, Any]) -> dict[str, Any]:
        return bigbio_kb_record(row_to_document(row, entity_names, relation_names))

    return dataset.map(convert, remove_columns=dataset.column_names, features=bigbio_kb_features())


def row_to_document(
    row: dict[str, Any], entity_names: list[str] | None = None, relation_names: list[str] | None = None
) -> Document:
    """A dataset row (ClassLabel ints or names) back to a :class:`Document`."""
    entity_names = entity_names or list(ENTITY_TYPES)
    relation_names = relation_names or list(RELATION_TYPES)

    def name(value: Any, names: list[str]) -> str:
        return names[value] if isinstance(value, int) else str(value)

    data = {
        "id": row["id"],
        "text": row["text"],
        "entities": [{**e, "type": name(e["type"], entity_names)} for e in struct_rows(row["entities"])],
        "relations": [{**r, "type": name(r["type"], relation_names)} for r in struct_rows(row["relations"])],
        "metadata": {k: v for k, v in (row.get("metadata") or {}).items() if k != "templates"},
    }
    return Document.from_dict(data)
