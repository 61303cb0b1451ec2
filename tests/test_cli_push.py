"""``odin-ner-re push``: the sub-command is ``hub/push.py`` under another name.

The same parser and code (:mod:`odin_medical_ner_re.hub.push`) serve both, so a dry run through
either stages the same bytes, prints the same tree, and fails with the same line and exit code;
only the program name (and with it the retry hint) differs. ``test_hub_push.py`` checks what the
staged folders hold. Nothing here reaches the network.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from test_hub_push import FAKE_TOKEN, RefusingApi

from odin_medical_ner_re import cli
from odin_medical_ner_re.hub import tokens
from odin_medical_ner_re.hub import upload as hub_upload

SCRIPT = Path(__file__).resolve().parents[1] / "hub" / "push.py"
SMALL = ["--num-train", "12", "--num-validation", "3", "--num-test", "3", "--num-test-unseen", "3"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(tokens, "get_token", lambda: None)
    monkeypatch.setattr(hub_upload, "HfApi", RefusingApi)

#: The ``run_script`` fixture (conftest): ``python PATH ARGV`` in this process, its exit code.
Runner = Callable[[Path, list[str]], int]


def run_cli(argv: list[str]) -> int:
    try:
        return cli.main(["push", *argv])
    except SystemExit as exit_info:  # --help and argparse's usage errors
        return int(exit_info.code or 0)


def _dataset(output: Path, cache_dir: str, *extra: str) -> list[str]:
    return ["dataset", "--configs", "1k", "--repo-id", "tester/odin_medical_ner_re", "--output-dir", str(output),
            "--cache-dir", cache_dir, *SMALL, *extra]


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("argv", [[], ["dataset"], ["model"], ["upload"]], ids=["push", "dataset", "model", "upload"])
def test_help_is_the_scripts(
    argv: list[str], run_script: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli([*argv, "--help"]) == 0
    through_cli = capsys.readouterr().out
    assert run_script(SCRIPT, [*argv, "--help"]) == 0
    through_script = capsys.readouterr().out
    assert through_cli.startswith(" ".join(["usage: odin-ner-re push", *argv]))
    assert through_cli.split("\n\n", 1)[1] == through_script.split("\n\n", 1)[1]
    assert "--repo-id" in through_cli or not argv


def test_dry_run_stages_the_scripts_folder(
    cache_dir: str, tmp_path: Path, run_script: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_script(SCRIPT, _dataset(tmp_path / "script", cache_dir, "--dry-run")) == 0
    script_out = capsys.readouterr().out
    assert run_cli(_dataset(tmp_path / "cli", cache_dir, "--dry-run")) == 0
    cli_out = capsys.readouterr().out
    staged = _tree(tmp_path / "cli")
    assert {"README.md", "1k/train-00000-of-00001.parquet", "1k/test_unseen-00000-of-00001.parquet"} <= set(staged)
    assert staged == _tree(tmp_path / "script")
    assert cli_out.replace(str(tmp_path / "cli"), "DIR") == script_out.replace(str(tmp_path / "script"), "DIR")
    assert "dry run (--dry-run); nothing was sent" in cli_out


def test_offline_upload_fails_alike_and_names_the_retry_command(
    cache_dir: str,
    tmp_path: Path,
    run_script: Runner,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(tokens, "get_token", lambda: FAKE_TOKEN)
    assert run_cli(_dataset(tmp_path / "cli", cache_dir)) == 1
    cli_err = capsys.readouterr().err
    assert run_script(SCRIPT, _dataset(tmp_path / "script", cache_dir)) == 1
    script_err = capsys.readouterr().err
    assert cli_err.startswith("error: HF_HUB_OFFLINE is set") and len(cli_err.splitlines()) == 1
    assert f"`odin-ner-re push upload {tmp_path / 'cli'} --repo-id" in cli_err
    assert f"`python hub/push.py upload {tmp_path / 'script'} --repo-id" in script_err
    normalise = {"odin-ner-re push": "PUSH", "python hub/push.py": "PUSH", str(tmp_path / "cli"): "DIR",
                 str(tmp_path / "script"): "DIR"}
    for old, new in normalise.items():
        cli_err, script_err = cli_err.replace(old, new), script_err.replace(old, new)
    assert cli_err == script_err and FAKE_TOKEN not in cli_err
    assert (tmp_path / "cli" / "README.md").is_file()  # kept for the retry


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["dataset", "--repo-id", "no-namespace"], "--repo-id must be OWNER/NAME"),
        (["dataset", "--repo-id", "a/b", "--configs", "1k,huge"], "'huge'"),
        (["model", "{tmp}/nowhere", "--repo-id", "a/b"], "nowhere does not exist"),
        (["upload", "{tmp}", "--repo-id", "a/b", "--repo-type", "model"], "is not a staged folder"),
    ],
)
def test_mistakes_are_the_scripts_one_error_line(
    argv: list[str],
    named: str,
    tmp_path: Path,
    run_script: Runner,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    monkeypatch.chdir(tmp_path)
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert run_script(SCRIPT, argv) == 2
    assert err == capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and named in err, err
    assert not (tmp_path / "hub-staging").exists()


def test_an_unknown_option_is_a_usage_error_as_for_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["model", "out", "--repo-id", "a/b", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "odin-ner-re: error: unrecognized arguments: --bogus"
