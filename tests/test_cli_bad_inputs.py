"""Every command against a catalogue of bad inputs and faults: the door-by-input matrix.

Each row runs one command (in-process, through ``cli.main``) in a folder of small input
files and asserts what a user must see: the exit code (2 for a user error, 1 for a network
shortfall), exactly one ``error:`` line, no traceback, and the folder byte-identical
afterwards: inputs unchanged, no output half-written, no temporary file, no empty folder.
The last tests kill a running command with SIGTERM and SIGINT in a subprocess.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from odin_medical_ner_re import files
from odin_medical_ner_re.cli import main
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.schema import save_documents

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
REPO = Path(__file__).resolve().parents[1]
ANSWER = {  # a note the fixture knowledge base accepts (see test_llm_generate.DIABETES)
    "text": "58-year-old man with polyuria and polydipsia from type 2 diabetes. Start metformin for T2DM.",
    "entities": [
        {"text": "polyuria", "type": "Symptom"},
        {"text": "polydipsia", "type": "Symptom"},
        {"text": "type 2 diabetes", "type": "Disease"},
        {"text": "metformin", "type": "Drug"},
        {"text": "T2DM", "type": "Disease"},
    ],
    "relations": [
        {"type": "causes", "head": "type 2 diabetes", "tail": "polyuria"},
        {"type": "treats", "head": "metformin", "tail": "T2DM"},
    ],
}


# --------------------------------------------------------------------------- the input folder


def _docs(n: int = 6) -> list[Any]:
    return list(MedicalTextGenerator(seed=0).iter_documents(n))


def _jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _make_inputs(root: Path) -> None:
    """Small files, each wrong in one way (good.jsonl is right)."""
    docs = _docs()
    save_documents(docs, root / "good.jsonl")
    good = [d.to_dict() for d in docs]
    (root / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + (root / "good.jsonl").read_bytes())
    (root / "empty.jsonl").write_text("")
    (root / "blank.json").write_text("[]\n")
    (root / "cp1252.jsonl").write_bytes(
        (root / "good.jsonl").read_bytes()
        + b'{"id": "x", "text": "caf\xe9", "entities": [], "relations": []}\n'
    )
    (root / "notjson.jsonl").write_text("this is not json\n")
    mismatch = json.loads(json.dumps(good))
    mismatch[1]["entities"][0]["text"] = "something else"
    (root / "mismatch.jsonl").write_text(_jsonl(mismatch))
    dup = json.loads(json.dumps(good))
    dup[2]["id"] = dup[0]["id"]
    (root / "dup.jsonl").write_text(_jsonl(dup))
    unknown = json.loads(json.dumps(good))
    unknown[0]["entities"][0]["type"] = "Medication"
    (root / "unknown_type.jsonl").write_text(_jsonl(unknown))
    (root / "out").mkdir()
    (root / "prev").mkdir()
    (root / "prev" / "report.json").write_bytes((root / "good.jsonl").read_bytes())
    (root / "afile").write_text("not a folder\n")
    (root / "good-link.jsonl").symlink_to(root / "good.jsonl")
    (root / "dangling.json").symlink_to(root / "nowhere" / "x.json")
    review = root / "review"
    review.mkdir()
    (review / "documents.jsonl").write_bytes((root / "good.jsonl").read_bytes())
    (review / "review.csv").write_text(
        "item,id,doc_id,type,text,verdict,comment\nentity,T1,d1,Drug,aspirin,correct,\n"
        "relation,R1,d1,treats,aspirin -> pain,,\n"
    )
    (root / "sheet-cp1252.csv").write_bytes(
        b"item,id,doc_id,type,text,verdict,comment\nentity,T1,d1,Drug,caf\xe9,correct,\n"
    )
    (root / "sheet-bad-verdict.csv").write_text(
        "item,id,doc_id,type,text,verdict,comment\nentity,T1,d1,Drug,x,maybe-ish,\n"
    )
    for name, count in (("bc5cdr-empty", 0), ("bc5cdr-cut", 2)):
        folder = root / name / "bc5cdr"
        folder.mkdir(parents=True)
        (folder / "CDR_TestSet.PubTator.txt").write_text(_pubtator(count))
    cp = root / "bc5cdr-cp1252" / "bc5cdr"
    cp.mkdir(parents=True)
    (cp / "CDR_TestSet.PubTator.txt").write_bytes(b"1|t|Caf\xe9 title.\n1|a|Abstract.\n\n")


def _pubtator(count: int) -> str:
    lines = []
    for n in range(count):
        pmid = str(1000 + n)
        lines += [
            f"{pmid}|t|Aspirin case.",
            f"{pmid}|a|Headache after aspirin.",
            f"{pmid}\t0\t7\tAspirin\tChemical\tD001241",
            "",
        ]
    return "\n".join(lines) + "\n"


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under ``root``, links as their target."""
    tree: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            tree[key] = os.readlink(path).encode()
        elif path.is_dir():
            tree[key] = None
        else:
            tree[key] = path.read_bytes()
    return tree


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pristine")
    _make_inputs(root)
    return root


