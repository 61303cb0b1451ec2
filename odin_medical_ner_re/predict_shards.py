"""Extraction at corpus scale: a trained model's predictions for sharded notes, one output shard per input.

A corpus of millions of notes is cut into files (shards) by whoever stored it; a run over
it takes hours and will be stopped, killed or preempted. So the unit of work and of
resumption is the shard:

* each input file (JSONL/JSON documents or parquet rows with ``id`` and ``text``, such as
  the Hub layout's) gives ``<output>/<stem>.jsonl`` of predicted documents, written into a
  hidden temporary beside it and renamed at the end: a shard is on disk whole or not at all;
* a shard whose output exists is never redone; a worker killed mid-shard leaves only its
  hidden temporary, which the next run removes before doing that shard again, whole;
* ``manifest.json`` (rewritten atomically after every shard) records the model, each shard's
  input size, its notes, seconds and worker, and notes/s per worker (the figure that sizes
  a cluster run);
* one lock file keeps two runs from writing the same folder at once.

Shards are spread over ``num_workers`` local processes (each loads the model once) or over the
workers of a Ray cluster (:mod:`.engines`); the shard function is the same everywhere.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .errors import UserInputError
from .files import atomic_write_text, prepare_output_dir, temporary_path
from .inference import check_model_dir
from .schema import Document, iter_raw_documents

MANIFEST = "manifest.json"
LOCK = ".predict.lock"
#: Input kinds by suffix: JSON documents, or parquet rows read by column.
SUFFIXES: tuple[str, ...] = (".jsonl", ".json", ".parquet")
#: Notes decoded and written per step: small enough that a killed worker loses little, big
#: enough for the decoder's batches.
DEFAULT_BATCH_SIZE = 16


@dataclass(frozen=True)
class Shard:
    """One input file and the name of its output file in the output folder."""

    source: str
    output: str
    input_bytes: int


@dataclass
class ShardResult:
    """What one finished shard records in the manifest."""

    input: str
    input_bytes: int
    output: str
    documents: int
    seconds: float | None
    worker: str

    @property
    def notes_per_s(self) -> float | None:
        return self.documents / self.seconds if self.seconds else None


@dataclass
class RunSummary:
    """Shards done by this run, shards found finished, and the folder."""

    folder: Path
    done: list[ShardResult]
    skipped: list[ShardResult]

    def worker_rates(self) -> dict[str, dict[str, float]]:
        return worker_rates(self.done)


# --------------------------------------------------------------------------- planning


def plan_shards(inputs: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str]) -> list[Shard]:
    """One shard per input file, checked before any model is loaded.

    An output may never be an input: the output folder may hold no input, and two inputs
    with the same stem (which would write the same output file) are refused.
    """
    if not inputs:
        raise UserInputError("no input file given")
    folder = Path(os.path.abspath(output))
    if folder.exists() and not folder.is_dir():
        raise UserInputError(f"output {output} exists and is not a folder")
    shards: list[Shard] = []
    seen: dict[str, str] = {}
    for raw in inputs:
        source = Path(raw)
        if not source.is_file():
            kind = "is a folder; give its files" if source.is_dir() else "no such file"
            raise UserInputError(f"input {source}: {kind}")
        if source.suffix not in SUFFIXES:
            raise UserInputError(
                f"input {source}: unknown kind {source.suffix!r}; valid: {', '.join(SUFFIXES)}"
            )
        resolved = source.resolve()
        if resolved.parent == folder.resolve() or folder.resolve() in resolved.parents:
            raise UserInputError(
                f"input {source} lies in the output folder {output}; an output may never be an input: "
                "choose another output folder"
            )
        name = f"{source.stem}.jsonl"
        if name in seen:
            raise UserInputError(
                f"inputs {seen[name]} and {source} would both write {name}; rename one of them"
            )
        seen[name] = str(source)
        shards.append(Shard(str(source), name, source.stat().st_size))
    return shards


# --------------------------------------------------------------------------- reading


def read_documents(path: str | os.PathLike[str], batch_size: int) -> Iterator[list[Document]]:
    """The notes of one input in batches; only ``id`` and ``text`` matter (gold annotations are ignored)."""
    source = Path(path)
    if source.suffix == ".parquet":
        yield from _parquet_batches(source, batch_size)
        return
    batch: list[Document] = []
    for index, (location, raw) in enumerate(iter_raw_documents(source)):
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
            raise UserInputError(f"{location}: expected a document with a string field 'text'")
        batch.append(Document(id=str(raw.get("id", f"{source.stem}-{index}")), text=raw["text"]))
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _parquet_batches(source: Path, batch_size: int) -> Iterator[list[Document]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as err:
        raise UserInputError(f"{source}: not a readable parquet file ({err})") from None
    names = handle.schema_arrow.names
    if "text" not in names:
        raise UserInputError(f"{source}: no 'text' column (columns: {', '.join(names)})")
    columns = ["id", "text"] if "id" in names else ["text"]
    row = 0
    for table in handle.iter_batches(batch_size=batch_size, columns=columns):
        texts = table.column("text").to_pylist()
        ids = table.column("id").to_pylist() if "id" in columns else [None] * len(texts)
        batch = []
        for doc_id, text in zip(ids, texts, strict=True):
            if not isinstance(text, str):
                raise UserInputError(f"{source}: row {row}: 'text' is {text!r}, not a string")
            batch.append(
                Document(id=str(doc_id) if doc_id is not None else f"{source.stem}-{row}", text=text)
            )
            row += 1
        yield batch


def count_notes(path: str | os.PathLike[str]) -> int | None:
    """Notes in one input without decoding it (parquet metadata; non-blank lines of JSONL), for the bar."""
    source = Path(path)
    try:
        if source.suffix == ".parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(source).metadata.num_rows)
        if source.suffix == ".jsonl":
            with open(source, "rb") as handle:
                return sum(1 for line in handle if line.strip())
    except Exception:  # noqa: BLE001 - only the progress bar's total: an unreadable file fails later, named
        return None
    return None


# --------------------------------------------------------------------------- one shard


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def predict_shard(
    model: Any,
    tokenizer: Any,
    shard: Shard,
    folder: str | os.PathLike[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> ShardResult:
    """Decode one input file into ``folder/shard.output``, written whole or not at all."""
    from .inference import predict

    started = time.perf_counter()
    documents = 0
    with temporary_path(Path(folder) / shard.output) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for batch in read_documents(shard.source, batch_size):
            predictions, _ = predict(model, tokenizer, batch, batch_size=batch_size)
            for doc in predictions:
                handle.write(json.dumps(doc.to_dict(), ensure_ascii=False))
                handle.write("\n")
            documents += len(batch)
            if on_batch is not None:
                on_batch(len(batch))
    return ShardResult(
        shard.source, shard.input_bytes, shard.output, documents, time.perf_counter() - started, worker_name()
    )


# --------------------------------------------------------------------------- the output folder


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock file: a second run on the same folder stops with one line."""
    handle = open(folder / LOCK, "a")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserInputError(
                f"another predict run is writing to {folder}; wait for it or choose another output folder"
            ) from None
        yield
    finally:
        handle.close()


