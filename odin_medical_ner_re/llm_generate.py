"""Optional LLM generation: notes written by a chat model, kept only when they check out.

A language model writes more natural notes than templates, but it also invents facts,
misspells its own entities, returns broken JSON and annotates things that are not there.
So every answer goes through the same gate before it can become a training document:

1. JSON parse (bare, inside a ```json fence, or the outermost ``{...}``);
2. shape: ``{"text", "entities": [{"text", "type"}], "relations": [{"type", "head", "tail"}]}``
   with the project's entity and relation types;
3. offsets re-aligned from the entity texts (first unused, non-overlapping occurrence;
   exact case first) - the model is never trusted with character positions;
4. :func:`~odin_medical_ner_re.schema.validate` (argument types, duplicates);
5. every relation must be a knowledge-base edge, and a requested fact's concept written in
   the text must be annotated.

A rejected answer is counted under its reason and can be written to a side file for
inspection; it never reaches the output. Any OpenAI-compatible ``/v1/chat/completions``
endpoint works (vLLM, TGI, llama.cpp server, Ollama, OpenAI, HF Inference Providers); the
request is a plain HTTP POST, so no client library is needed.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserInputError
from .knowledge import Edge, KnowledgeBase
from .schema import (
    ENTITY_TYPES,
    RELATION_TYPES,
    VALID_RELATION_ARGUMENTS,
    Document,
    Entity,
    Relation,
    validate,
)

PROMPT_VERSION = 1
#: A chat answer larger than this is not a note (a runaway or hostile server): rejected.
MAX_ANSWER_BYTES = 8 << 20
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)

SYSTEM_PROMPT = (
    "You are a physician writing realistic, concise clinical notes, and an annotator. "
    "Answer with one JSON object and nothing else."
)

_INSTRUCTIONS = """Write one realistic clinical note ({style}) about a single patient that states each of these facts:
{facts}

Then annotate the note.
Entity types: Disease, Symptom, Drug, Procedure, Lab_Test.
Relations (head -> tail): treats (Drug -> Disease), causes (Disease -> Symptom),
indicates (Lab_Test or Symptom -> Disease), prevents (Drug or Procedure -> Disease).
Rules:
- Annotate every mention of a disease, symptom, drug, procedure or lab test, including negated ones.
- Each entity "text" must be copied exactly from the note; list repeated mentions once per occurrence.
- Relations use the exact entity texts as "head" and "tail", and only for facts the note states.
- Do not state any other treatment, cause, indication or prevention.

Answer with JSON only:
{{"text": "...", "entities": [{{"text": "...", "type": "..."}}], "relations": [{{"type": "...", "head": "...", "tail": "..."}}]}}"""

_STYLES = (
    "a clinic progress note",
    "an emergency department note",
    "a discharge summary",
    "a hospital admission note with HPI, assessment and plan",
    "a brief telehealth follow-up note",
)


# --------------------------------------------------------------------------- facts and prompt


def fact_sentence(edge: Edge) -> str:
    """A fact as plain English for the prompt (lab facts carry their qualifier)."""
    if edge.relation == "indicates" and edge.qualifier:
        return f"{edge.qualifier} {edge.head} indicates {edge.tail}"
    return f"{edge.head} {edge.relation} {edge.tail}"


def choose_facts(kb: KnowledgeBase, rng: random.Random, low: int = 2, high: int = 4) -> list[Edge]:
    """Facts about one disease (as head or tail), so the note reads as one patient's story."""
    diseases = sorted(
        {e.tail for e in kb.edges if kb.concepts[e.tail].type == "Disease"}
        | {e.head for e in kb.edges if e.relation == "causes"}
    )
    if not diseases:
        raise UserInputError("the knowledge base has no disease with facts to write about")
    disease = diseases[rng.randrange(len(diseases))]
    around = sorted(
        {*kb.edges_from.get(disease, ()), *kb.edges_to.get(disease, ())},
        key=lambda e: (e.relation, e.head, e.tail),
    )
    by_relation: dict[str, list[Edge]] = {}
    for edge in around:
        by_relation.setdefault(edge.relation, []).append(edge)
    picked = [group[rng.randrange(len(group))] for group in by_relation.values()]
    rng.shuffle(picked)
    wanted = rng.randint(low, high)
    rest = [e for e in around if e not in picked]
    rng.shuffle(rest)
    return (picked + rest)[:wanted] or around[:1]


def build_messages(facts: Sequence[Edge], rng: random.Random) -> list[dict[str, str]]:
    style = _STYLES[rng.randrange(len(_STYLES))]
    lines = "\n".join(f"- {fact_sentence(e)}" for e in facts)
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": _INSTRUCTIONS.format(style=style, facts=lines)},
    ]