@pytest.fixture
def workspace(pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(pristine, root, symlinks=True)
    for name, target in (
        ("good-link.jsonl", root / "good.jsonl"),
        ("dangling.json", root / "nowhere" / "x.json"),
    ):
        (root / name).unlink()
        (root / name).symlink_to(target)
    monkeypatch.chdir(root)
    monkeypatch.setenv("ODIN_KNOWLEDGE_DIR", str(FIXTURE_KB))
    monkeypatch.delenv("ODIN_BENCHMARKS_DIR", raising=False)
    return root


# --------------------------------------------------------------------------- faults


def _no_room(monkeypatch: pytest.MonkeyPatch) -> None:
    usage = shutil.disk_usage(".")
    monkeypatch.setattr(files.shutil, "disk_usage", lambda path: usage._replace(free=4096))


def _disk_full_on_write(monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.tempfile, "mkstemp", full)


@dataclass
class Case:
    name: str
    argv: list[str]
    message: str
    code: int = 2
    fault: Callable[[pytest.MonkeyPatch], None] | None = None
    marks: tuple[Any, ...] = field(default=())


EV = ["evaluate", "--predictions", "good.jsonl", "--references", "good.jsonl"]
CASES: list[Case] = [
    # stats
    Case("stats-empty", ["stats", "empty.jsonl"], "no documents"),
    Case("stats-empty-array", ["stats", "blank.json"], "no documents"),
    Case("stats-cp1252", ["stats", "cp1252.jsonl"], "line 7: not valid UTF-8 (byte 0xe9"),
    Case("stats-not-json", ["stats", "notjson.jsonl"], "line 1"),
    Case("stats-span-text", ["stats", "mismatch.jsonl"], "!= text["),
    Case("stats-duplicate-id", ["stats", "dup.jsonl"], "duplicate document id"),
    Case("stats-unknown-type", ["stats", "unknown_type.jsonl"], "unknown type 'Medication'"),
    Case("stats-folder", ["stats", "out"], "is a directory"),
    Case("stats-missing", ["stats", "nope.jsonl"], "no such file"),
    # evaluate
    Case("evaluate-output-is-input", [*EV, "--output", "good.jsonl"], "is the input"),
    Case("evaluate-output-is-input-via-link", [*EV, "--output", "good-link.jsonl"], "is the input"),
    Case(
        "evaluate-output-is-input-via-dots",
        [*EV, "--output", "out/../good.jsonl"],
        "is the input",
    ),
    Case(
        "evaluate-cp1252",
        ["evaluate", "--predictions", "cp1252.jsonl", "--references", "good.jsonl"],
        "not valid UTF-8",
    ),
    Case(
        "evaluate-span-text",
        ["evaluate", "--predictions", "good.jsonl", "--references", "mismatch.jsonl"],
        "!= text[",
    ),
    Case(
        "evaluate-duplicate-id",
        ["evaluate", "--predictions", "dup.jsonl", "--references", "dup.jsonl"],
        "duplicate document id",
    ),
    Case(
        "evaluate-unknown-type",
        ["evaluate", "--predictions", "unknown_type.jsonl", "--references", "good.jsonl"],
        "unknown type 'Medication'",
    ),
    Case("evaluate-output-is-a-device", [*EV, "--output", "/dev/null"], "not a regular file"),
    Case(
        "evaluate-output-name-too-long",
        [*EV, "--output", "out/" + "n" * 250 + ".json"],
        "longer than 230 bytes",
    ),
    Case("evaluate-output-dangling-link", [*EV, "--output", "dangling.json"], "link to nothing"),
    Case("evaluate-no-output-folder", [*EV, "--output", "nowhere/r.json"], "does not exist"),
    Case("evaluate-output-under-a-file", [*EV, "--output", "afile/r.json"], "not a directory"),
    Case("evaluate-no-room", [*EV, "--output", "out/r.json"], "free", fault=_no_room),
    Case(
        "evaluate-disk-full",
        [*EV, "--output", "out/r.json"],
        "No space left on device",
        fault=_disk_full_on_write,
    ),
    # report
    Case("report-empty", ["report", "empty.jsonl", "--output", "out/rep"], "no documents"),
    Case("report-cp1252", ["report", "cp1252.jsonl", "--output", "out/rep"], "not valid UTF-8"),
    Case("report-output-is-a-file", ["report", "good.jsonl", "--output", "afile"], "is not a directory"),
    Case("report-over-its-input", ["report", "prev/report.json", "--output", "prev"], "is the input"),
    Case("report-no-room", ["report", "good.jsonl", "--output", "out/rep"], "free", fault=_no_room),
    # augment
    Case(
        "augment-output-is-input", ["augment", "good.jsonl", "good.jsonl", "--no-originals"], "is the input"
    ),
    Case("augment-output-is-input-via-link", ["augment", "good.jsonl", "good-link.jsonl"], "is the input"),
    Case(
        "augment-huge-factor",
        ["augment", "good.jsonl", "out/a.jsonl", "--factor", "1000000000"],
        "at most 100",
    ),
    Case("augment-zero-factor", ["augment", "good.jsonl", "out/a.jsonl", "--factor", "0"], "at least 1"),
    Case(
        "augment-unseen-share",
        ["augment", "good.jsonl", "out/a.jsonl", "--unseen-share", "1.5"],
        "--unseen-share must be in (0, 1), got 1.5",
    ),
    Case("augment-invalid-document", ["augment", "mismatch.jsonl", "out/a.jsonl"], "is invalid"),
    Case("augment-empty", ["augment", "empty.jsonl", "out/a.jsonl"], "no documents"),
    Case("augment-cp1252", ["augment", "cp1252.jsonl", "out/a.jsonl"], "not valid UTF-8"),
    Case("augment-no-output-folder", ["augment", "good.jsonl", "nowhere/a.jsonl"], "does not exist"),
    Case("augment-folder-exists", ["augment", "good.jsonl", "review"], "--overwrite"),
    Case(
        "augment-replacing-the-folder-of-its-input",
        ["augment", "review/documents.jsonl", "review", "--overwrite"],
        "holds the input",
    ),
    Case(
        "augment-disk-full",
        ["augment", "good.jsonl", "out/a.jsonl"],
        "No space left",
        fault=_disk_full_on_write,
    ),
    # review-sample / review-score
    Case(
        "review-sample-over-its-input",
        ["review-sample", "review/documents.jsonl", "--output", "review"],
        "is the input",
    ),
    Case("review-sample-filled-sheet", ["review-sample", "good.jsonl", "--output", "review"], "--overwrite"),
    Case("review-sample-cp1252", ["review-sample", "cp1252.jsonl", "--output", "out/rev"], "not valid UTF-8"),
    Case(
        "review-sample-output-is-a-file",
        ["review-sample", "good.jsonl", "--output", "afile"],
        "not a directory",
    ),
    Case(
        "review-score-json-over-sheet",
        ["review-score", "review/review.csv", "--json", "review/review.csv"],
        "is the input",
    ),
    Case(
        "review-score-json-over-sheet-folder",
        ["review-score", "review", "--json", "review/review.csv"],
        "is the input",
    ),
    Case("review-score-cp1252", ["review-score", "sheet-cp1252.csv"], "line 2: not valid UTF-8"),
    Case("review-score-bad-verdict", ["review-score", "sheet-bad-verdict.csv"], "unknown verdict"),
    Case("review-score-missing", ["review-score", "nope.csv"], "no such file"),
    # generate
    Case(
        "generate-huge",
        ["generate", "--num-samples", "99999999999999999999", "--output", "out/g.jsonl"],
        "at most",
    ),
    Case(
        "generate-no-output-folder",
        ["generate", "--num-samples", "3", "--output", "nowhere/g.jsonl"],
        "does not exist",
    ),
    Case(
        "generate-no-room",
        ["generate", "--num-samples", "3", "--output", "out/g.jsonl"],
        "free",
        fault=_no_room,
    ),
    Case(
        "generate-disk-full",
        ["generate", "--num-samples", "3", "--output", "out/g.jsonl", "--quiet"],
        "No space left",
        fault=_disk_full_on_write,
    ),
    # benchmark
    Case(
        "benchmark-empty-split",
        ["benchmark", "bc5cdr", "--baseline", "dictionary", "--data-dir", "bc5cdr-empty"],
        "holds no documents",
    ),
    Case(
        "benchmark-cut-split",
        ["benchmark", "bc5cdr", "--baseline", "dictionary", "--data-dir", "bc5cdr-cut"],
        "truncated",
    ),
    Case(
        "benchmark-empty-split-even-as-subset",
        ["benchmark", "bc5cdr", "--baseline", "dictionary", "--data-dir", "bc5cdr-empty", "--allow-subset"],
        "holds no documents",
    ),
    Case(
        "benchmark-cp1252",
        ["benchmark", "bc5cdr", "--baseline", "dictionary", "--data-dir", "bc5cdr-cp1252"],
        "not valid UTF-8",
    ),
    Case(
        "benchmark-no-output-folder",
        [
            "benchmark",
            "bc5cdr",
            "--baseline",
            "dictionary",
            "--data-dir",
            "bc5cdr-cut",
            "--output",
            "nowhere/b.json",
        ],
        "does not exist",
    ),
    # build
    Case(
        "build-output-under-a-file",
        ["build", "--config", "1k", "--output-dir", "afile/hub"],
        "not a directory",
    ),
    Case(
        "build-no-room",
        ["build", "--config", "1k", "--output-dir", "out/hub", "--num-train", "10"],
        "free",
        fault=_no_room,
    ),
    Case("build-huge", ["build", "--config", "1k", "--num-train", "1000000000000"], "at most 100,000,000"),
    # llm-generate (arguments; the network rows are below)
    Case(
        "llm-generate-huge-num",
        [
            "llm-generate",
            "--endpoint",
            "http://127.0.0.1:9",
            "--model",
            "m",
            "--num",
            "10000000",
            "--output",
            "out/l.jsonl",
        ],
        "at most 100,000",
    ),
    Case(
        "llm-generate-rejected-is-output",
        [
            "llm-generate",
            "--endpoint",
            "http://127.0.0.1:9",
            "--model",
            "m",
            "--num",
            "1",
            "--output",
            "out/l.jsonl",
            "--rejected",
            "out/l.jsonl",
        ],
        "is the input",
    ),
    Case(
        "llm-generate-output-is-a-folder",
        ["llm-generate", "--endpoint", "http://127.0.0.1:9", "--model", "m", "--num", "1", "--output", "out"],
        "existing directory",
    ),
]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def _assert_one_error(err: str, message: str) -> None:
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert message in errors[0], err


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_one_error_and_changes_nothing(
    case: Case, workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(workspace)
    if case.fault is not None:
        case.fault(monkeypatch)
    code, err = _run(case.argv, capsys)
    assert code == case.code, err
    _assert_one_error(err, case.message)
    assert _snapshot(workspace) == before


def test_the_same_inputs_done_right_work(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The fixes refuse only what is wrong: a BOM, --lenient and --overwrite are accepted."""
    assert _run(["stats", "bom.jsonl"], capsys)[0] == 0
    code, _ = _run(
        [*EV[:2], "mismatch.jsonl", "--references", "good.jsonl", "--lenient", "--output", "out/r.json"],
        capsys,
    )
    assert code == 0
    report = json.loads((workspace / "out" / "r.json").read_text())
    assert report["skipped"] == {"text_mismatch": 1}
    assert (
        _run(["review-sample", "good.jsonl", "--output", "review", "--overwrite", "--n", "2"], capsys)[0] == 0
    )
    assert "correct" not in (workspace / "review" / "review.csv").read_text().split("\n", 2)[1]
    assert [p.name for p in (workspace / "out").iterdir() if p.name.startswith(".")] == []


# --------------------------------------------------------------------------- the network


class _RawServer:
    """Answers each connection with the next scripted raw bytes (bad HTTP included), optionally trickled."""

    def __init__(self, answers: list[bytes], trickle: float = 0.0) -> None:
        self.answers, self.trickle = list(answers), trickle
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(
                next(
                    (
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    b"0",
                )
            )
            while len(body) < length:
                body += conn.recv(65536)
            answer = self.answers.pop(0) if self.answers else _http(500, b"{}")
            try:
                if self.trickle:
                    for byte in answer:
                        if self.stop.is_set():
                            return
                        conn.sendall(bytes([byte]))
                        time.sleep(self.trickle)
                else:
                    conn.sendall(answer)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def _http(status: int, body: bytes, length: int | None = None) -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body) if length is None else length}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


GOOD = _http(200, json.dumps({"choices": [{"message": {"content": json.dumps(ANSWER)}}]}).encode())
NETWORK = {
    "bad-status-line": [b"HTTP/9 what\r\n\r\n"],
    "short-body": [_http(200, b'{"choices": [', length=500)],
    "deeply-nested-json": [_http(200, b"[" * 200_000 + b"]" * 200_000)],
    "nested-json-in-content": [
        _http(200, json.dumps({"choices": [{"message": {"content": "[" * 100_000}}]}).encode())
    ],
    "garbage": [b"\x00\xff" * 100],
}


@pytest.fixture
def raw_server() -> Iterator[Callable[..., _RawServer]]:
    servers: list[_RawServer] = []

    def start(answers: list[bytes], trickle: float = 0.0) -> _RawServer:
        servers.append(_RawServer(answers, trickle))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _llm(url: str, *extra: str) -> list[str]:
    return [
        "llm-generate",
        "--endpoint",
        url,
        "--model",
        "m",
        "--output",
        "out/l.jsonl",
        "--max-attempts",
        "1",
        *extra,
    ]


@pytest.mark.parametrize("fault", list(NETWORK), ids=list(NETWORK))
def test_broken_server_answers_are_counted_not_tracebacks(
    fault: str, workspace: Path, raw_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = raw_server([GOOD, *NETWORK[fault]])
    code, err = _run(
        _llm(server.url, "--num", "2", "--max-attempts", "2", "--rejected", "out/r.jsonl"), capsys
    )
    assert code == 1, err
    _assert_one_error(err, "only 1 of 2")
    assert len((workspace / "out" / "l.jsonl").read_text().splitlines()) == 1  # the good note is kept
    assert len((workspace / "out" / "r.jsonl").read_text().splitlines()) == 1


def test_a_trickling_server_is_cut_off_at_the_timeout(
    workspace: Path, raw_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = raw_server([GOOD], trickle=0.05)  # ~25 s for the whole answer, a byte at a time
    started = time.monotonic()
    code, err = _run(_llm(server.url, "--num", "1", "--timeout", "1", "--rejected", "out/r.jsonl"), capsys)
    assert time.monotonic() - started < 5
    assert code == 1, err
    assert json.loads((workspace / "out" / "r.jsonl").read_text())["reason"] == "timeout"


def test_notes_accepted_before_an_interrupt_are_written(
    workspace: Path, raw_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from odin_medical_ner_re import llm_generate

    server = raw_server([GOOD, GOOD, GOOD, GOOD])
    real = llm_generate.ChatClient.complete
    calls = []

    def complete(self: Any, messages: Any, seed: Any = None) -> str:
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(self, messages, seed)

    monkeypatch.setattr(llm_generate.ChatClient, "complete", complete)
    code, err = _run(_llm(server.url, "--num", "5", "--max-attempts", "5"), capsys)
    assert code == 130
    _assert_one_error(err, "interrupted")
    assert len((workspace / "out" / "l.jsonl").read_text().splitlines()) == 3


@pytest.mark.parametrize("num_proc", ["1", "2"])
def test_a_missing_or_broken_knowledge_base_is_one_error_before_any_worker(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], num_proc: str
) -> None:
    """Found in the caller's process: no traceback re-raised by ``datasets`` from a generating worker."""
    build = ["build", "--config", "1k", "--num-proc", num_proc, "--cache-dir", str(workspace / "cache")]
    monkeypatch.setenv("ODIN_KNOWLEDGE_DIR", str(workspace / "no-such-kb"))
    code, err = _run(build, capsys)
    assert code == 2
    _assert_one_error(err, "no-such-kb does not exist")
    broken = workspace / "broken-kb"
    shutil.copytree(FIXTURE_KB, broken)
    first = sorted(broken.glob("*.yaml"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n  - [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("ODIN_KNOWLEDGE_DIR", str(broken))
    code, err = _run(build, capsys)
    assert code == 2
    assert "Traceback" not in err and err.startswith("error: ") and first.name in err, err
    assert not (workspace / "cache").exists() or not any((workspace / "cache").rglob("*.arrow"))


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_killed_generate_leaves_no_temporary_file(tmp_path: Path, signum: int, code: int) -> None:
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "ODIN_KNOWLEDGE_DIR": str(FIXTURE_KB)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "odin_medical_ner_re",
            "generate",
            "--num-samples",
            "5000000",
            "--quiet",
            "--output",
            str(out / "notes.jsonl"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 0 for p in out.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(out.iterdir()), "generate never started writing"
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, err
    _assert_one_error(err, "error:")
    assert list(out.iterdir()) == []


def test_created_files_follow_the_umask(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = os.umask(0o002)
    try:
        assert _run([*EV, "--output", "out/r.json"], capsys)[0] == 0
        assert _run(["review-sample", "good.jsonl", "--output", "out/rev", "--n", "2"], capsys)[0] == 0
    finally:
        os.umask(old)
    for path in [workspace / "out" / "r.json", *(workspace / "out" / "rev").iterdir()]:
        assert path.stat().st_mode & 0o777 == 0o664, path