def remove_stale_temporaries(folder: Path, shards: Iterable[Shard]) -> list[Path]:
    """Hidden temporaries of shards that a killed run left behind (the lock says no run owns them)."""
    removed = []
    for shard in shards:
        for stale in folder.glob(f".{shard.output}.*.tmp"):
            stale.unlink(missing_ok=True)
            removed.append(stale)
    return removed


def read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserInputError(f"{path}: unreadable manifest ({err}); remove it or pass --overwrite") from None
    if not isinstance(data, dict) or not isinstance(data.get("shards"), list):
        raise UserInputError(
            f"{path}: not a predict manifest; choose another output folder or pass --overwrite"
        )
    return data


def write_manifest(folder: Path, model: str, results: Iterable[ShardResult]) -> None:
    ordered = sorted(results, key=lambda r: r.output)
    payload = {
        "tool": f"odin-ner-re predict {__version__}",
        "model": model,
        "shards": [{**asdict(r), "notes_per_s": _rounded(r.notes_per_s)} for r in ordered],
        "workers": worker_rates(ordered),
    }
    atomic_write_text(folder / MANIFEST, json.dumps(payload, indent=1) + "\n")


def worker_rates(results: Iterable[ShardResult]) -> dict[str, dict[str, float]]:
    """Notes, busy seconds and notes/s per worker, over the shards it timed."""
    totals: dict[str, list[float]] = {}
    for result in results:
        if result.seconds:
            entry = totals.setdefault(result.worker, [0, 0.0])
            entry[0] += result.documents
            entry[1] += result.seconds
    return {
        worker: {"documents": int(docs), "seconds": round(secs, 3), "notes_per_s": _rounded(docs / secs)}
        for worker, (docs, secs) in sorted(totals.items())
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def finished_shards(
    folder: Path, shards: Sequence[Shard], model: str, overwrite: bool
) -> dict[str, ShardResult]:
    """Shards already on disk (never redone), after checking the folder belongs to this job.

    With ``overwrite`` the outputs of the planned shards and the manifest are deleted instead.
    """
    manifest = read_manifest(folder)
    present = [s for s in shards if (folder / s.output).is_file()]
    if overwrite:
        for shard in present:
            (folder / shard.output).unlink()
        (folder / MANIFEST).unlink(missing_ok=True)
        return {}
    if manifest is None:
        if present:
            raise UserInputError(
                f"output folder {folder} holds {present[0].output} but no {MANIFEST}: not a predict output; "
                "choose another folder or pass --overwrite"
            )
        return {}
    if manifest.get("model") != model:
        raise UserInputError(
            f"output folder {folder} holds predictions of the model {manifest.get('model')}, not {model}; "
            "choose another folder or pass --overwrite"
        )
    recorded = {entry.get("output"): entry for entry in manifest["shards"] if isinstance(entry, dict)}
    finished: dict[str, ShardResult] = {}
    for shard in present:
        entry = recorded.get(shard.output)
        if entry is None:  # renamed into place, killed before the manifest was rewritten: complete
            finished[shard.output] = ShardResult(
                shard.source, shard.input_bytes, shard.output, _count_lines(folder / shard.output), None, ""
            )
            continue
        if entry.get("input_bytes") != shard.input_bytes:
            raise UserInputError(
                f"input {shard.source} changed since {folder / shard.output} was written from it "
                f"({entry.get('input_bytes')} bytes then, {shard.input_bytes} now); remove that output "
                "or pass --overwrite"
            )
        fields = {name: entry.get(name) for name in ("documents", "seconds", "worker")}
        finished[shard.output] = ShardResult(
            shard.source,
            shard.input_bytes,
            shard.output,
            int(fields["documents"] or 0),
            fields["seconds"],
            str(fields["worker"] or ""),
        )
    return finished


# --------------------------------------------------------------------------- the run


def predict_corpus(
    model_dir: str | os.PathLike[str],
    inputs: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_workers: int = 1,
    threads: int | None = None,
    overwrite: bool = False,
    show_progress: bool = True,
    runner: Callable[..., Iterator[ShardResult]] | None = None,
) -> RunSummary:
    """Predict every shard of ``inputs`` not yet in ``output``; return what was done and skipped.

    ``runner(model, todo, folder, batch_size=..., num_workers=..., threads=..., progress=...)``
    yields a :class:`ShardResult` as each shard finishes (default: local processes); the
    manifest is rewritten after each one, so a killed run loses at most the shards in flight.
    """
    for name, value in (("batch size", batch_size), ("number of workers", num_workers)):
        if value < 1:
            raise UserInputError(f"{name} must be a positive integer, got {value}")
    model = check_model_dir(model_dir)
    shards = plan_shards(inputs, output)
    folder = prepare_output_dir(output)
    with folder_lock(folder):
        remove_stale_temporaries(folder, shards)
        finished = finished_shards(folder, shards, model, overwrite)
        todo = [s for s in shards if s.output not in finished]
        results = dict(finished)
        done: list[ShardResult] = []
        if finished and todo:
            write_manifest(folder, model, results.values())
        bar = _progress_bar(todo, show_progress)
        try:
            run = runner or run_local
            for result in run(
                model,
                todo,
                folder,
                batch_size=batch_size,
                num_workers=num_workers,
                threads=threads,
                progress=bar.update,
            ):
                results[result.output] = result
                done.append(result)
                write_manifest(folder, model, results.values())
        finally:
            bar.close()
            remove_stale_temporaries(folder, todo)  # a worker stopped by an error or signal
        write_manifest(folder, model, results.values())
    return RunSummary(folder, done, list(finished.values()))


def _progress_bar(todo: Sequence[Shard], show: bool) -> Any:
    from tqdm.auto import tqdm

    counts = [count_notes(s.source) for s in todo]
    total = None if None in counts else sum(c or 0 for c in counts)
    return tqdm(total=total, unit="note", desc="predict", disable=not show or not todo, smoothing=0.1)


# --------------------------------------------------------------------------- local workers


def run_local(
    model: str,
    todo: Sequence[Shard],
    folder: Path,
    *,
    batch_size: int,
    num_workers: int,
    threads: int | None,
    progress: Callable[[int], Any],
) -> Iterator[ShardResult]:
    """Shards in this process (one worker) or in a pool of processes that each load the model once."""
    if not todo:
        return
    workers = min(num_workers, len(todo))
    per_worker = threads or max(1, (os.cpu_count() or 1) // workers)
    if workers == 1:
        import torch

        previous = torch.get_num_threads()
        _load_worker_model(model, per_worker)
        try:
            for shard in todo:
                yield predict_shard(*_WORKER_MODEL, shard, folder, batch_size=batch_size, on_batch=progress)
        finally:  # a library caller gets its thread count back and the model's memory freed
            _WORKER_MODEL.clear()
            torch.set_num_threads(previous)
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # fork would copy torch's threads and locks
    with context.Pool(workers, initializer=_load_worker_model, initargs=(model, per_worker)) as pool:
        jobs = [(shard, str(folder), batch_size) for shard in todo]
        for result in pool.imap_unordered(_pool_shard, jobs):
            progress(result.documents)
            yield result


_WORKER_MODEL: list[Any] = []


def _load_worker_model(model: str, threads: int) -> None:
    import torch

    from .inference import load_model

    torch.set_num_threads(threads)
    _WORKER_MODEL[:] = load_model(model)


def _pool_shard(job: tuple[Shard, str, int]) -> ShardResult:
    from .files import signals_cleanup

    shard, folder, batch_size = job
    with signals_cleanup():  # a terminated pool worker removes its temporary
        return predict_shard(*_WORKER_MODEL, shard, folder, batch_size=batch_size)
