"""A small, strict PubTator reader and writer.

PubTator is three kinds of lines per document, documents separated by a blank line::

    PMID|t|title
    PMID|a|abstract
    PMID<TAB>start<TAB>end<TAB>text<TAB>type[<TAB>ids[<TAB>extra ...]]     (a mention)
    PMID<TAB>type<TAB>id1<TAB>id2[<TAB>extra ...]                         (a relation)

Offsets index ``title + " " + abstract`` (end exclusive). Mentions may carry several concept
ids (``D014786|D006311`` in BC5CDR and NCBI, ``5870,84084`` in BioRED, ``D020279+D035583`` for
NCBI composites) and extra columns (BC5CDR composite mentions list their parts in a seventh
column; BioRED relations carry a novelty flag). The id column is kept verbatim here; splitting
it is the corpus adapter's business because the separator differs between corpora (a BioRED
variant id such as ``c|DEL|1314_1328|`` contains ``|`` itself).

Why not ``bioc.pubtator`` (bioc 2.1)? It strips every line (a mention with an empty id column
then has five columns and is silently read as a relation), prints ``Cannot parse`` for a bad
line instead of raising, reports no file or line number, drops the part texts of composite
mentions, and never checks that an offset matches the text. A benchmark must fail loudly on a
corrupt line and name where it is, so this module parses the format itself (about as many
lines as working around bioc would take). Line ends may be LF or CRLF; a UTF-8 BOM is ignored.
A mention whose text column differs from the text at its offsets is an error, except for stray
whitespace around the column's text (offsets win; ``text_trimmed`` records it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserInputError
from ..files import atomic_open, check_output_file
from ..reading import read_text

_HEADER = re.compile(r"^([^\t|]+)\|([ta])\|(.*)$")


@dataclass
class PubTatorMention:
    """One mention line; ``ids`` is the raw id column ("" when the line has none)."""

    start: int
    end: int
    text: str
    type: str
    ids: str = ""
    extra: list[str] = field(default_factory=list)
    line: int = field(default=0, compare=False)  # for error messages; not part of the content
    #: The text column carried stray surrounding whitespace that the offsets exclude.
    text_trimmed: bool = False


@dataclass
class PubTatorRelation:
    """One relation line between concept ids (BioRED adds a novelty flag in ``extra``)."""

    type: str
    id1: str
    id2: str
    extra: list[str] = field(default_factory=list)
    line: int = field(default=0, compare=False)  # for error messages; not part of the content


@dataclass
class PubTatorDocument:
    pmid: str
    title: str
    abstract: str | None = None
    mentions: list[PubTatorMention] = field(default_factory=list)
    relations: list[PubTatorRelation] = field(default_factory=list)
    line: int = field(default=0, compare=False)  # for error messages; not part of the content

    @property
    def text(self) -> str:
        """Title and abstract joined by one space, the text PubTator offsets refer to.

        A missing or empty abstract adds no space: no offset can point there, and a document
        written from a single passage then reads back with the same text.
        """
        return f"{self.title} {self.abstract}" if self.abstract else self.title

    @property
    def title_end(self) -> int | None:
        return len(self.title) if self.abstract else None


class _Reader:
    """Line-by-line state machine; every error names ``source`` and the line number."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.documents: list[PubTatorDocument] = []
        self.current: PubTatorDocument | None = None

    def fail(self, line_number: int, message: str, line: str | None = None) -> UserInputError:
        shown = f": {line[:120]!r}" if line is not None else ""
        return UserInputError(f"{self.source}, line {line_number}: {message}{shown}")

    def close(self) -> None:
        if self.current is not None:
            self._check_offsets(self.current)
            self.documents.append(self.current)
            self.current = None

    def feed(self, line_number: int, line: str) -> None:
        if not line.strip():
            self.close()
            return
        header = _HEADER.match(line)
        if header:
            self._header(line_number, line, header.group(1), header.group(2), header.group(3))
            return
        columns = line.split("\t")
        doc = self.current
        if doc is None:
            raise self.fail(line_number, "annotation line before any 'PMID|t|title' line", line)
        if columns[0] != doc.pmid:
            raise self.fail(
                line_number, f"PMID {columns[0]!r} differs from the document's PMID {doc.pmid!r}", line
            )
        if len(columns) >= 2 and columns[1].isdigit():
            doc.mentions.append(self._mention(line_number, line, columns))
        elif len(columns) >= 4 and columns[1].strip():
            doc.relations.append(
                PubTatorRelation(columns[1], columns[2], columns[3], columns[4:], line_number)
            )
        else:
            raise self.fail(
                line_number,
                f"{len(columns)} tab-separated column(s): expected a mention "
                "(PMID, start, end, text, type[, ids]) or a relation (PMID, type, id1, id2)",
                line,
            )

    def _header(self, line_number: int, line: str, pmid: str, kind: str, content: str) -> None:
        doc = self.current
        if kind == "t":
            if doc is not None:
                if doc.pmid == pmid:
                    raise self.fail(line_number, f"second title line for PMID {pmid}", line)
                self.close()  # tolerate a missing blank line between documents
            self.current = PubTatorDocument(pmid=pmid, title=content, line=line_number)
            return
        if doc is None or doc.pmid != pmid:
            raise self.fail(line_number, f"abstract line for PMID {pmid} without its title line", line)
        if doc.abstract is not None or doc.mentions or doc.relations:
            raise self.fail(line_number, f"unexpected abstract line for PMID {pmid}", line)
        doc.abstract = content

    def _mention(self, line_number: int, line: str, columns: list[str]) -> PubTatorMention:
        if len(columns) < 5:
            raise self.fail(
                line_number,
                f"mention line has {len(columns)} columns, expected at least 5 (PMID, start, end, text, type)",
                line,
            )
        if not columns[2].isdigit():
            raise self.fail(line_number, f"end offset {columns[2]!r} is not a non-negative integer", line)
        if not columns[4].strip():
            raise self.fail(line_number, "mention has an empty type column", line)
        return PubTatorMention(
            start=int(columns[1]),
            end=int(columns[2]),
            text=columns[3],
            type=columns[4],
            ids=columns[5] if len(columns) > 5 else "",
            extra=columns[6:],
            line=line_number,
        )

    def _check_offsets(self, doc: PubTatorDocument) -> None:
        text = doc.text
        for mention in doc.mentions:
            if not 0 <= mention.start < mention.end <= len(text):
                raise self.fail(
                    mention.line,
                    f"offsets [{mention.start}, {mention.end}) are empty or outside the text of PMID {doc.pmid} "
                    f"(length {len(text)})",
                )
            found = text[mention.start : mention.end]
            if found != mention.text and found == mention.text.strip():
                # Offsets are authoritative; one NCBI training mention has two trailing spaces.
                mention.text, mention.text_trimmed = found, True
            elif found != mention.text:
                raise self.fail(
                    mention.line,
                    f"mention {mention.text!r} does not match the text at [{mention.start}, {mention.end}) "
                    f"of PMID {doc.pmid}, which is {found!r}",
                )


