"""The template file: read and checked once, every mistake in it one clear error before any note is written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.generator import FACT_RELATION, TEMPLATES_PATH, expand_alternatives, load_templates


def test_alternatives_expand_into_phrasings() -> None:
    assert expand_alternatives("[start|begin] {H} for [|known ]{T}.") == [
        "Start {H} for {T}.",
        "Start {H} for known {T}.",
        "Begin {H} for {T}.",
        "Begin {H} for known {T}.",
    ]


def test_every_phrasing_is_tidy_and_every_fact_kind_has_a_relation() -> None:
    bank = load_templates()
    assert set(bank.raw["facts"]) <= set(FACT_RELATION)
    for where, line in bank.lines():
        for phrasing in expand_alternatives(line):
            assert "  " not in phrasing and " ." not in phrasing and " ," not in phrasing, (where, phrasing)


def _broken_copy(tmp_path: Path, kind: str, section: str, line: str) -> str:
    raw = yaml.safe_load(TEMPLATES_PATH.read_text(encoding="utf-8"))
    raw["facts"][kind][section].append(line)
    path = tmp_path / "templates.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return str(path)


def test_a_fact_kind_must_keep_one_list_slot(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="mixes list slots"):
        load_templates(_broken_copy(tmp_path, "treats", "plan", "Start {H} for {T+}."))


def test_an_unknown_slot_is_reported(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="unknown slot"):
        load_templates(_broken_copy(tmp_path, "treats", "plan", "Start {H} for {T} on {weekday}."))


def test_a_word_pool_cannot_open_a_sentence(tmp_path: Path) -> None:
    """A pool may draw "" or a lower-case word, so the sentence would not start with a capital."""
    with pytest.raises(UserInputError, match="cannot open a sentence"):
        load_templates(_broken_copy(tmp_path, "treats", "plan", "{known}{T}: start {H}."))


def test_a_missing_section_is_named(tmp_path: Path) -> None:
    raw = yaml.safe_load(TEMPLATES_PATH.read_text(encoding="utf-8"))
    del raw["qualifiers"], raw["vitals"]
    path = tmp_path / "templates.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(UserInputError, match=r"templates\.yaml: missing section\(s\) qualifiers, vitals$"):
        load_templates(str(path))


@pytest.mark.parametrize("text", ["facts: [unclosed", "- just\n- a list\n"])
def test_a_file_that_is_not_a_template_mapping_is_reported(tmp_path: Path, text: str) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserInputError, match=r"templates\.yaml"):
        load_templates(str(path))


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="cannot read template file"):
        load_templates(str(tmp_path / "absent.yaml"))
