"""The scoring modes: one class each, owning its matching rule and its counts.

Modelled on nervaluate's ``strategies.py``, with one difference that keeps scoring fast: the
matching runs once for all modes (:mod:`.tally`: identical pairs, every overlap matching in
one sweep, the ``type`` bag), and a mode says which of those counts are its *correct*,
*incorrect* and *partial* matches, pooled over all types (``micro``) and for one type scored
on its own (``per_type``). Whatever a mode does not count is *missed* or *spurious*.

Defining a subclass registers it under its ``name`` (``class Strict(EntityMode, name="strict")``),
so adding a mode is one class; ``ENTITY_MODES`` and ``RELATION_MODES`` list the names in the
order the classes are defined, which is the order of every report.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar

from .text import normalize_text

if TYPE_CHECKING:
    from .reading import ScoredRelation
    from .tally import EntityTally

#: (correct, incorrect, partial) of one mode.
Counts = tuple[int, int, int]

ENTITY_MODE_TABLE: dict[str, EntityMode] = {}
RELATION_MODE_TABLE: dict[str, RelationMode] = {}


class EntityMode(ABC):
    """An entity mode: how the tally's matches count. Entities match only inside their document."""

    name: ClassVar[str]
    #: the matching the mode reads: ``"spans"`` (identical spans, then overlaps) or ``"bag"``
    #: (per document, a multiset of (type, normalized text)); the tally runs only those needed.
    matching: ClassVar[str] = "spans"

    def __init_subclass__(cls, *, name: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = name
        ENTITY_MODE_TABLE[name] = cls()

    @abstractmethod
    def micro(self, tally: EntityTally) -> Counts:
        """Counts over all types, cross-type overlaps included."""

    @abstractmethod
    def per_type(self, tally: EntityTally, kind: str) -> Counts:
        """Counts of one type scored on its own (gold and predictions filtered to it)."""


class Strict(EntityMode, name="strict"):
    """Same span (start, end) and same type. Otherwise an overlapping gold entity makes the
    prediction *incorrect*; no overlap makes it *spurious*."""

    def micro(self, tally: EntityTally) -> Counts:
        return tally.same_span_type.total(), tally.strict_overlap, 0

    def per_type(self, tally: EntityTally, kind: str) -> Counts:
        return tally.same_span_type[kind], tally.type_first[kind], 0


class Exact(EntityMode, name="exact"):
    """Same span, type ignored; an overlap that is not the same span is *incorrect*."""

    def micro(self, tally: EntityTally) -> Counts:
        return tally.same_span, tally.span_overlap, 0

    def per_type(self, tally: EntityTally, kind: str) -> Counts:
        return tally.same_span_type[kind], tally.type_first[kind], 0


class Partial(EntityMode, name="partial"):
    """Same span is *correct*, an overlap is *partial* and earns 0.5 credit; type ignored
    (nervaluate's definition)."""

    def micro(self, tally: EntityTally) -> Counts:
        return tally.same_span, 0, tally.span_overlap

    def per_type(self, tally: EntityTally, kind: str) -> Counts:
        return tally.same_span_type[kind], 0, tally.type_first[kind]


class EntType(EntityMode, name="ent_type"):
    """An overlapping span of the same type is *correct* (the gold entity with the closest
    boundaries wins, the first on ties); an overlap with another type is *incorrect*."""

    def micro(self, tally: EntityTally) -> Counts:
        return tally.same_span_type.total() + tally.ent_type_same, tally.ent_type_other, 0

    def per_type(self, tally: EntityTally, kind: str) -> Counts:
        return tally.same_span_type[kind] + tally.type_closest[kind], 0, 0


class TypeBag(EntityMode, name="type"):
    """Span-independent: each document is a bag (multiset) of (type, normalized text) pairs; a
    predicted pair is *correct* when an unused identical gold pair exists, *incorrect* when only
    the text matches an unused gold entity of another type. Entities without offsets count here."""

    matching = "bag"

    def micro(self, tally: EntityTally) -> Counts:
        return tally.bag.total(), tally.bag_other_type, 0

    def per_type(self, tally: EntityTally, kind: str) -> Counts:
        return tally.bag[kind], 0, 0


class RelationMode(ABC):
    """A relation mode: the key two relations must share to match. Relations are directed
    (swapping head and tail breaks a match); a relation whose key matches but for its type is
    *incorrect*. Keys start with (document, type), and match one-to-one as a multiset."""

    name: ClassVar[str]
    #: the key without its type (position 1): what an *incorrect* match shares.
    loose: ClassVar[Callable[[tuple], tuple]]

    def __init_subclass__(cls, *, name: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = name
        RELATION_MODE_TABLE[name] = cls()

    @abstractmethod
    def keys(self, relations: list[ScoredRelation]) -> list[tuple]:
        """``(doc, type, ...)`` keys of the relations this mode can match (others are left out)."""


class StrictRelation(RelationMode, name="strict"):
    """Same type, and both arguments with the same span and type. An argument without a span
    never matches."""

    loose = itemgetter(0, *range(2, 8))

    def keys(self, relations: list[ScoredRelation]) -> list[tuple]:
        return [
            (d, kind, head[1], head[2], head[3], tail[1], tail[2], tail[3])
            for d, kind, head, tail in relations
            if head[1] is not None and tail[1] is not None
        ]


class Boundaries(RelationMode, name="boundaries"):
    """Same type, and both arguments with the same span; argument types are ignored. An argument
    without a span never matches."""

    loose = itemgetter(0, *range(2, 6))

    def keys(self, relations: list[ScoredRelation]) -> list[tuple]:
        return [
            (d, kind, head[1], head[2], tail[1], tail[2])
            for d, kind, head, tail in relations
            if head[1] is not None and tail[1] is not None
        ]


class Relaxed(RelationMode, name="relaxed"):
    """Same type, and both arguments with the same normalized text (:func:`.normalize_text`);
    spans are ignored, so arguments without offsets match too."""

    loose = itemgetter(0, 2, 3)

    def keys(self, relations: list[ScoredRelation]) -> list[tuple]:
        norm = normalize_text
        return [(d, kind, norm(head[4]), norm(tail[4])) for d, kind, head, tail in relations]


ENTITY_MODES: tuple[str, ...] = tuple(ENTITY_MODE_TABLE)
RELATION_MODES: tuple[str, ...] = tuple(RELATION_MODE_TABLE)
