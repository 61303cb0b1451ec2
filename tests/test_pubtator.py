"""The PubTator reader/writer on small inline inputs (no corpus files needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from odin_medical_ner_re.corpora.pubtator import (
    format_pubtator,
    parse_pubtator,
    read_pubtator,
    write_pubtator,
)
from odin_medical_ner_re.errors import UserInputError

SAMPLE = (
    "100|t|Lidocaine-induced asystole.\n"
    "100|a|Ocular and auditory toxicity after lidocaine.\n"
    "100\t0\t9\tLidocaine\tChemical\tD008012\n"
    "100\t18\t26\tasystole\tDisease\tD006323|D001919\n"
    "100\t28\t56\tOcular and auditory toxicity\tDisease\tD014786|D006311\tOcular toxicity|auditory toxicity\n"
    "100\t63\t72\tlidocaine\tChemical\t-1\n"
    "100\tCID\tD008012\tD006323\n"
    "\n"
    "200|t|Second\n"
    "200|a|document.\n"
    "200\tAssociation\t3175\tD003924\tNovel\n"
)


def test_offsets_cover_title_space_abstract() -> None:
    first, second = parse_pubtator(SAMPLE.splitlines())
    assert first.text == "Lidocaine-induced asystole. Ocular and auditory toxicity after lidocaine."
    assert first.title_end == len("Lidocaine-induced asystole.")
    for mention in first.mentions:
        assert first.text[mention.start : mention.end] == mention.text
    assert [m.ids for m in first.mentions] == ["D008012", "D006323|D001919", "D014786|D006311", "-1"]
    assert first.mentions[2].extra == ["Ocular toxicity|auditory toxicity"]
    assert [(r.type, r.id1, r.id2, r.extra) for r in first.relations] == [("CID", "D008012", "D006323", [])]
    assert [(r.type, r.extra) for r in second.relations] == [("Association", ["Novel"])]


def test_crlf_bom_and_missing_blank_line() -> None:
    crlf = "\ufeff" + SAMPLE.replace("\n\n", "\n").replace("\n", "\r\n")
    docs = parse_pubtator(crlf.split("\n"))
    assert [d.pmid for d in docs] == ["100", "200"]
    assert docs[0].text.endswith("lidocaine.")
    assert docs == parse_pubtator(SAMPLE.splitlines())


def test_title_only_document_has_no_trailing_space() -> None:
    (doc,) = parse_pubtator(["7|t|Just a title", "7\t0\t4\tJust\tX\t"])
    assert doc.text == "Just a title" and doc.title_end is None
    assert doc.mentions[0].ids == ""


def test_stray_whitespace_in_text_column_is_trimmed() -> None:
    (doc,) = parse_pubtator(["7|t|fever today", "7\t0\t5\tfever  \tX\tD1"])
    assert doc.mentions[0].text == "fever" and doc.mentions[0].text_trimmed


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("100\t0\tnine\tLidocaine\tChemical\tD008012", "end offset"),
        ("100\t0\t9", "at least 5"),
        ("100\tCID\tD008012", "3 tab-separated column"),
        ("999\t0\t9\tLidocaine\tChemical\tD008012", "differs from the document's PMID"),
        ("100\t0\t9\tLidocainX\tChemical\tD008012", "does not match the text"),
        ("100\t60\t900\tlidocaine\tChemical\tD008012", "outside the text"),
        ("100\t0\t9\tLidocaine\t\tD008012", "empty type"),
    ],
)
def test_corrupt_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    lines = SAMPLE.splitlines()
    lines[3] = line
    path = tmp_path / "corrupt.PubTator"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UserInputError) as err:
        read_pubtator(path)
    assert str(path) in str(err.value) and "line 4" in str(err.value) and message in str(err.value)


def test_structure_errors() -> None:
    with pytest.raises(UserInputError, match="line 1: annotation line before"):
        parse_pubtator(["100\t0\t9\tLidocaine\tChemical\tD008012"])
    with pytest.raises(UserInputError, match="line 1: abstract line for PMID 5 without"):
        parse_pubtator(["5|a|abstract first"])
    with pytest.raises(UserInputError, match="line 2: second title"):
        parse_pubtator(["5|t|a", "5|t|b"])


def test_bad_encoding_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"1|t|ok\n2|t|caf\xe9\n")
    with pytest.raises(UserInputError, match="line 2: not valid UTF-8"):
        read_pubtator(path)
    with pytest.raises(UserInputError, match="no such file"):
        read_pubtator(tmp_path / "absent.txt")


def test_write_then_read_is_identical(tmp_path: Path) -> None:
    docs = parse_pubtator(SAMPLE.splitlines())
    path = write_pubtator(docs, tmp_path / "out.PubTator")
    assert path.read_text(encoding="utf-8") == SAMPLE + "\n"
    back = read_pubtator(path)
    assert back == docs


def test_writer_rejects_unusable_pmid() -> None:
    (doc,) = parse_pubtator(["5|t|a"])
    doc.pmid = "a|b"
    with pytest.raises(UserInputError, match="cannot be a PubTator PMID"):
        list(format_pubtator([doc]))
