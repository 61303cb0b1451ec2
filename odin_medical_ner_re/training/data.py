"""Training data: documents from a builder config, a file or a benchmark -> SFT examples.

``pseudo_name_rate`` replaces a share of training mentions by invented names. A model
that can only succeed by reading the context around a mention (``Start ___ for ___.``)
is what extracts names it never saw, which is what ``test_unseen`` measures.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..formats import LOOKAHEAD, build_prompt, document_chunks, to_messages, to_prompt_completion
from ..schema import ENTITY_TYPES, RELATION_TYPES, Document, Entity, load_documents


@dataclass
class DataArguments:
    """Where the training and evaluation documents come from."""

    dataset_config: str = "1k"
    dataset_path: str | None = None
    benchmark: str | None = None
    benchmark_data_dir: str | None = None
    num_train: int | None = None
    num_validation: int | None = None
    num_test: int | None = None
    num_test_unseen: int | None = None
    dataset_seed: int | None = None
    build_num_proc: int | None = None
    train_split: str = "train"
    eval_split: str = "validation"
    pseudo_name_rate: float = 0.0
    pseudo_name_copies: int = 0
    generation_eval_samples: int = 32
    evaluate_splits: list[str] | None = None
    max_eval_samples: int | None = None
    max_new_tokens: int = 320
    eval_batch_size: int = 16
    tag_lookahead: int = LOOKAHEAD

    def overrides(self) -> dict[str, Any]:
        values = {
            "num_train": self.num_train,
            "num_validation": self.num_validation,
            "num_test": self.num_test,
            "num_test_unseen": self.num_test_unseen,
            "seed": self.dataset_seed,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class Corpus:
    """Documents per split plus the label set the prompt names."""

    splits: dict[str, list[Document]]
    entity_types: list[str]
    relation_types: list[str]

    def split(self, name: str) -> list[Document]:
        if name not in self.splits:
            raise UserInputError(f"split {name!r} not available; have: {', '.join(self.splits)}")
        return self.splits[name]


def load_corpus(args: DataArguments) -> Corpus:
    """Documents for every split named by ``args``, from whichever source it gives."""
    from ..builder import load_dataset, row_to_document

    if args.dataset_path:
        path = Path(args.dataset_path)
        docs = load_documents(path)
        return Corpus({args.train_split: docs}, list(ENTITY_TYPES), list(RELATION_TYPES))
    if args.benchmark:
        from ..benchmarks import load_benchmark

        dataset = load_benchmark(args.benchmark, data_dir=args.benchmark_data_dir, label_set="native")
    else:
        dataset = load_dataset(args.dataset_config, num_proc=args.build_num_proc, **args.overrides())
    first = next(iter(dataset.values()))
    entity_types = list(first.features["entities"].feature["type"].names)
    relation_types = list(first.features["relations"].feature["type"].names)
    splits = {
        name: [row_to_document(row, entity_types, relation_types) for row in split]
        for name, split in dataset.items()
    }
    return Corpus(splits, entity_types, relation_types)


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
) -> list[dict[str, Any]]:
    """Prompt/completion records for models that write the whole answer (Hub models)."""
    if conversational:
        return [to_messages(doc, entity_types, relation_types, lookahead=lookahead) for doc in documents]
    return [to_prompt_completion(doc, entity_types, relation_types, lookahead=lookahead) for doc in documents]


def tokenized_tag_examples(
    documents: Sequence[Document],
    tokenizer: Any,
    entity_types: Sequence[str] = ENTITY_TYPES,
    relation_types: Sequence[str] = RELATION_TYPES,
    *,
    with_text: bool = False,
    lookahead: int = LOOKAHEAD,
) -> list[dict[str, list[int]]]:
    """``input_ids`` + ``completion_mask`` built exactly as the forced-word decoder reads them.

    The loss falls on the tags the model chooses; the words are inputs only.
    """
    records = []
    for doc in documents:
        prompt = build_prompt(doc.text, entity_types, relation_types, with_text=with_text, lookahead=lookahead)
        input_ids = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        mask = [0] * len(input_ids)
        for index, (word, tags) in enumerate(document_chunks(doc, lookahead)):
            if word:
                pieces = tokenizer((" " if index else "") + word, add_special_tokens=False)["input_ids"]
                input_ids += pieces
                mask += [0] * len(pieces)
            input_ids += tokenizer.convert_tokens_to_ids(tags)
            mask += [1] * len(tags)
        records.append({"input_ids": input_ids, "completion_mask": mask})
    return records
