"""Fixtures shared by the tests that build datasets."""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"


@pytest.fixture(scope="module")
def knowledge_dir() -> Iterator[str]:
    """The small fixture knowledge base keeps builds fast (unless one was chosen explicitly)."""
    with pytest.MonkeyPatch.context() as patch:
        if not os.environ.get("ODIN_KNOWLEDGE_DIR"):
            patch.setenv("ODIN_KNOWLEDGE_DIR", str(FIXTURE_KB))
        yield os.environ["ODIN_KNOWLEDGE_DIR"]


@pytest.fixture(scope="module")
def cache_dir(knowledge_dir: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A datasets cache of the module's own, built against ``knowledge_dir``."""
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def run_script(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path, list[str]], int]:
    """``python PATH ARGV`` in this process (the file's ``__main__`` block), returning its exit code.

    For comparing a script with its ``odin-ner-re`` sub-command without a subprocess per case.
    """

    def run(path: Path, argv: list[str]) -> int:
        monkeypatch.setattr(sys, "argv", [str(path), *argv])
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_path(str(path), run_name="__main__")
        return int(exit_info.value.code or 0)

    return run
