"""LLM generation against a local fake chat endpoint on 127.0.0.1: no real network.

The fake server answers requests in order from a list of canned answers (good, fenced,
broken, wrong types, invented facts, server errors) so every rejection path is counted.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from odin_medical_ner_re.cli import main
from odin_medical_ner_re.knowledge import load_knowledge_base
from odin_medical_ner_re.llm_generate import (
    ChatClient,
    Rejected,
    align,
    chat_url,
    extract_json,
    generate,
    to_document,
)
from odin_medical_ner_re.schema import load_documents, validate

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"

DIABETES = {
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
        {"type": "causes", "head": "type 2 diabetes", "tail": "polydipsia"},
        {"type": "treats", "head": "metformin", "tail": "T2DM"},
    ],
}
FLU = {  # listed out of text order, "flu" twice: offsets come from first unused occurrences
    "text": "Flu with fever and myalgia. Oseltamivir started for flu.",
    "entities": [
        {"text": "fever", "type": "Symptom"},
        {"text": "Flu", "type": "Disease"},
        {"text": "myalgia", "type": "Symptom"},
        {"text": "flu", "type": "Disease"},
        {"text": "Oseltamivir", "type": "Drug"},
    ],
    "relations": [
        {"type": "causes", "head": "Flu", "tail": "fever"},
        {"type": "causes", "head": "Flu", "tail": "myalgia"},
        {"type": "treats", "head": "Oseltamivir", "tail": "flu"},
    ],
}


def _variant(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**json.loads(json.dumps(base)), **changes}


def _chat(content: str) -> tuple[int, bytes]:
    return 200, json.dumps(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    ).encode()


GOOD = _chat(json.dumps(DIABETES))
FENCED = _chat("Here is the note:\n```json\n" + json.dumps(FLU, indent=2) + "\n```\nLet me know!")
BROKEN = _chat('Sure! {"text": "Patient with fever", "entities": [')
WRONG_TYPE = _chat(
    json.dumps(
        _variant(DIABETES, entities=[*DIABETES["entities"][:3], {"text": "metformin", "type": "Medication"}])
    )
)
INVENTED = _chat(
    json.dumps(
        _variant(
            DIABETES,
            text="Aspirin started for influenza.",
            entities=[{"text": "Aspirin", "type": "Drug"}, {"text": "influenza", "type": "Disease"}],
            relations=[{"type": "treats", "head": "Aspirin", "tail": "influenza"}],
        )
    )
)
UNALIGNED = _chat(
    json.dumps(_variant(DIABETES, entities=[*DIABETES["entities"], {"text": "insulin", "type": "Drug"}]))
)
SERVER_ERROR = (500, b'{"error": "overloaded"}')
NOT_CHAT = (200, b'{"result": "no choices here"}')


class _Server:
    """A threaded HTTP server answering POSTs from a queue of canned (status, body) pairs."""

    def __init__(self, answers: list[tuple[int, bytes]]):
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                outer.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                status, payload = outer.answers.pop(0) if outer.answers else SERVER_ERROR
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[_Server] = []

    def start(answers: list[tuple[int, bytes]]) -> _Server:
        servers.append(_Server(answers))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base(FIXTURE_KB)


def test_every_answer_is_accepted_or_counted(serve, kb):
    answers = [GOOD, BROKEN, FENCED, WRONG_TYPE, SERVER_ERROR, NOT_CHAT, INVENTED, UNALIGNED, GOOD]
    server = serve(answers)
    client = ChatClient(server.url, "fake-model", retries=0, timeout=10)
    docs, stats, rejected = generate(client, kb, num=5, max_attempts=len(answers), seed=1)
    assert stats.attempts == len(answers) and stats.accepted == len(docs) == 3
    assert dict(stats.rejected) == {
        "invalid_json": 1,
        "unknown_entity_type": 1,
        "http_error": 1,
        "bad_response": 1,
        "relation_not_in_kb": 1,
        "unaligned_entity": 1,
    }
    assert sorted(r["reason"] for r in rejected) == sorted(stats.rejected.elements())
    assert all(validate(d) == [] for d in docs)
    for doc in docs:
        by_id = doc.entity_by_id()
        assert all(kb.is_edge(r.type, by_id[r.head].text, by_id[r.tail].text) for r in doc.relations)
        assert doc.metadata["model"] == "fake-model" and doc.metadata["facts"]
    flu = docs[1]
    assert [(e.text, e.start) for e in flu.entities] == [
        ("Flu", 0),
        ("fever", 9),
        ("myalgia", 19),
        ("Oseltamivir", 28),
        ("flu", 52),
    ]
    treats = next(r for r in flu.relations if r.type == "treats")
    assert flu.entity_by_id()[treats.tail].start == 52
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "fake-model" and request["auth"] is None
    prompt = request["body"]["messages"][-1]["content"]
    assert (
        any(f"- {fact}" in prompt for fact in docs[0].metadata["facts"]) or "Answer with JSON only" in prompt
    )


def test_cli_writes_accepted_notes_and_never_prints_the_key(serve, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ODIN_KNOWLEDGE_DIR", str(FIXTURE_KB))
    monkeypatch.setenv("FAKE_LLM_KEY", "s3cret-token")
    server = serve([BROKEN, GOOD, FENCED])
    out, rejected = tmp_path / "llm.jsonl", tmp_path / "rejected.jsonl"
    code = main(
        [
            "llm-generate",
            "--endpoint",
            server.url + "/v1",
            "--model",
            "m",
            "--num",
            "2",
            "--output",
            str(out),
            "--api-key-env",
            "FAKE_LLM_KEY",
            "--rejected",
            str(rejected),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "accepted 2, rejected 1 (invalid_json 1)" in captured.out
    assert "s3cret" not in captured.out + captured.err
    assert all(r["auth"] == "Bearer s3cret-token" for r in server.requests)
    assert len(load_documents(out)) == 2
    assert json.loads(rejected.read_text())["reason"] == "invalid_json"


def test_cli_reports_shortfall_and_user_errors(serve, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ODIN_KNOWLEDGE_DIR", str(FIXTURE_KB))
    server = serve([BROKEN, INVENTED])
    out = tmp_path / "llm.json"
    base = ["llm-generate", "--model", "m", "--output", str(out)]
    assert main([*base, "--endpoint", server.url, "--num", "1", "--max-attempts", "2"]) == 1
    assert load_documents(out) == []
    assert "only 0 of 1" in capsys.readouterr().err
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    assert main([*base, "--endpoint", server.url, "--num", "1", "--api-key-env", "NO_SUCH_KEY_VAR"]) == 2
    assert "NO_SUCH_KEY_VAR is not set" in capsys.readouterr().err
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    assert main([*base, "--endpoint", f"http://127.0.0.1:{closed_port}", "--num", "1"]) == 2
    assert "cannot reach" in capsys.readouterr().err
    assert main([*base, "--endpoint", "ftp://example", "--num", "1"]) == 2


def test_extract_json_variants():
    assert extract_json('{"a": 1}') == {"a": 1}
    assert extract_json('```json\n{"a": 2}\n```') == {"a": 2}
    assert extract_json('Answer:\n```\n{"a": 3}\n```') == {"a": 3}
    assert extract_json('The JSON is {"a": 4} as requested.') == {"a": 4}
    with pytest.raises(Rejected) as why:
        extract_json("no json here")
    assert why.value.reason == "invalid_json"


def test_align_prefers_whole_words_and_unused_occurrences():
    text = "Painful joints; pain in chest pain."
    assert align(text, ["pain", "pain", "chest pain", "knee"]) == [(16, 20), (30, 34), None, None]
    assert align("Fever. fever", ["fever", "Fever"]) == [(7, 12), (0, 5)]


def _reason(data: dict[str, Any], kb, facts=()) -> str:
    with pytest.raises(Rejected) as why:
        to_document(data, "x", kb, facts)
    return why.value.reason


def test_to_document_rejections(kb):
    assert _reason({"entities": []}, kb) == "bad_shape"
    assert _reason(_variant(DIABETES, relations=[{"type": "treats", "head": "metformin"}]), kb) == "bad_shape"
    assert _reason(
        _variant(DIABETES, relations=[{"type": "cures", "head": "metformin", "tail": "T2DM"}]), kb
    ) == ("unknown_relation_type")
    wrong_args = _variant(DIABETES, relations=[{"type": "treats", "head": "polyuria", "tail": "T2DM"}])
    assert _reason(wrong_args, kb) == "schema_violation"
    ghost = _variant(DIABETES, relations=[{"type": "treats", "head": "insulin", "tail": "T2DM"}])
    assert _reason(ghost, kb) == "relation_argument_not_an_entity"
    facts = [e for e in kb.edges if e.head == "metformin"]
    unannotated = _variant(DIABETES, entities=[e for e in DIABETES["entities"] if e["text"] != "metformin"])
    unannotated["relations"] = DIABETES["relations"][:2]
    assert _reason(unannotated, kb, facts) == "unannotated_mention"
    doc = to_document(DIABETES, "ok", kb, facts)
    assert [e.id for e in doc.entities] == ["T1", "T2", "T3", "T4", "T5"] and validate(doc) == []


def test_chat_url_forms():
    assert chat_url("http://h:1") == "http://h:1/v1/chat/completions"
    assert chat_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"
    assert chat_url("https://h/x/chat/completions") == "https://h/x/chat/completions"
