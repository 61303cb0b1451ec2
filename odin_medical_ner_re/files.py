"""Writing outputs safely: whole files and whole folders appear at once, or not at all.

Every command that writes (datasets, reports, review sheets, Hub staging folders, training
reports) goes through these helpers, so a crash or a bad input never leaves a half-written
file behind and a previous version stays intact until its replacement is complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from .errors import UserInputError


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder + rename."""
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def prepare_output_dir(path: str | os.PathLike[str]) -> Path:
    """Create the output folder (parents included) or explain why it cannot be used."""
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise UserInputError(f"output {directory} exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserInputError(f"cannot create output directory {directory}: {err.strerror}") from None
    if not os.access(directory, os.W_OK):
        raise UserInputError(f"output directory {directory} is not writable")
    return directory


def swap_into_place(staging: Path, target: Path) -> None:
    """Rename the finished ``staging`` folder to ``target``; an old ``target`` goes only once the new one is in."""
    if not target.exists():
        staging.rename(target)
        return
    backup = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    target.rename(backup)
    try:
        staging.rename(target)
    except BaseException:
        backup.rename(target)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def human_bytes(size: float) -> str:
    """Decimal units, as the Hub shows file sizes."""
    if size < 1000:
        return f"{size:,.0f} B"
    for unit in ("kB", "MB"):
        size /= 1000
        if size < 1000:
            return f"{size:,.1f} {unit}"
    return f"{size / 1000:,.1f} GB"


def file_tree(folder: Path) -> str:
    """The files under ``folder``, indented by depth, with sizes (what a Hub repository will hold)."""
    lines = [f"{folder}/"]
    for path in sorted(folder.rglob("*")):
        depth = len(path.relative_to(folder).parts)
        label = f"{path.name}/" if path.is_dir() else f"{path.name}  ({human_bytes(path.stat().st_size)})"
        lines.append("  " * depth + label)
    return "\n".join(lines)
