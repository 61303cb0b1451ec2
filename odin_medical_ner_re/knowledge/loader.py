"""Load and check the knowledge-base YAML files (see ``FORMAT.md``).

All problems across all files are collected before raising, so a curator fixes a
file in one pass instead of one error per run.
"""

from __future__ import annotations

import functools
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserInputError
from ..reading import read_text
from ..schema import VALID_RELATION_ARGUMENTS

DATA_DIR = Path(__file__).resolve().parent / "data"

#: YAML list key -> entity type.
LIST_KEYS: dict[str, str] = {
    "diseases": "Disease",
    "symptoms": "Symptom",
    "drugs": "Drug",
    "procedures": "Procedure",
    "lab_tests": "Lab_Test",
}
EDGE_KEYS: tuple[str, ...] = ("treats", "causes", "indicates", "prevents")
LAB_QUALIFIERS: frozenset[str] = frozenset({"elevated", "decreased", "positive", "abnormal"})
_FORM_FIELDS: tuple[str, ...] = ("synonyms", "abbreviations", "brands")
_FORBIDDEN_CHARACTERS = set(",;()/[]{}\n\t")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader reads the base ~5x faster


class KnowledgeBaseError(UserInputError):
    """The knowledge-base files are inconsistent; the message lists every problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} knowledge-base problem(s):\n  {shown}{more}")


@dataclass
class Concept:
    """One medical concept and all the ways a note may write it."""

    name: str
    type: str
    synonyms: list[str] = field(default_factory=list)
    abbreviations: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    dose: str | None = None
    unit: str | None = None
    sources: list[str] = field(default_factory=list)

    @property
    def surface_forms(self) -> list[str]:
        """Name first, then synonyms, brands and abbreviations, without repeats."""
        forms = [self.name, *self.synonyms, *self.brands, *self.abbreviations]
        return list(dict.fromkeys(forms))


@dataclass(frozen=True)
class Edge:
    relation: str
    head: str
    tail: str
    qualifier: str | None = None
    source: str = ""


@dataclass
class KnowledgeBase:
    concepts: dict[str, Concept]
    edges: list[Edge]

    def __post_init__(self) -> None:
        self.by_type: dict[str, list[Concept]] = defaultdict(list)
        for concept in self.concepts.values():
            self.by_type[concept.type].append(concept)
        self.edge_set: set[tuple[str, str, str]] = {(e.relation, e.head, e.tail) for e in self.edges}
        self.edges_by_relation: dict[str, list[Edge]] = defaultdict(list)
        self.edges_from: dict[str, list[Edge]] = defaultdict(list)
        self.edges_to: dict[str, list[Edge]] = defaultdict(list)
        for edge in self.edges:
            self.edges_by_relation[edge.relation].append(edge)
            self.edges_from[edge.head].append(edge)
            self.edges_to[edge.tail].append(edge)
        self.surface_index: dict[str, Concept] = {
            form.casefold(): concept for concept in self.concepts.values() for form in concept.surface_forms
        }

    def is_edge(self, relation: str, head: str, tail: str) -> bool:
        """Whether ``relation(head, tail)`` is a known fact; heads/tails are names or surface forms."""
        head_concept = self.lookup(head)
        tail_concept = self.lookup(tail)
        if head_concept is None or tail_concept is None:
            return False
        return (relation, head_concept.name, tail_concept.name) in self.edge_set

    def lookup(self, surface_form: str) -> Concept | None:
        return self.surface_index.get(surface_form.casefold())

    def counts(self) -> dict[str, int]:
        out = {entity_type: len(items) for entity_type, items in sorted(self.by_type.items())}
        out["surface_forms"] = len(self.surface_index)
        for relation, edges in sorted(self.edges_by_relation.items()):
            out[f"edges.{relation}"] = len(edges)
        out["edges"] = len(self.edges)
        return out


def _string_list(value: Any, where: str, problems: list[str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: expected a list of non-empty strings, got {value!r}")
        return []
    return [v.strip() for v in value]


def _check_form(form: str, where: str, problems: list[str]) -> None:
    bad = sorted(set(form) & _FORBIDDEN_CHARACTERS)
    if bad:
        problems.append(f"{where}: surface form {form!r} contains {''.join(bad)!r}")


def _read_file(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        data = yaml.load(read_text(path), Loader=_YAML_LOADER)
    except UserInputError as err:  # not UTF-8, unreadable: file, line and byte are in the message
        problems.append(str(err))
        return {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problems.append(f"{path.name}:{line} invalid YAML: {getattr(err, 'problem', err)}")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path.name}: top level must be a mapping")
        return {}
    if not isinstance(data.get("source"), str):
        problems.append(f"{path.name}: missing 'source' (where the facts come from)")
    unknown = set(data) - set(LIST_KEYS) - set(EDGE_KEYS) - {"source", "domain"}
    if unknown:
        problems.append(f"{path.name}: unknown keys {sorted(unknown)}")
    return data


def _merge_concepts(files: dict[str, dict[str, Any]], problems: list[str]) -> dict[str, Concept]:
    concepts: dict[str, Concept] = {}
    for file_name, data in files.items():
        for key, entity_type in LIST_KEYS.items():
            items = data.get(key) or []
            if not isinstance(items, list):
                problems.append(f"{file_name}: '{key}' must be a list")
                continue
            for index, raw in enumerate(items):
                where = f"{file_name}: {key}[{index}]"
                if (
                    not isinstance(raw, dict)
                    or not isinstance(raw.get("name"), str)
                    or not raw["name"].strip()
                ):
                    problems.append(f"{where}: each item needs a 'name'")
                    continue
                name = raw["name"].strip()
                where = f"{file_name}: {key}[{index}] {name!r}"
                unknown = set(raw) - {"name", "dose", "unit", *_FORM_FIELDS}
                if unknown:
                    problems.append(f"{where}: unknown fields {sorted(unknown)}")
                forms = {f: _string_list(raw.get(f), f"{where}.{f}", problems) for f in _FORM_FIELDS}
                for form in [name, *(x for v in forms.values() for x in v)]:
                    _check_form(form, where, problems)
                existing = concepts.get(name)
                if existing is None:
                    concepts[name] = Concept(
                        name=name,
                        type=entity_type,
                        dose=raw.get("dose"),
                        unit=raw.get("unit"),
                        sources=[file_name],
                        **forms,
                    )
                    continue
                if existing.type != entity_type:
                    problems.append(f"{where}: already defined as {existing.type} in {existing.sources[0]}")
                    continue
                if file_name in existing.sources:
                    problems.append(f"{where}: duplicate definition in the same file")
                    continue
                existing.sources.append(file_name)
                for f, values in forms.items():
                    setattr(existing, f, list(dict.fromkeys([*getattr(existing, f), *values])))
                existing.dose = existing.dose or raw.get("dose")
                existing.unit = existing.unit or raw.get("unit")
    return concepts


def _check_surface_forms(concepts: dict[str, Concept], problems: list[str]) -> None:
    owners: dict[str, list[Concept]] = defaultdict(list)
    for concept in concepts.values():
        for form in concept.surface_forms:
            owners[form.casefold()].append(concept)
    for form, owner_list in sorted(owners.items()):
        if len(owner_list) > 1:
            described = ", ".join(f"{c.type} {c.name!r} ({'/'.join(c.sources)})" for c in owner_list)
            problems.append(f"surface form {form!r} belongs to several concepts: {described}")


def _read_edges(
    files: dict[str, dict[str, Any]], concepts: dict[str, Concept], problems: list[str]
) -> list[Edge]:
    valid = set(VALID_RELATION_ARGUMENTS)
    edges: list[Edge] = []
    seen: dict[tuple[str, str, str], str] = {}
    for file_name, data in files.items():
        for relation in EDGE_KEYS:
            items = data.get(relation) or []
            if not isinstance(items, list):
                problems.append(f"{file_name}: '{relation}' must be a list")
                continue
            for index, raw in enumerate(items):
                where = f"{file_name}: {relation}[{index}] {raw!r}"
                if (
                    not isinstance(raw, list)
                    or len(raw) not in (2, 3)
                    or not all(isinstance(x, str) for x in raw)
                ):
                    problems.append(f"{where}: expected [head, tail] or [head, tail, qualifier]")
                    continue
                head_name, tail_name = raw[0].strip(), raw[1].strip()
                qualifier = raw[2].strip() if len(raw) == 3 else None
                head, tail = concepts.get(head_name), concepts.get(tail_name)
                for role, name, concept in (("head", head_name, head), ("tail", tail_name, tail)):
                    if concept is None:
                        problems.append(f"{where}: unknown {role} {name!r} (edges use canonical names)")
                if head is None or tail is None:
                    continue
                if (relation, head.type, tail.type) not in valid:
                    problems.append(f"{where}: {relation} cannot link {head.type} -> {tail.type}")
                    continue
                if head.type == "Lab_Test" and qualifier not in LAB_QUALIFIERS:
                    problems.append(f"{where}: a lab-test edge needs a qualifier in {sorted(LAB_QUALIFIERS)}")
                    continue
                if head.type != "Lab_Test" and qualifier is not None:
                    problems.append(f"{where}: only lab-test edges carry a qualifier")
                    continue
                key = (relation, head_name, tail_name)
                if key in seen:
                    if seen[key] == file_name:
                        problems.append(f"{where}: duplicate edge")
                    continue  # the same fact stated by two domains is merged
                seen[key] = file_name
                edges.append(Edge(relation, head_name, tail_name, qualifier, file_name))
    return edges


def _parse(paths: Iterable[Path]) -> tuple[KnowledgeBase, list[str]]:
    problems: list[str] = []
    files = {path.name: _read_file(path, problems) for path in sorted(paths)}
    concepts = _merge_concepts(files, problems)
    _check_surface_forms(concepts, problems)
    edges = _read_edges(files, concepts, problems)
    return KnowledgeBase(concepts=concepts, edges=edges), problems


def load_knowledge_base(
    data_dir: str | Path | None = None, only: Iterable[str] | None = None
) -> KnowledgeBase:
    """Load, merge and check the knowledge base; raise :class:`KnowledgeBaseError` on any problem.

    ``data_dir`` defaults to ``$ODIN_KNOWLEDGE_DIR``, else the packaged files (cached).
    ``only`` restricts loading to the named domain files (without ``.yaml``), which
    lets a curator check one file in isolation.
    """
    if data_dir is None and os.environ.get("ODIN_KNOWLEDGE_DIR"):
        data_dir = os.environ["ODIN_KNOWLEDGE_DIR"]
    directory = Path(data_dir) if data_dir is not None else DATA_DIR
    if not directory.is_dir():
        raise UserInputError(f"knowledge-base folder {directory} does not exist")
    paths = sorted(directory.glob("*.yaml"))
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    return _cached_load(str(directory.resolve()), tuple(only) if only is not None else None, stamp)


@functools.lru_cache(maxsize=8)
def _cached_load(directory: str, only: tuple[str, ...] | None, stamp: tuple[tuple[str, int, int], ...]) -> KnowledgeBase:
    """One parse per folder and file state: every generator shard asks for the same base."""
    return _load(Path(directory), only)


def _load(directory: Path, only: tuple[str, ...] | None) -> KnowledgeBase:
    paths = sorted(directory.glob("*.yaml"))
    if only is not None:
        wanted = set(only)
        missing = wanted - {p.stem for p in paths}
        if missing:
            raise UserInputError(f"no knowledge-base file {sorted(missing)} in {directory}")
        paths = [p for p in paths if p.stem in wanted]
    if not paths:
        raise UserInputError(f"no *.yaml knowledge-base files in {directory}")
    kb, problems = _parse(paths)
    if problems:
        raise KnowledgeBaseError(problems)
    return kb


def coverage_problems(kb: KnowledgeBase) -> list[str]:
    """Relation (and head type) pairs of the schema with no edge: the generator needs them all."""
    present = Counter((e.relation, kb.concepts[e.head].type) for e in kb.edges)
    return [
        f"no {relation} edge with a {head_type} head"
        for relation, head_type, _ in VALID_RELATION_ARGUMENTS
        if not present[(relation, head_type)]
    ]
