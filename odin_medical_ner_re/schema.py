"""Documents, entities and relations: the one data model every module speaks.

Offsets are half-open character offsets into ``Document.text`` so that
``text[start:end] == entity.text`` always holds; :func:`validate` checks that and
every other invariant, and returns *all* problems so a user can fix a file in one pass.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserInputError
from .files import atomic_open, check_output_file
from .reading import read_text

ENTITY_TYPES: tuple[str, ...] = ("Disease", "Symptom", "Drug", "Procedure", "Lab_Test")
RELATION_TYPES: tuple[str, ...] = ("treats", "causes", "indicates", "prevents")

#: The only (relation, head type, tail type) triples valid in synthetic data (DESIGN §2).
VALID_RELATION_ARGUMENTS: tuple[tuple[str, str, str], ...] = (
    ("treats", "Drug", "Disease"),
    ("causes", "Disease", "Symptom"),
    ("indicates", "Lab_Test", "Disease"),
    ("indicates", "Symptom", "Disease"),
    ("prevents", "Drug", "Disease"),
    ("prevents", "Procedure", "Disease"),
)


@dataclass(slots=True)
class Entity:
    """A mention: ``text == document.text[start:end]`` (half-open)."""

    id: str
    text: str
    type: str
    start: int
    end: int
    negated: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "type": self.type,
            "start": self.start,
            "end": self.end,
        }
        if self.negated:
            out["negated"] = True
        return out


@dataclass(slots=True)
class Relation:
    """A directed relation between two entity ids of the same document."""

    id: str
    type: str
    head: str
    tail: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "head": self.head, "tail": self.tail}


@dataclass
class Document:
    id: str
    text: str
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def entity_by_id(self) -> dict[str, Entity]:
        return {e.id: e for e in self.entities}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "entities": [e.to_dict() for e in self.entities],
            "relations": [r.to_dict() for r in self.relations],
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, default_id: str = "doc-0") -> Document:
        """Build a document from the project's shape or the seed's documented shape.

        The seed shape has no ids and its relations hold ``head``/``tail`` entity dicts;
        those are resolved to entity ids by (start, end, type), falling back to text.
        """
        if not isinstance(data, dict):
            raise UserInputError(f"document {default_id}: expected a JSON object, got {type(data).__name__}")
        doc_id = str(data.get("id", default_id))
        if "text" not in data or not isinstance(data["text"], str):
            raise UserInputError(f"document {doc_id}: missing string field 'text'")
        entities: list[Entity] = []
        for index, raw in enumerate(data.get("entities") or []):
            try:
                entities.append(
                    Entity(
                        id=str(raw.get("id", f"T{index + 1}")),
                        text=str(raw["text"]),
                        type=str(raw["type"]),
                        start=int(raw["start"]),
                        end=int(raw["end"]),
                        negated=bool(raw.get("negated", False)),
                    )
                )
            except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
                raise UserInputError(
                    f"document {doc_id}: entity {index} is malformed ({err!r}); "
                    "expected fields text, type, start, end"
                ) from None
        relations = [
            _relation_from_dict(raw, index, entities, doc_id)
            for index, raw in enumerate(data.get("relations") or [])
        ]
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise UserInputError(f"document {doc_id}: 'metadata' must be an object")
        return cls(
            id=doc_id, text=data["text"], entities=entities, relations=relations, metadata=dict(metadata)
        )


def _relation_from_dict(raw: Any, index: int, entities: list[Entity], doc_id: str) -> Relation:
    if not isinstance(raw, dict) or "type" not in raw or "head" not in raw or "tail" not in raw:
        raise UserInputError(f"document {doc_id}: relation {index} needs fields type, head, tail")
    return Relation(
        id=str(raw.get("id", f"R{index + 1}")),
        type=str(raw["type"]),
        head=_resolve_argument(raw["head"], entities, doc_id, index, "head"),
        tail=_resolve_argument(raw["tail"], entities, doc_id, index, "tail"),
    )


def _resolve_argument(arg: Any, entities: list[Entity], doc_id: str, index: int, role: str) -> str:
    """Entity id for a relation argument given as an id or as a seed-style entity dict."""
    if not isinstance(arg, dict):
        return str(arg)
    if "id" in arg:
        return str(arg["id"])
    for entity in entities:
        if (
            entity.start == arg.get("start")
            and entity.end == arg.get("end")
            and (arg.get("type") is None or entity.type == arg.get("type"))
        ):
            return entity.id
    for entity in entities:
        if entity.text == arg.get("text") and (arg.get("type") is None or entity.type == arg.get("type")):
            return entity.id
    raise UserInputError(
        f"document {doc_id}: relation {index} {role} {arg!r} matches no entity of the document"
    )


def struct_rows(column: Any) -> list[Any]:
    """A list-of-structs value (``entities``, ``relations``) as a list of items, whichever way it came.

    ``datasets`` hands a ``Sequence`` of a struct over as a dict of equal-length lists, and a
    ``List`` of a struct as a list of dicts; both mean the same rows. None is no rows. Raises
    ``ValueError`` when the lists of a dict differ in length and ``TypeError`` for anything else
    that is not a list of items (a string is not).
    """
    if column is None:
        return []
    if isinstance(column, Mapping):
        keys = list(column)
        columns = [_column_list(column[key], f"column {key!r}") for key in keys]
        if len({len(values) for values in columns}) > 1:
            raise ValueError(f"the columns {keys} have different lengths")
        return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]
    return _column_list(column, "")


def _column_list(values: Any, what: str) -> list[Any]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{what + ' ' if what else ''}must be a list, got {type(values).__name__}")
    return list(values)


def validate(doc: Document) -> list[str]:
    """Every problem of ``doc``, as readable messages (empty list when valid)."""
    problems: list[str] = []
    seen_entity_ids: set[str] = set()
    for entity in doc.entities:
        where = f"entity {entity.id!r}"
        if entity.id in seen_entity_ids:
            problems.append(f"{where}: duplicate entity id")
        seen_entity_ids.add(entity.id)
        if entity.type not in ENTITY_TYPES:
            problems.append(f"{where}: unknown type {entity.type!r} (valid: {', '.join(ENTITY_TYPES)})")
        if not (0 <= entity.start < entity.end <= len(doc.text)):
            problems.append(
                f"{where}: offsets [{entity.start}, {entity.end}) outside text of length {len(doc.text)}"
            )
        elif doc.text[entity.start : entity.end] != entity.text:
            problems.append(
                f"{where}: text {entity.text!r} != text[{entity.start}:{entity.end}] "
                f"{doc.text[entity.start : entity.end]!r}"
            )
    by_id = doc.entity_by_id()
    valid = set(VALID_RELATION_ARGUMENTS)
    seen_relation_ids: set[str] = set()
    seen_triples: set[tuple[str, str, str]] = set()
    for relation in doc.relations:
        where = f"relation {relation.id!r}"
        if relation.id in seen_relation_ids:
            problems.append(f"{where}: duplicate relation id")
        seen_relation_ids.add(relation.id)
        if relation.type not in RELATION_TYPES:
            problems.append(f"{where}: unknown type {relation.type!r} (valid: {', '.join(RELATION_TYPES)})")
        missing = [
            role for role, ref in (("head", relation.head), ("tail", relation.tail)) if ref not in by_id
        ]
        for role in missing:
            problems.append(
                f"{where}: {role} {getattr(relation, role)!r} is not an entity id of the document"
            )
        if missing or relation.type not in RELATION_TYPES:
            continue
        head, tail = by_id[relation.head], by_id[relation.tail]
        if (relation.type, head.type, tail.type) not in valid:
            problems.append(f"{where}: {relation.type} cannot link {head.type} -> {tail.type}")
        triple = (relation.type, relation.head, relation.tail)
        if triple in seen_triples:
            problems.append(f"{where}: duplicate relation {relation.type}({relation.head}, {relation.tail})")
        seen_triples.add(triple)
    return problems


# --------------------------------------------------------------------------- JSON I/O


def documents_to_json(documents: Iterable[Document]) -> str:
    return json.dumps([d.to_dict() for d in documents], ensure_ascii=False, indent=1)


def save_documents(
    documents: Iterable[Document], path: str | os.PathLike[str], fmt: str | None = None
) -> Path:
    """Write documents atomically (temp file + rename) as JSON or JSONL (by suffix or ``fmt``).

    A failure never leaves a partial file behind, and an existing file is only replaced
    once the new one is complete.
    """
    target = Path(path)
    fmt = fmt or ("jsonl" if target.suffix == ".jsonl" else "json")
    if fmt not in ("json", "jsonl"):
        raise UserInputError(f"unknown format {fmt!r}: use json or jsonl")
    check_output_file(target)
    with atomic_open(target, "w") as handle:
        if fmt == "jsonl":
            for doc in documents:
                handle.write(json.dumps(doc.to_dict(), ensure_ascii=False))
                handle.write("\n")
        else:
            _write_json_array(documents, handle)
    return target


def _write_json_array(documents: Iterable[Document], handle: Any) -> None:
    """The bytes of :func:`documents_to_json` plus a newline, one document at a time.

    ``json.dumps`` of the whole list would hold every note in memory (gigabytes for millions);
    a document's own ``indent=1`` text shifted by one space is what the list's indent gives it.
    """
    first = True
    for doc in documents:
        handle.write("[\n " if first else ",\n ")
        handle.write(json.dumps(doc.to_dict(), ensure_ascii=False, indent=1).replace("\n", "\n "))
        first = False
    handle.write("[]\n" if first else "\n]\n")


_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def iter_raw_documents(path: str | os.PathLike[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (location, raw dict) from a JSON array, a JSON object with ``documents``, or JSONL."""
    source = Path(path)
    if not source.is_file():
        raise UserInputError(f"{source}: no such file")
    text = read_text(source)
    check_surrogates = _LONE_SURROGATE_ESCAPE.search(text) is not None  # rare: checked only then
    stripped = text.lstrip()
    if source.suffix == ".jsonl" or (
        stripped.startswith("{") and "\n{" in stripped and not _is_one_json(text)
    ):
        for line_number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as err:
                raise UserInputError(f"{source}: line {line_number}, column {err.colno}: {err.msg}") from None
            except RecursionError:
                raise UserInputError(f"{source}: line {line_number}: JSON nested too deeply") from None
            if check_surrogates:
                _refuse_lone_surrogates(item, f"{source}:{line_number}")
            yield f"{source}:{line_number}", item
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise UserInputError(f"{source}: line {err.lineno}, column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise UserInputError(f"{source}: JSON nested too deeply") from None
    if isinstance(data, dict) and "documents" in data:
        data = data["documents"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise UserInputError(f"{source}: expected a JSON array of documents")
    for index, item in enumerate(data):
        if check_surrogates:
            _refuse_lone_surrogates(item, f"{source}[{index}]")
        yield f"{source}[{index}]", item


def _refuse_lone_surrogates(item: Any, location: str) -> None:
    """A ``\\ud800`` escape without its pair decodes to a string that can be neither printed nor saved."""
    try:
        json.dumps(item, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as err:
        raise UserInputError(
            f"{location}: a \\u{ord(err.object[err.start]):04x} escape is half a surrogate pair, not a character"
        ) from None


def _is_one_json(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


def load_documents(path: str | os.PathLike[str], *, check: bool = True) -> list[Document]:
    """Read documents written by :func:`save_documents` or in the seed's shape.

    With ``check`` every document is validated and the first invalid one is reported
    with its id and all of its problems; a document id seen before is an error too.
    """
    documents = []
    seen: dict[str, str] = {}
    for index, (location, raw) in enumerate(iter_raw_documents(path)):
        try:
            doc = Document.from_dict(raw, default_id=f"doc-{index}")
        except UserInputError as err:
            raise UserInputError(f"{location}: {err}") from None
        if check:
            problems = validate(doc)
            if problems:
                raise UserInputError(f"{location}: document {doc.id} is invalid: {'; '.join(problems)}")
            if doc.id in seen:  # scores and splits key on ids: a repeat is silently merged otherwise
                raise UserInputError(f"{location}: duplicate document id {doc.id!r} (first at {seen[doc.id]})")
            seen[doc.id] = location
        documents.append(doc)
    return documents
