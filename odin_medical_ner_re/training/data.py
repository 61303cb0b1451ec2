"""Training data: documents from a builder config, a file or a benchmark -> SFT examples.

``pseudo_name_rate`` replaces a share of training mentions by invented names. A model
that can only succeed by reading the context around a mention (``Start ___ for ___.``)
is what extracts names it never saw, which is what ``test_unseen`` measures.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserInputError
from ..formats import (
    LINE_BREAKS,
    LOOKAHEAD,
    build_prompt,
    document_chunks,
    separators,
    to_messages,
    to_prompt_completion,
)
from ..schema import ENTITY_TYPES, RELATION_TYPES, Document, Entity, load_documents

if TYPE_CHECKING:
    from .arguments import DataArguments

logger = logging.getLogger(__name__)


@dataclass
class TrainingData:
    """Documents per split plus the label set the prompt names (what a training run reads)."""

    splits: dict[str, list[Document]]
    entity_types: list[str]
    relation_types: list[str]

    def split(self, name: str) -> list[Document]:
        if name not in self.splits:
            raise UserInputError(f"split {name!r} not available; have: {', '.join(self.splits)}")
        return self.splits[name]


def data_source(args: DataArguments) -> tuple[str, str]:
    """(kind, value) of where the documents come from: ``builder``, ``documents`` or ``benchmark``.

    ``--dataset_name`` is TRL's flag and takes any of the three: ``odin_medical_ner_re`` or
    unset (the builder, config ``--dataset_config``), a builder config name, a documents
    file, or a benchmark name. ``--dataset_path`` and ``--benchmark`` are kept for older configs.
    """
    from ..builder import config_names
    from ..corpora import ALIASES, CORPORA
    from .arguments import BUILDER_NAMES

    given = [(flag, value) for flag, value in (
        ("dataset_name", args.dataset_name), ("dataset_path", args.dataset_path), ("benchmark", args.benchmark)
    ) if value]
    if len(given) > 1:
        raise UserInputError(f"give one data source, not {' and '.join(f'{f}={v!r}' for f, v in given)}")
    if args.dataset_path:
        return "documents", args.dataset_path
    if args.benchmark:
        return "benchmark", args.benchmark
    name = args.dataset_name
    if name is None or name in BUILDER_NAMES:
        return "builder", args.dataset_config or "1k"
    if name in config_names():
        return "builder", name
    if name.lower() in CORPORA or name.lower() in ALIASES:
        return "benchmark", name
    path = Path(name)
    if path.is_file():
        return "documents", name
    if path.is_dir():
        raise UserInputError(
            f"dataset_name {name}: a folder; give a .json/.jsonl documents file, a builder config "
            f"({', '.join(config_names())}) or a benchmark ({', '.join(CORPORA)})"
        )
    raise UserInputError(
        f"dataset_name {name!r} is not a file, a builder config ({', '.join(config_names())}) or a benchmark "
        f"({', '.join(CORPORA)}); Hub datasets are not downloaded by this recipe"
    )


def load_training_data(args: DataArguments) -> TrainingData:
    """Documents for every split named by ``args``, from whichever source it gives."""
    from ..builder import load_dataset, row_to_document

    kind, value = data_source(args)
    if kind == "documents":
        docs = load_documents(Path(value))
        return TrainingData({args.dataset_train_split: docs}, list(ENTITY_TYPES), list(RELATION_TYPES))
    if kind == "benchmark":
        from ..corpora import load_benchmark

        dataset = load_benchmark(value, data_dir=args.benchmark_data_dir, label_set="native")
    else:
        dataset = load_dataset(
            value, num_proc=args.build_num_proc, streaming=args.dataset_streaming, **args.overrides()
        )
    first = next(iter(dataset.values()))
    entity_types = list(first.features["entities"].feature["type"].names)
    relation_types = list(first.features["relations"].feature["type"].names)
    splits = {
        name: [row_to_document(row, entity_types, relation_types) for row in split]
        for name, split in dataset.items()
    }
    return TrainingData(splits, entity_types, relation_types)



# --------------------------------------------------------------------------- pseudo names

_ONSETS = (
    "b",
    "c",
    "d",
    "f",
    "g",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "br",
    "cl",
    "dr",
    "fl",
    "gr",
    "pr",
    "st",
    "tr",
    "th",
    "ch",
    "ph",
    "x",
    "qu",
)
_VOWELS = ("a", "e", "i", "o", "u", "y", "ai", "ea", "io", "ou")
_CODAS = ("", "", "n", "r", "l", "s", "x", "m", "t", "nd", "st")


def pseudo_name(rng: random.Random) -> str:
    """An invented, pronounceable name of 1-3 words (or an upper-case abbreviation)."""
    if rng.random() < 0.15:
        return "".join(rng.choice("ABCDEFGHIKLMNPRSTVXZ") for _ in range(rng.randint(2, 4)))
    words = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        syllables = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(1, 3)))
        words.append(syllables + rng.choice(_CODAS))
    return " ".join(words)


def with_pseudo_names(doc: Document, rng: random.Random, rate: float) -> Document:
    """``doc`` with a share ``rate`` of its mentions renamed; offsets rebuilt, relations kept."""
    pieces: list[str] = []
    entities: list[Entity] = []
    cursor = 0
    length = 0
    for entity in sorted(doc.entities, key=lambda e: e.start):
        before = doc.text[cursor : entity.start]
        pieces.append(before)
        length += len(before)
        surface = pseudo_name(rng) if rng.random() < rate else entity.text
        if entity.start == 0 or doc.text[entity.start - 2 : entity.start] in (". ", ": "):
            surface = surface[:1].upper() + surface[1:]
        entities.append(
            Entity(entity.id, surface, entity.type, length, length + len(surface), entity.negated)
        )
        pieces.append(surface)
        length += len(surface)
        cursor = entity.end
    pieces.append(doc.text[cursor:])
    return Document(doc.id, "".join(pieces), entities, list(doc.relations), dict(doc.metadata))


#: Most augmented variants per training note: the strategies draw from a finite set of
#: rewordings and substitutions, so more variants mostly repeat earlier ones (as ``augment --factor``).
MAX_AUGMENT_FACTOR = 100


def with_augmented_copies(documents: Sequence[Document], args: DataArguments, seed: int) -> list[Document]:
    """The documents followed by ``augment_factor`` valid augmented variants of each (none at 0).

    Real knowledge-base names and reworded context around them, where renamed copies invent
    names: both teach context over vocabulary. Held-out ``test_unseen`` forms stay out.
    """
    factor = args.augment_factor
    if not isinstance(factor, int) or factor < 0 or factor > MAX_AUGMENT_FACTOR:
        raise UserInputError(f"augment_factor must be an integer from 0 to {MAX_AUGMENT_FACTOR}, got {factor!r}")
    if factor == 0:
        return list(documents)
    from ..augment import augment_documents, parse_strategies, unseen_form_filter
    from ..knowledge import load_knowledge_base

    strategies = parse_strategies(args.augment_strategies)
    augmented, stats = augment_documents(
        documents, strategies, factor=factor, seed=seed, knowledge_base=load_knowledge_base(),
        keep_form=unseen_form_filter(documents),
    )
    logger.warning("augmentation (%s, factor %d): %s", ",".join(strategies), factor, stats.summary())
    return augmented


def with_renamed_copies(documents: Sequence[Document], args: DataArguments, seed: int) -> list[Document]:
    """The documents plus ``pseudo_name_copies`` renamed copies of each (see the module docstring)."""
    if args.pseudo_name_rate <= 0 or args.pseudo_name_copies <= 0:
        return list(documents)
    rng = random.Random(seed)
    copies = [with_pseudo_names(doc, rng, args.pseudo_name_rate) for _ in range(args.pseudo_name_copies) for doc in documents]
    return [*documents, *copies]


def sft_examples(
    documents: Sequence[Document],
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
    *,
    conversational: bool = False,
    lookahead: int = LOOKAHEAD,
    line_breaks: bool = LINE_BREAKS,
) -> list[dict[str, Any]]:
    """Prompt/completion records for models that write the whole answer (Hub models)."""
    make = to_messages if conversational else to_prompt_completion
    return [make(doc, entity_types, relation_types, lookahead=lookahead, line_breaks=line_breaks) for doc in documents]


def tokenized_tag_examples(
    documents: Sequence[Document],
    tokenizer: Any,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
    *,
    with_text: bool = False,
    lookahead: int = LOOKAHEAD,
    line_breaks: bool = LINE_BREAKS,
) -> list[dict[str, list[int]]]:
    """``input_ids`` + ``completion_mask`` built exactly as the forced-word decoder reads them.

    The loss falls on the tags the model chooses; the words (with the line breaks
    before them when ``line_breaks``) are inputs only.
    """
    records = []
    for doc in documents:
        prompt = build_prompt(doc.text, entity_types, relation_types, with_text=with_text, lookahead=lookahead)
        input_ids = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        mask = [0] * len(input_ids)
        before = separators(doc.text, line_breaks)
        for index, (word, tags) in enumerate(document_chunks(doc, lookahead)):
            if word:
                pieces = tokenizer(before[index] + word, add_special_tokens=False)["input_ids"]
                input_ids += pieces
                mask += [0] * len(pieces)
            input_ids += tokenizer.convert_tokens_to_ids(tags)
            mask += [1] * len(tags)
        records.append({"input_ids": input_ids, "completion_mask": mask})
    return records
