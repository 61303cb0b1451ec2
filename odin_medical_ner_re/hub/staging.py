"""The folder that becomes a Hub repository, written in a hidden sibling and renamed into place.

What a dry run shows is exactly what an upload sends, and a failed build leaves the previous
staging (or nothing) behind, never a half-written folder that a later ``upload`` would send.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..files import swap_into_place

STAGING_ROOT = Path("hub-staging")


def staging_dir(output_dir: str | None, repo_id: str) -> Path:
    """``--output-dir``, or ``hub-staging/<repo name>`` in the current folder."""
    return Path(os.path.abspath(output_dir or STAGING_ROOT / repo_id.split("/")[-1]))


def check_target(target: Path, replaceable: Callable[[Path], bool], overwrite: bool) -> None:
    """Replace ``target`` only if it is empty, an earlier staging of the same kind, or ``overwrite``."""
    if target.exists() and not target.is_dir():
        raise UserInputError(f"output {target} exists and is not a folder")
    cwd, home = Path.cwd(), Path.home()
    if target == Path(target.anchor) or target in (home, *home.parents) or target in (cwd, *cwd.parents):
        raise UserInputError(f"refusing to replace {target}: it is the root, your home or the current folder")
    if target.is_dir() and any(target.iterdir()) and not overwrite and not replaceable(target):
        found = ", ".join(sorted(p.name for p in target.iterdir())[:5])
        raise UserInputError(
            f"output folder {target} is not empty and is not an earlier staging (it holds {found}); "
            "choose another --output-dir or pass --overwrite to replace it and everything in it"
        )


@contextlib.contextmanager
def staged(target: Path, replaceable: Callable[[Path], bool], overwrite: bool) -> Iterator[Path]:
    """An empty hidden sibling of ``target``, renamed into place only when the body succeeds.

    A failed build leaves the previous staging (or nothing) behind, never a half-written folder
    that a later ``upload`` would send.
    """
    check_target(target, replaceable, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    partial.mkdir()
    try:
        yield partial
        swap_into_place(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link when possible: weights can be gigabytes and are never modified in the staging."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from ``path``; anything else is the user's file problem, reported in one line."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"{what}: {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserInputError(f"{what}: {path} is not readable JSON ({err})") from None
    if not isinstance(data, dict):
        raise UserInputError(f"{what}: {path} must hold a JSON object, not {type(data).__name__}")
    return data
