"""The public generator: one random stream, a knowledge index, a planner and a writer.

:class:`MedicalTextGenerator` keeps the API the seed project had (``generate_dataset``,
``generate_clinical_note``, ``save_dataset``/``load_dataset``) and adds streaming and
``restart`` for the builder. It owns the one :class:`random.Random` that its planner and
writer draw from, in the order a note is planned and then written, so a seed gives the
same notes in any process.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..gcpause import gc_paused
from ..knowledge import KnowledgeBase, load_knowledge_base
from ..schema import Document, load_documents, save_documents
from .index import KnowledgeIndex
from .options import COMPLEXITY_PRESETS, NoteOptions
from .planning import FactPlanner
from .templates import load_templates
from .writing import Note, NoteWriter


class MedicalTextGenerator:
    """Generate annotated clinical notes whose every relation is a knowledge-base fact.

    Args:
        seed: seed of the generator's own :class:`random.Random`.
        complexity: ``"simple"``, ``"complex"`` or a :class:`NoteOptions`.
        knowledge_base: defaults to the packaged knowledge base.
        surface_form_filter: keeps only surface forms for which it returns True (the
            builder uses it to hold names out of training for ``test_unseen``).
        id_prefix: prefix of generated document ids (``doc-000001``, ...).
        **overrides: any :class:`NoteOptions` field, e.g. ``abbreviation_rate=0.3``.
    """

    def __init__(
        self,
        seed: int = 42,
        complexity: str | NoteOptions = "simple",
        knowledge_base: KnowledgeBase | None = None,
        surface_form_filter: Callable[[str], bool] | None = None,
        id_prefix: str = "doc-",
        **overrides: Any,
    ) -> None:
        if isinstance(complexity, NoteOptions):
            options = complexity
        elif complexity in COMPLEXITY_PRESETS:
            options = COMPLEXITY_PRESETS[complexity]
        else:
            raise UserInputError(f"unknown complexity {complexity!r}; valid: {', '.join(COMPLEXITY_PRESETS)}")
        unknown = set(overrides) - set(NoteOptions.__dataclass_fields__)
        if unknown:
            raise UserInputError(
                f"unknown option(s) {sorted(unknown)}; valid: {sorted(NoteOptions.__dataclass_fields__)}"
            )
        self.options = replace(options, **overrides) if overrides else options
        self.seed = seed
        self.id_prefix = id_prefix
        self.rng = random.Random(seed)
        self.kb = knowledge_base or load_knowledge_base()
        self.templates = load_templates()
        self._count = 0
        index = KnowledgeIndex(self.kb, self.templates, self.options, surface_form_filter)
        self._planner = FactPlanner(self.rng, self.options, self.templates, index)
        self._writer = NoteWriter(self.rng, self.options, self.templates)

    def restart(self, seed: int) -> None:
        """Continue as a generator newly made with ``seed`` (and the same other arguments) would.

        Building the indexes costs tens of milliseconds, as much as writing a thousand notes;
        the builder starts a new random stream per shard and reuses them. Everything else a
        generator keeps is a cache computed from the knowledge base, the filter and the options,
        never from the random stream (``tests/test_generator.py`` checks the notes are identical).
        """
        self.seed = seed
        self.rng.seed(seed)
        self._count = 0

    def generate_clinical_note(self, doc_id: str | None = None) -> Document:
        """One annotated note; successive calls continue the same random stream."""
        self._count += 1
        plan, sex, words = self._planner.plan()
        note = Note(words, self.templates.by_sex[sex])
        self._writer.write(note, plan.sections)
        doc_id = doc_id or f"{self.id_prefix}{self._count:06d}"
        return note.finish(doc_id, {"seed": self.seed, "index": self._count, "templates": note.template_ids})

    def generate_dataset(self, num_samples: int, show_progress: bool = False) -> list[Document]:
        """``num_samples`` notes (seed-compatible API).

        The cyclic garbage collector is paused meanwhile: it would walk every document
        kept so far, again and again (a third of the run time for 10,000 notes), and
        generation creates no reference cycles for it to find.
        """
        with gc_paused(freeze_survivors=True):
            return list(self.iter_documents(num_samples, show_progress=show_progress))

    def iter_documents(self, num_samples: int, show_progress: bool = False) -> Iterator[Document]:
        """Notes one at a time, so a caller can stream millions without holding them all."""
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
            raise UserInputError(f"num_samples must be a positive integer, got {num_samples!r}")
        indices: Iterable[int] = range(num_samples)
        if show_progress:
            from tqdm.auto import tqdm

            indices = tqdm(indices, desc="generating notes", unit="doc")
        for _ in indices:
            yield self.generate_clinical_note()

    @staticmethod
    def save_dataset(
        documents: Iterable[Document], path: str | os.PathLike[str], fmt: str | None = None
    ) -> Path:
        """Write documents atomically as JSON (or JSONL by suffix / ``fmt``)."""
        return save_documents(documents, path, fmt)

    @staticmethod
    def load_dataset(path: str | os.PathLike[str]) -> list[Document]:
        """Read documents saved by :meth:`save_dataset` or in the seed's JSON shape."""
        return load_documents(path)
