"""Fixtures shared by the tests that build datasets and by the generator's tests."""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from odin_medical_ner_re.knowledge import Concept, KnowledgeBase, load_knowledge_base
from odin_medical_ner_re.schema import Document

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


#: Notes per complexity that the generator's tests check every property over.
GENERATED_SIZES = {"simple": 3000, "complex": 1500}


@pytest.fixture(scope="module")
def generator_kb() -> Iterator[KnowledgeBase]:
    """The packaged knowledge base for the generator's tests, whatever ODIN_KNOWLEDGE_DIR says."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ODIN_KNOWLEDGE_DIR", raising=False)
        yield load_knowledge_base()


@pytest.fixture(scope="module", params=list(GENERATED_SIZES))
def generated_notes(request: pytest.FixtureRequest, generator_kb: KnowledgeBase) -> list[Document]:
    """A few thousand notes per complexity (about a second each), generated once per test module."""
    from odin_medical_ner_re.generator import MedicalTextGenerator

    complexity = request.param
    generator = MedicalTextGenerator(seed=123, complexity=complexity, knowledge_base=generator_kb)
    return generator.generate_dataset(GENERATED_SIZES[complexity])


@pytest.fixture(scope="module")
def concept_of(generator_kb: KnowledgeBase) -> Callable[[str], Concept]:
    """The concept a generated surface form names; a form the knowledge base lacks fails the test."""

    def lookup(text: str) -> Concept:
        concept = generator_kb.lookup(text)
        assert concept is not None, f"{text!r} is not a surface form of the knowledge base"
        return concept

    return lookup


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


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread for a module's tiny-model tests (two cores, two processes: 100x otherwise)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