# --------------------------------------------------------------------------- the endpoint


def chat_url(endpoint: str) -> str:
    """``http://host:8000``, ``.../v1`` or the full ``.../chat/completions`` URL all work."""
    url = endpoint.rstrip("/")
    if not re.match(r"^https?://", url):
        raise UserInputError(f"--endpoint must be an http(s) URL, got {endpoint!r}")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return f"{url}/chat/completions"
    return f"{url}/v1/chat/completions"


class EndpointError(Exception):
    """A request that failed (HTTP error, timeout, unreadable answer); counted, not fatal."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


@dataclass
class ChatClient:
    """Minimal OpenAI-compatible chat client (``POST /v1/chat/completions``)."""

    endpoint: str
    model: str
    api_key: str | None = None
    timeout: float = 120.0
    temperature: float = 0.7
    max_tokens: int = 1024
    retries: int = 2

    def complete(self, messages: list[dict[str, str]], seed: int | None = None) -> str:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if seed is not None:
            body["seed"] = seed
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            chat_url(self.endpoint), data=json.dumps(body).encode("utf-8"), headers=headers, method="POST"
        )
        deadline = time.monotonic() + self.timeout
        for attempt in range(self.retries + 1):
            try:
                payload = _post(request, deadline, self.timeout)
                break
            except urllib.error.HTTPError as err:
                pause = 0.5 * 2**attempt
                if (
                    err.code in (429, 500, 502, 503, 504)
                    and attempt < self.retries
                    and time.monotonic() + pause < deadline
                ):
                    time.sleep(pause)
                    continue
                raise EndpointError("http_error", f"HTTP {err.code}") from None
            except (urllib.error.URLError, TimeoutError, OSError) as err:
                reason = getattr(err, "reason", err)
                raise EndpointError("request_failed", f"{reason}") from None
            except http.client.HTTPException as err:  # bad status line, short body, header too long
                raise EndpointError("bad_response", f"broken HTTP answer ({type(err).__name__})") from None
        return _message_content(payload)


def _post(request: urllib.request.Request, deadline: float, timeout: float) -> bytes:
    """The answer's body, or an error; never later than ``deadline`` (time.monotonic).

    ``urlopen``'s timeout bounds each socket read, so a server that trickles a byte a second
    would hold a request for ever. The request runs in a daemon thread that the caller stops
    waiting for at the deadline; the thread notices the cancellation at its next chunk.
    """
    outcome: dict[str, Any] = {}
    cancelled = threading.Event()

    def work() -> None:
        try:
            remaining = max(0.05, deadline - time.monotonic())
            with urllib.request.urlopen(request, timeout=remaining) as response:
                chunks, size = [], 0
                while not cancelled.is_set():
                    chunk = response.read1(65536)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > MAX_ANSWER_BYTES:
                        raise EndpointError("bad_response", f"answer larger than {MAX_ANSWER_BYTES:,} bytes")
                    chunks.append(chunk)
                if response.length:  # Content-Length promised more than arrived
                    raise http.client.IncompleteRead(b"".join(chunks), response.length)
                outcome["body"] = b"".join(chunks)
        except BaseException as err:  # handed to the caller's thread
            outcome["error"] = err

    thread = threading.Thread(target=work, name="llm-request", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        cancelled.set()
        raise EndpointError("timeout", f"no complete answer within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["body"]


def _message_content(payload: bytes) -> str:
    try:
        data = json.loads(payload)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        raise EndpointError("bad_response", "not an OpenAI chat-completion answer") from None
    if not isinstance(content, str):
        raise EndpointError("bad_response", "message content is not text")
    return content


# --------------------------------------------------------------------------- validation


class Rejected(Exception):
    """A model answer that cannot become a document; ``reason`` is the counter key."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason


