"""Fixtures shared by the tests that build datasets."""

from __future__ import annotations

import os
from collections.abc import Iterator
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
