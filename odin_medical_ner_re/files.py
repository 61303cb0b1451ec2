"""Writing outputs safely: whole files and whole folders appear at once, or not at all.

Every command that writes (datasets, reports, review sheets, Hub staging folders, training
reports) goes through these helpers, so that

* a crash, a bad input, a full disk, Ctrl-C or a ``kill`` (SIGTERM, the default of ``timeout``,
  docker and systemd) never leaves a half-written file or a hidden temporary behind, and a
  previous version stays intact until its replacement is complete;
* an output that is one of the command's inputs is refused before any work (writing the report
  over the dataset it scored loses the dataset);
* a file a person filled in (a review sheet with verdicts) is only replaced with ``--overwrite``;
* the output folder is checked (exists, writable, some room) before the work, not after it;
* files are created with the mode the umask asks for, like any other tool's output
  (``tempfile.mkstemp`` would leave them 0600, unreadable to colleagues in a shared folder).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import Terminated, UserInputError

#: Longest output file name: the temporary beside it adds a dot and a random suffix (255 in all).
MAX_NAME_BYTES = 230
#: Below this much free space an output folder is refused before the work starts.
MIN_FREE_BYTES = 1 << 20
#: Errors of the file system (not of the program) that become one ``error:`` line.
_STORAGE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EFBIG,
        errno.EIO,
        errno.ENAMETOOLONG,
    }
)
#: Temporary files and folders being written now; whatever a signal interrupted is removed
#: when the command ends (:func:`signals_cleanup`).
_LIVE: set[str] = set()


# --------------------------------------------------------------------------- modes


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open(path, "w")`` would give a new file: 0666 less the umask."""
    return 0o666 & ~_umask()


def dir_mode() -> int:
    """The mode ``mkdir`` would give a new folder: 0777 less the umask."""
    return 0o777 & ~_umask()


