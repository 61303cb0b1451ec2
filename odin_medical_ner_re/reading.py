"""Reading text inputs one way: UTF-8 (a byte-order mark accepted), errors that say where.

A spreadsheet saved on Windows is often cp1252, a file cut by a full disk may end inside a
character; Python's ``UnicodeDecodeError`` then names neither the file nor the line. Every
reader of user files (documents, review sheets, corpus files) goes through :func:`read_text`
so the user learns the file, the line and the byte, and how to convert the file.
"""

from __future__ import annotations

import codecs
import os
import shlex
from pathlib import Path

from .errors import UserInputError


def decode_utf8(data: bytes, source: str | os.PathLike[str]) -> str:
    """``data`` as text; a leading UTF-8 BOM is dropped, invalid bytes are a one-line user error."""
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as err:
        offset = skip + err.start
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        quoted = shlex.quote(str(source))
        raise UserInputError(
            f"{source}, line {line}: not valid UTF-8 (byte 0x{data[offset]:02x} at byte offset {offset}, "
            f"column {column}: {err.reason}); a file saved as cp1252 (Excel on Windows) converts with "
            f"`iconv -f cp1252 -t utf-8 {quoted} > converted{Path(source).suffix}`"
        ) from None


def read_text(path: str | os.PathLike[str]) -> str:
    """The UTF-8 text of a user's file, or one user error naming the file (and line and byte)."""
    source = Path(path)
    try:
        data = source.read_bytes()
    except IsADirectoryError:
        raise UserInputError(f"{source} is a directory; give a file") from None
    except FileNotFoundError:
        raise UserInputError(f"{source}: no such file") from None
    except OSError as err:
        raise UserInputError(f"cannot read {source}: {err.strerror or err}") from None
    return decode_utf8(data, source)
