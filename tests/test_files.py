"""files.py: outputs checked before the work, written whole with the umask's mode, never over an input."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from odin_medical_ner_re import files
from odin_medical_ner_re.errors import Terminated, UserInputError


def _hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_files_and_staging_folders_follow_the_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        path = files.atomic_write_text(tmp_path / "a.txt", "x")
        with files.staging_dir(tmp_path, "d") as staging:
            folder_mode = staging.stat().st_mode & 0o777
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert folder_mode == 0o777 & ~mask
    assert _hidden(tmp_path) == []


def test_an_error_inside_the_block_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), files.atomic_open(target) as handle:
        handle.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old" and _hidden(tmp_path) == []


def test_a_full_disk_is_one_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    with (
        pytest.raises(UserInputError, match="cannot write .*No space left on device"),
        files.atomic_open(tmp_path / "x") as handle,
    ):
        monkeypatch.setattr(handle, "write", full)
        handle.write("x")
    assert list(tmp_path.iterdir()) == []


def test_outputs_that_are_inputs_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "data.jsonl"
    source.write_text("{}\n")
    (tmp_path / "link.jsonl").symlink_to(source)
    (tmp_path / "sub").mkdir()
    for output in (source, tmp_path / "link.jsonl", tmp_path / "sub" / ".." / "data.jsonl"):
        with pytest.raises(UserInputError, match="is the input"):
            files.check_output_file(output, inputs=(source,))
    assert files.check_output_file(tmp_path / "other.json", inputs=(source,)) == tmp_path / "other.json"
    with pytest.raises(UserInputError, match="is the input"):
        files.check_output_dir(tmp_path, writes=("data.jsonl",), inputs=(str(source),))


def test_output_folders_are_checked_without_being_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(UserInputError, match="not a directory"):
        files.check_output_dir(tmp_path / "afile")
    with pytest.raises(UserInputError, match="not a directory"):
        files.check_output_dir(tmp_path / "afile" / "sub")
    assert files.check_output_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()
    usage = files.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(files.shutil, "disk_usage", lambda path: usage._replace(free=10))
    with pytest.raises(UserInputError, match="has 10 B free"):
        files.check_output_file(tmp_path / "r.json")


def test_a_filled_review_sheet_needs_overwrite(tmp_path: Path) -> None:
    sheet = tmp_path / "review.csv"
    sheet.write_text("item,verdict\nentity,\nentity,\n")
    files.refuse_filled_sheet(sheet, overwrite=False)  # nothing filled yet
    sheet.write_text("\ufeffitem,verdict\nentity,\nentity, yes\n")
    with pytest.raises(UserInputError, match="holds 1 filled verdict"):
        files.refuse_filled_sheet(sheet, overwrite=False)
    files.refuse_filled_sheet(sheet, overwrite=True)


def test_sigterm_unwinds_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "big.jsonl"
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated) as caught, files.signals_cleanup(), files.atomic_open(target) as handle:
        handle.write("partial")
        assert len(_hidden(tmp_path)) == 1
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10_000_000):  # the handler runs between bytecodes
            pass
    assert caught.value.exit_code == 143
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) == before  # the previous handler is back


def test_a_link_is_written_through_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    files.atomic_write_text(files.check_output_file(tmp_path / "link.json"), "new")
    assert (tmp_path / "link.json").is_symlink() and (tmp_path / "real.json").read_text() == "new"


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_swap_into_place_replaces_the_old_output_and_leaves_no_backup(tmp_path: Path, kind: str) -> None:
    target, staging = tmp_path / "out", tmp_path / ".out.staging"
    if kind == "folder":
        target.mkdir()
        (target / "old.txt").write_text("old")
        staging.mkdir()
        (staging / "new.txt").write_text("new")
    else:
        target.write_text("old")
        staging.write_text("new")
    files.swap_into_place(staging, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (target / "new.txt" if kind == "folder" else target).read_text() == "new"
