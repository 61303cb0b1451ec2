"""The command-line entry point: every listed command is there."""

from __future__ import annotations


def test_every_listed_command_has_its_module() -> None:
    import importlib

    from odin_medical_ner_re.cli import COMMAND_MODULES, build_parser

    for name in COMMAND_MODULES:
        assert hasattr(importlib.import_module(f"odin_medical_ner_re.commands.{name}"), "register")
    help_text = build_parser().format_help()
    assert "transfer" in help_text and "export" not in help_text
