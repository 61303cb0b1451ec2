"""reading.py: UTF-8 with or without a BOM; anything else named by file, line and byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.reading import read_text


def test_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbfitem,verdict\n")
    assert read_text(path) == "item,verdict\n"


def test_cp1252_is_located_and_the_fix_is_given(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"item,text\nentity,caf\xe9\n")
    with pytest.raises(UserInputError) as err:
        read_text(path)
    message = str(err.value)
    assert f"{path}, line 2: not valid UTF-8 (byte 0xe9 at byte offset 20, column 11" in message
    assert "iconv -f cp1252 -t utf-8" in message and "\n" not in message


def test_bom_then_bad_byte_counts_the_bom(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfab\xff")
    with pytest.raises(UserInputError, match="line 1: not valid UTF-8 \\(byte 0xff at byte offset 5"):
        read_text(path)


def test_missing_and_folder(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="no such file"):
        read_text(tmp_path / "nope")
    with pytest.raises(UserInputError, match="is a directory"):
        read_text(tmp_path)