def parse_pubtator(lines: Iterable[str], source: str = "<string>") -> list[PubTatorDocument]:
    """Documents of PubTator ``lines`` (with or without line ends); errors name ``source``."""
    reader = _Reader(source)
    for line_number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n").removesuffix("\r")
        if line_number == 1:
            line = line.removeprefix("\ufeff")
        reader.feed(line_number, line)
    reader.close()
    return reader.documents


def read_pubtator(path: str | Path) -> list[PubTatorDocument]:
    """Parse a PubTator file; a corrupt line raises :class:`UserInputError` with file and line."""
    source = Path(path)
    content = read_text(source)
    return parse_pubtator(content.split("\n"), str(source))


def _clean(value: str) -> str:
    """Tabs and line breaks cannot live inside a PubTator field: replace them by spaces.

    One character for one character, so every offset stays valid.
    """
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def format_pubtator(documents: Iterable[PubTatorDocument]) -> Iterator[str]:
    """PubTator lines (without line ends) for ``documents``, a blank line after each."""
    for doc in documents:
        if not doc.pmid or set(doc.pmid) & set("|\t\r\n "):
            raise UserInputError(
                f"document id {doc.pmid!r} cannot be a PubTator PMID (empty, or has '|' or whitespace)"
            )
        yield f"{doc.pmid}|t|{_clean(doc.title)}"
        yield f"{doc.pmid}|a|{_clean(doc.abstract or '')}"
        for m in doc.mentions:
            columns = [
                doc.pmid,
                str(m.start),
                str(m.end),
                _clean(m.text),
                _clean(m.type),
                _clean(m.ids),
                *map(_clean, m.extra),
            ]
            yield "\t".join(columns)
        for r in doc.relations:
            yield "\t".join([doc.pmid, _clean(r.type), _clean(r.id1), _clean(r.id2), *map(_clean, r.extra)])
        yield ""


def write_pubtator(documents: Iterable[PubTatorDocument], path: str | Path) -> Path:
    target = check_output_file(path)
    with atomic_open(target) as handle:
        handle.writelines(f"{line}\n" for line in format_pubtator(documents))
    return target