def extract_json(content: str) -> Any:
    """The JSON object of an answer: bare, in a ```json fence, or the outermost braces."""
    candidates = [content.strip(), *(m.group(1).strip() for m in _FENCE.finditer(content))]
    first, last = content.find("{"), content.rfind("}")
    if 0 <= first < last:
        candidates.append(content[first : last + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            continue
    raise Rejected("invalid_json", "no parseable JSON object")


def _strings(item: Any, keys: Sequence[str], what: str) -> list[str]:
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item[k].strip() for k in keys):
        raise Rejected("bad_shape", f"each {what} needs string fields {', '.join(keys)}")
    return [item[k].strip() for k in keys]


def _shape(data: Any) -> tuple[str, list[list[str]], list[list[str]]]:
    if not isinstance(data, dict) or not isinstance(data.get("text"), str) or not data["text"].strip():
        raise Rejected("bad_shape", "expected an object with a non-empty 'text'")
    entities, relations = data.get("entities"), data.get("relations", [])
    if not isinstance(entities, list) or not isinstance(relations, list):
        raise Rejected("bad_shape", "'entities' and 'relations' must be lists")
    return (
        data["text"],
        [_strings(e, ("text", "type"), "entity") for e in entities],
        [_strings(r, ("type", "head", "tail"), "relation") for r in relations],
    )


def align(text: str, mentions: Sequence[str]) -> list[tuple[int, int] | None]:
    """Each mention at its first occurrence not overlapping an earlier one (exact case, then any case).

    Word-bounded occurrences are preferred, so "pain" is not placed inside "painful".
    """
    taken: list[tuple[int, int]] = []
    lowered = text.lower() if len(text.lower()) == len(text) else None
    spans: list[tuple[int, int] | None] = []
    for mention in mentions:
        span = None
        for haystack, needle in (
            (text, mention),
            (lowered, mention.lower() if lowered is not None else None),
        ):
            if haystack is None or needle is None:
                continue
            span = _free_occurrence(haystack, needle, taken, bounded=True) or _free_occurrence(
                haystack, needle, taken, bounded=False
            )
            if span:
                break
        if span:
            taken.append(span)
        spans.append(span)
    return spans


def _free_occurrence(
    haystack: str, needle: str, taken: list[tuple[int, int]], bounded: bool
) -> tuple[int, int] | None:
    position = haystack.find(needle)
    while position >= 0:
        end = position + len(needle)
        free = all(end <= s or position >= e for s, e in taken)
        edges_ok = not bounded or (
            (position == 0 or not haystack[position - 1].isalnum())
            and (end == len(haystack) or not haystack[end].isalnum())
        )
        if free and edges_ok:
            return position, end
        position = haystack.find(needle, position + 1)
    return None


def to_document(data: Any, doc_id: str, kb: KnowledgeBase, facts: Sequence[Edge] = ()) -> Document:
    """A validated document from a parsed answer, or :class:`Rejected` with the reason."""
    text, raw_entities, raw_relations = _shape(data)
    unknown = sorted({t for _, t in raw_entities} - set(ENTITY_TYPES))
    if unknown:
        raise Rejected("unknown_entity_type", ", ".join(unknown))
    unknown = sorted({r[0] for r in raw_relations} - set(RELATION_TYPES))
    if unknown:
        raise Rejected("unknown_relation_type", ", ".join(unknown))
    spans = align(text, [t for t, _ in raw_entities])
    missing = [t for (t, _), span in zip(raw_entities, spans, strict=True) if span is None]
    if missing:
        raise Rejected("unaligned_entity", f"not in the text: {missing[:3]}")
    order = sorted(range(len(raw_entities)), key=lambda i: spans[i])
    entities = []
    for number, i in enumerate(order, start=1):
        start, end = spans[i]  # type: ignore[misc]
        entities.append(Entity(f"T{number}", text[start:end], raw_entities[i][1], start, end))
    relations = [_relation(i, r, entities) for i, r in enumerate(raw_relations, start=1)]
    doc = Document(doc_id, text, entities, relations)
    problems = validate(doc)
    if problems:
        raise Rejected("schema_violation", problems[0])
    _check_facts(doc, kb, facts)
    return doc


def _relation(number: int, raw: list[str], entities: list[Entity]) -> Relation:
    relation_type, head, tail = raw
    valid = {(h, t) for r, h, t in VALID_RELATION_ARGUMENTS if r == relation_type}

    def find(surface: str, role: int) -> Entity:
        matches = [e for e in entities if e.text == surface] or [
            e for e in entities if e.text.lower() == surface.lower()
        ]
        typed = [e for e in matches if any(e.type == pair[role] for pair in valid)]
        if not matches:
            raise Rejected("relation_argument_not_an_entity", surface)
        return (typed or matches)[0]

    return Relation(f"R{number}", relation_type, find(head, 0).id, find(tail, 1).id)


def _check_facts(doc: Document, kb: KnowledgeBase, facts: Sequence[Edge]) -> None:
    by_id = doc.entity_by_id()
    for relation in doc.relations:
        head, tail = by_id[relation.head].text, by_id[relation.tail].text
        if not kb.is_edge(relation.type, head, tail):
            raise Rejected("relation_not_in_kb", f"{relation.type}({head}, {tail})")
    covered = [(e.start, e.end) for e in doc.entities]
    for name in sorted({n for edge in facts for n in (edge.head, edge.tail)}):
        concept = kb.concepts[name]
        # Abbreviations are skipped: "ED" or "PE" also name a department or an exam section.
        for form in sorted(set(concept.surface_forms) - set(concept.abbreviations)):
            for match in re.finditer(rf"(?<!\w){re.escape(form)}(?!\w)", doc.text, re.IGNORECASE):
                if not any(s <= match.start() and match.end() <= e for s, e in covered):
                    raise Rejected("unannotated_mention", f"{match.group()!r} at {match.start()}")


def stated_facts(doc: Document, kb: KnowledgeBase, facts: Sequence[Edge]) -> int:
    """How many requested facts the document annotates as relations."""
    by_id = doc.entity_by_id()
    present = set()
    for relation in doc.relations:
        head, tail = kb.lookup(by_id[relation.head].text), kb.lookup(by_id[relation.tail].text)
        if head and tail:
            present.add((relation.type, head.name, tail.name))
    return sum((e.relation, e.head, e.tail) in present for e in facts)


# --------------------------------------------------------------------------- the loop


@dataclass
class GenerationStats:
    requested: int = 0
    attempts: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    facts_requested: int = 0
    facts_stated: int = 0

    def summary(self) -> str:
        reasons = ", ".join(f"{k} {v}" for k, v in self.rejected.most_common()) or "none"
        share = f"{100 * self.facts_stated / self.facts_requested:.1f}%" if self.facts_requested else "n/a"
        return (
            f"requested {self.requested} notes, {self.attempts} model calls: accepted {self.accepted}, "
            f"rejected {sum(self.rejected.values())} ({reasons}); requested facts annotated in accepted notes: "
            f"{self.facts_stated}/{self.facts_requested} ({share})"
        )


def generate(
    client: ChatClient,
    kb: KnowledgeBase,
    num: int,
    *,
    seed: int = 0,
    max_attempts: int | None = None,
    id_prefix: str = "llm-",
    show_progress: bool = False,
    accepted: list[Document] | None = None,
    rejected: list[dict[str, Any]] | None = None,
) -> tuple[list[Document], GenerationStats, list[dict[str, Any]]]:
    """Call the model until ``num`` notes pass validation or ``max_attempts`` calls are spent.

    Returns the accepted documents, the statistics and the rejected answers (with reasons).
    Notes are appended to ``accepted`` and ``rejected`` as they come when the caller passes
    them, so a run stopped by Ctrl-C, a signal or an unexpected error still has what it paid for.
    """
    if num < 1:
        raise UserInputError(f"--num must be at least 1, got {num}")
    max_attempts = max_attempts or 2 * num
    rng = random.Random(seed)
    stats = GenerationStats(requested=num)
    accepted = [] if accepted is None else accepted
    rejected = [] if rejected is None else rejected
    progress = None
    if show_progress:
        from tqdm.auto import tqdm

        progress = tqdm(total=num, desc="LLM notes", unit="note")
    while len(accepted) < num and stats.attempts < max_attempts:
        stats.attempts += 1
        facts = choose_facts(kb, rng)
        messages = build_messages(facts, rng)
        doc_id = f"{id_prefix}{len(accepted) + 1:06d}"
        content = None
        try:
            content = client.complete(messages, seed=rng.randrange(2**31))
            doc = to_document(extract_json(content), doc_id, kb, facts)
        except (EndpointError, Rejected) as why:
            if stats.attempts == 1 and isinstance(why, EndpointError) and why.reason == "request_failed":
                raise UserInputError(f"cannot reach {chat_url(client.endpoint)}: {why}") from None
            stats.rejected[why.reason] += 1
            rejected.append(
                {
                    "reason": why.reason,
                    "detail": str(why),
                    "facts": [fact_sentence(f) for f in facts],
                    "content": content,
                }
            )
            continue
        doc.metadata = {
            "source": "llm",
            "model": client.model,
            "prompt_version": PROMPT_VERSION,
            "facts": [fact_sentence(f) for f in facts],
        }
        stats.accepted += 1
        stats.facts_requested += len(facts)
        stats.facts_stated += stated_facts(doc, kb, facts)
        accepted.append(doc)
        if progress is not None:
            progress.update(1)
    if progress is not None:
        progress.close()
    return accepted, stats, rejected


def api_key_from_env(variable: str | None) -> str | None:
    """The key named by ``--api-key-env``; a missing variable is a user error (the key is never printed)."""
    if not variable:
        return None
    value = os.environ.get(variable)
    if not value:
        raise UserInputError(f"environment variable {variable} is not set (it should hold the API key)")
    return value


def write_rejected(rejected: list[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    from .files import atomic_write_text

    return atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejected))