# --------------------------------------------------------------------------- checks before the work


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` name the same file (links and ``..`` resolved)."""
    first, second = Path(a), Path(b)
    with contextlib.suppress(OSError):
        if first.exists() and second.exists():
            return os.path.samefile(first, second)
    return first.resolve() == second.resolve()


def refuse_inputs(
    output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None], what: str = "output"
) -> None:
    """Refuse to write ``output`` over one of the command's inputs (it would be lost)."""
    for source in inputs:
        if source is not None and str(source) and same_file(output, source):
            raise UserInputError(
                f"{what} {output} is the input {source}; writing it would destroy the input: "
                "choose another output path"
            )


def refuse_replacing_inputs(
    folder: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None]
) -> None:
    """Refuse to replace ``folder`` when it is, or holds, one of the inputs (they would be deleted)."""
    target = Path(folder).resolve()
    for source in inputs:
        if source is None or not str(source) or not Path(source).exists():
            continue
        resolved = Path(source).resolve()
        if resolved == target or target in resolved.parents:
            raise UserInputError(
                f"output folder {folder} holds the input {source}; replacing it would destroy the input: "
                "choose another output folder"
            )


def check_room(folder: Path, need_bytes: int = MIN_FREE_BYTES) -> None:
    """Refuse a folder on a file system without ``need_bytes`` free (a full disk fails late otherwise)."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # some file systems cannot tell; the write itself still reports a full disk
    need = max(need_bytes, MIN_FREE_BYTES)
    if free < need:
        raise UserInputError(
            f"output folder {folder} has {human_bytes(free)} free, about {human_bytes(need)} is needed"
        )


def _probe_writable(folder: Path) -> None:
    """Creating (and removing) a file is the only test that also catches read-only file systems
    and permissions that ``os.access`` misjudges."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise UserInputError(f"output directory {folder} is not writable ({err.strerror or err})") from None


def check_output_file(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    need_bytes: int = 0,
    what: str = "output",
) -> Path:
    """Everything that can be known about writing ``path`` before the work: return it.

    Not a folder, its folder exists and is writable with room, and it is none of ``inputs``.
    """
    target = Path(path)
    if target.is_dir():
        raise UserInputError(f"{what} {target} is an existing directory; give a file path")
    if target.is_symlink() and not target.exists():
        raise UserInputError(f"{what} {target} is a link to nothing ({os.readlink(target)})")
    if target.exists() and not target.is_file():  # /dev/stdout, a FIFO: a rename would replace the node
        raise UserInputError(f"{what} {target} is not a regular file; give a file path")
    if len(os.fsencode(target.name)) > MAX_NAME_BYTES:
        raise UserInputError(f"{what} {target}: file name longer than {MAX_NAME_BYTES} bytes")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise UserInputError(f"output directory {parent} does not exist")
    if not parent.is_dir():
        raise UserInputError(f"{what} {target}: {parent} is not a directory")
    refuse_inputs(target, inputs, what)
    _probe_writable(parent)
    check_room(parent, need_bytes)
    return target


def check_output_parent(path: str | os.PathLike[str], need_bytes: int = 0) -> Path:
    """For an output folder that will be created or replaced: its parent exists, is writable, has room."""
    target = Path(os.path.abspath(path))
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # parents are created: the first existing one must be writable
    if not parent.is_dir():
        raise UserInputError(f"output {target}: {parent} is not a directory")
    _probe_writable(parent)
    check_room(parent, need_bytes)
    return target


def _output_folder(
    path: str | os.PathLike[str], writes: Iterable[str], inputs: Iterable[str | os.PathLike[str] | None]
) -> Path:
    """``path`` as a folder that is not a file and none of whose ``writes`` is one of ``inputs``."""
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise UserInputError(f"output {directory} exists and is not a directory")
    sources = [s for s in inputs if s is not None]
    for name in writes:
        refuse_inputs(directory / name, sources)
    return directory


def check_output_dir(
    path: str | os.PathLike[str],
    *,
    writes: Iterable[str] = (),
    inputs: Iterable[str | os.PathLike[str] | None] = (),
) -> Path:
    """An output folder checked before the work, without creating it (a failed run leaves nothing).

    ``writes`` names the files the command will put there: none may be one of ``inputs``.
    """
    directory = _output_folder(path, writes, inputs)
    if directory.is_dir():
        _probe_writable(directory)
        check_room(directory)
    else:
        check_output_parent(directory)
    return directory


def prepare_output_dir(
    path: str | os.PathLike[str],
    *,
    writes: Iterable[str] = (),
    inputs: Iterable[str | os.PathLike[str] | None] = (),
) -> Path:
    """Create the output folder (parents included) or explain why it cannot be used.

    ``writes`` names the files the command will put there: none may be one of ``inputs``.
    """
    directory = _output_folder(path, writes, inputs)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserInputError(f"cannot create output directory {directory}: {err.strerror}") from None
    if not os.access(directory, os.W_OK):
        raise UserInputError(f"output directory {directory} is not writable")
    _probe_writable(directory)
    check_room(directory)
    return directory


def refuse_filled_sheet(path: str | os.PathLike[str], overwrite: bool, column: str = "verdict") -> None:
    """A review sheet whose ``column`` holds anything is a person's work: replaced only with ``--overwrite``."""
    sheet = Path(path)
    if overwrite or not sheet.is_file():
        return
    try:
        text = sheet.read_bytes().decode("utf-8-sig", errors="replace")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except (OSError, csv.Error):
        rows = [{column: "?"}]  # unreadable: treat as filled, never replace it silently
    filled = sum(1 for row in rows if (row.get(column) or "").strip())
    if filled:
        raise UserInputError(
            f"{sheet} holds {filled} filled {column}(s); pass --overwrite to replace it, "
            "or choose another output folder"
        )


# --------------------------------------------------------------------------- writing


def _storage_error(target: Path, err: OSError) -> UserInputError | None:
    """A full disk, a read-only folder...: the user's to fix, so one line, not a traceback."""
    if err.errno in _STORAGE_ERRNOS:
        return UserInputError(f"cannot write {target}: {err.strerror or err}")
    return None


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@contextlib.contextmanager
def temporary_path(target: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """A hidden temporary file beside ``target``, renamed onto it when the block succeeds.

    For writers that need a file name (``savefig``, ``to_parquet``). On any error, Ctrl-C or
    SIGTERM the temporary is removed and ``target`` is left as it was.
    """
    final = Path(target)
    if final.is_symlink():  # write through the link: replacing it would leave its target stale
        final = final.resolve()
    parent = final.parent if str(final.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=suffix, dir=parent)
    except OSError as err:
        raise _storage_error(final, err) or err from None
    _LIVE.add(name)
    try:
        os.fchmod(fd, file_mode())
        os.close(fd)
        yield Path(name)
        os.replace(name, final)
    except OSError as err:
        _remove(name)
        problem = _storage_error(final, err)
        if problem is None:
            raise
        raise problem from None
    except BaseException:
        _remove(name)
        raise
    finally:
        _LIVE.discard(name)


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """``open(target, mode)`` that writes a temporary file and renames it into place at the end."""
    binary = "b" in mode
    with temporary_path(target) as tmp, open(tmp, mode, encoding=None if binary else "utf-8") as handle:
        yield handle


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder + rename."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def staging_dir(parent: str | os.PathLike[str], name: str) -> Iterator[Path]:
    """A hidden folder in ``parent`` to build an output in; removed on any error or signal.

    Created with the umask's mode (``mkdtemp`` gives 0700, which would survive the final rename).
    """
    try:
        folder = tempfile.mkdtemp(prefix=f".{name}.", dir=parent)
    except OSError as err:
        raise _storage_error(Path(parent) / name, err) or err from None
    _LIVE.add(folder)
    try:
        os.chmod(folder, dir_mode())
        yield Path(folder)
    except OSError as err:
        problem = _storage_error(Path(parent) / name, err)
        if problem is None:
            raise
        raise problem from None
    finally:
        _remove(folder)
        _LIVE.discard(folder)


def swap_into_place(staging: Path, target: Path) -> None:
    """Rename the finished ``staging`` folder (or file) to ``target``; an old ``target`` goes only once
    the new one is in."""
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
    _remove(str(backup))  # a folder or a file


# --------------------------------------------------------------------------- signals


def remove_temporaries() -> None:
    """Remove every temporary still being written (after a signal, or at exit)."""
    for name in list(_LIVE):
        _remove(name)
        _LIVE.discard(name)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def signals_cleanup(signums: Iterable[int] = (signal.SIGTERM, signal.SIGHUP)) -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into :class:`~.errors.Terminated` while the block runs.

    Python ends a process on SIGTERM without unwinding, so every ``finally`` that removes a
    temporary is skipped; raising instead lets the writers above clean up (SIGINT already
    raises ``KeyboardInterrupt``). Outside the main thread signals cannot be handled: no-op.
    """
    previous: dict[int, Callable[..., Any] | int | None] = {}
    try:
        for signum in signums:
            previous[signum] = signal.signal(signum, _raise_terminated)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        remove_temporaries()


# --------------------------------------------------------------------------- display


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
