"""Time the scoring protocol against nervaluate on the same spans, in one run.

    python perf/bench_scoring.py              # 10,000 documents, ~10 entities each
    python perf/bench_scoring.py --docs 2000  # quicker

CPU seconds (wall seconds in parentheses), the best of ``--repeat`` interleaved rounds, on the same
synthetic predictions and references:
- core: ``scoring.score_documents``, all entity modes (strict, exact, partial, ent_type, type)
  and all relation modes (strict, boundaries, relaxed), from plain document dicts; and again with
  only the four entity modes nervaluate computes (like for like);
- nervaluate: its four entity strategies (and per-type results) on the same entity spans,
  converted to its inclusive ends; the conversion is not timed;
- metric: ``evaluate.load(METRIC_PATH).compute(...)`` end to end, with its five entity modes only
  (``relation_modes=[]``: entity modes against entity modes) and with every mode; loading the
  module is not timed.
Goals (issues 5 and 18): core at least 10x faster than nervaluate and under 2 s; compute at least 5x.

``--baseline PATH`` also times another version of the scorer in the same rounds, so its speed-up
is measured under the same load, and checks that both versions give the same reports. PATH is
the ``scoring/`` package folder of that version (``mkdir /tmp/before && git archive main
odin_medical_ner_re/scoring | tar -x -C /tmp/before``, then ``--baseline
/tmp/before/odin_medical_ner_re/scoring``), or the single ``scoring.py`` of versions before the
package (``git show REV:odin_medical_ner_re/scoring.py > /tmp/scoring_before.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from nervaluate import Evaluator

from odin_medical_ner_re.schema import ENTITY_TYPES, VALID_RELATION_ARGUMENTS
from odin_medical_ner_re.scoring import score_documents

_SYLLABLES = ("ka", "lo", "mi", "ne", "ra", "tol", "zin", "pra", "dex", "ine", "ol", "ma", "ci", "vir")
_FILLER = ("the", "patient", "reports", "with", "and", "after", "was", "given", "for", "noted", "history")


def _vocabulary(rng: random.Random, size: int = 300) -> dict[str, list[str]]:
    """Made-up mentions per entity type: enough variety for realistic (rare) repeats."""
    words = {
        kind: [
            " ".join(
                "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
                for _ in range(rng.randint(1, 3))
            )
            for _ in range(size)
        ]
        for kind in ENTITY_TYPES
    }
    return words


def _reference(
    rng: random.Random, index: int, words: dict[str, list[str]], n_entities: int
) -> dict[str, Any]:
    """A note with ~``n_entities`` non-overlapping mentions and a few valid relations."""
    pieces: list[str] = []
    entities = []
    cursor = 0
    for number in range(n_entities):
        filler = " ".join(rng.choice(_FILLER) for _ in range(rng.randint(1, 6))) + " "
        pieces.append(filler)
        cursor += len(filler)
        kind = rng.choice(ENTITY_TYPES)
        mention = rng.choice(words[kind])
        entities.append(
            {
                "id": f"T{number + 1}",
                "start": cursor,
                "end": cursor + len(mention),
                "type": kind,
                "text": mention,
            }
        )
        pieces.append(mention)
        cursor += len(mention)
    pieces.append(".")
    relations = []
    for relation_type, head_type, tail_type in VALID_RELATION_ARGUMENTS:
        heads = [e for e in entities if e["type"] == head_type]
        tails = [e for e in entities if e["type"] == tail_type]
        if heads and tails and rng.random() < 0.7:
            relations.append(
                {"type": relation_type, "head": rng.choice(heads)["id"], "tail": rng.choice(tails)["id"]}
            )
    return {"id": f"doc-{index}", "text": "".join(pieces), "entities": entities, "relations": relations}


def _prediction(rng: random.Random, reference: dict[str, Any]) -> dict[str, Any]:
    """A plausible model output: mostly right, some wrong types, shifted spans, misses, extras."""
    entities = []
    for entity in reference["entities"]:
        roll = rng.random()
        if roll < 0.05:
            continue  # missed
        guess = dict(entity)
        if roll < 0.13:
            guess["type"] = rng.choice([t for t in ENTITY_TYPES if t != entity["type"]])
        elif roll < 0.21 and entity["end"] - entity["start"] > 2:
            guess["start"] += 1
            guess["text"] = entity["text"][1:]
        entities.append(guess)
    if rng.random() < 0.5:  # a spurious mention on a filler word
        start = reference["text"].find("patient")
        if start >= 0 and not any(e["start"] < start + 7 and start < e["end"] for e in entities):
            entities.append(
                {"id": "X1", "start": start, "end": start + 7, "type": "Symptom", "text": "patient"}
            )
    kept = {e["id"] for e in entities}
    relations = []
    for relation in reference["relations"]:
        if relation["head"] in kept and relation["tail"] in kept and rng.random() < 0.9:
            if rng.random() < 0.05:
                relation = {**relation, "head": relation["tail"], "tail": relation["head"]}
            relations.append(relation)
    return {"id": reference["id"], "entities": entities, "relations": relations}


def make_corpus(n_docs: int, n_entities: int = 10, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(predictions, references), deterministic for a seed."""
    rng = random.Random(seed)
    words = _vocabulary(rng)
    references = [_reference(rng, index, words, n_entities) for index in range(n_docs)]
    predictions = [_prediction(rng, reference) for reference in references]
    return predictions, references


def load_baseline(path: Path) -> ModuleType:
    """Import another version's scorer (a ``scoring/`` folder or a ``scoring.py``) into this package,
    for its relative imports."""
    name = "odin_medical_ner_re._baseline_scoring"
    if path.is_dir():
        spec = importlib.util.spec_from_file_location(
            name, path / "__init__.py", submodule_search_locations=[str(path)]
        )
    else:
        spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"error: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _nervaluate_spans(documents: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """nervaluate's input: inclusive ends."""
    return [
        [{"label": e["type"], "start": e["start"], "end": e["end"] - 1} for e in document["entities"]]
        for document in documents
    ]


def _cpu(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """CPU seconds of this process (steadier than wall time on a shared machine), wall seconds, result."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = run()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--entities", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each figure is its best round")
    parser.add_argument("--skip-metric", action="store_true", help="do not time evaluate.load(...).compute")
    parser.add_argument("--baseline", type=Path, help="another version's scoring/ folder or scoring.py to time alongside")
    args = parser.parse_args()

    predictions, references = make_corpus(args.docs, args.entities, args.seed)
    n_gold = sum(len(d["entities"]) for d in references)
    n_relations = sum(len(d["relations"]) for d in references)
    print(f"{args.docs} documents, {n_gold} gold entities, {n_relations} gold relations")
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; best of {args.repeat} rounds, CPU seconds (wall)"
    )

    same = ("strict", "exact", "partial", "ent_type")
    gold_spans, pred_spans = _nervaluate_spans(references), _nervaluate_spans(predictions)
    runs: dict[str, Callable[[], Any]] = {
        "core, 5 entity + 3 relation modes": lambda: score_documents(predictions, references),
        "core, 5 entity modes": lambda: score_documents(predictions, references, relation_modes=()),
        "core, nervaluate's 4 entity modes": lambda: score_documents(
            predictions, references, entity_modes=same, relation_modes=()
        ),
        "nervaluate, 4 entity modes": lambda: Evaluator(
            gold_spans, pred_spans, tags=list(ENTITY_TYPES), loader="dict"
        ).evaluate(),
    }
    if args.baseline:
        before = load_baseline(args.baseline).score_documents
        runs["baseline core, nervaluate's 4 entity modes"] = lambda: before(
            predictions, references, entity_modes=same, relation_modes=()
        )
        runs["baseline core, 5 entity + 3 relation modes"] = lambda: before(predictions, references)
    if not args.skip_metric:
        import evaluate

        from odin_medical_ner_re.metric import METRIC_PATH

        metric = evaluate.load(METRIC_PATH)
        runs["metric.compute, 5 entity modes"] = lambda: metric.compute(
            predictions=predictions, references=references, relation_modes=[]
        )
        runs["metric.compute, all modes (relations too)"] = lambda: metric.compute(
            predictions=predictions, references=references
        )
    best: dict[str, tuple[float, float]] = {}
    results: dict[str, Any] = {}
    contenders = list(runs.items())
    for round_ in range(args.repeat):  # rounds interleave the contenders, so load hits them alike,
        shift = round_ % len(contenders)  # and rotate them, so no one always runs first
        for label, run in contenders[shift:] + contenders[:shift]:
            cpu, wall, results[label] = _cpu(run)
            if label not in best or cpu < best[label][0]:
                best[label] = (cpu, wall)
    nerv = best["nervaluate, 4 entity modes"][0]
    for label, (cpu, wall) in best.items():
        ratio = "" if label.startswith("nervaluate") else f"  {nerv / cpu:5.1f}x nervaluate"
        print(f"{label:<44}{cpu:7.3f} s ({wall:.3f} s){ratio}")
    print("goals (issues 5 and 18): core >= 10x and under 2 s, metric.compute >= 5x")
    report = results["core, 5 entity + 3 relation modes"]
    if args.baseline:
        for modes in ("nervaluate's 4 entity modes", "5 entity + 3 relation modes"):
            speed_up = best[f"baseline core, {modes}"][0] / best[f"core, {modes}"][0]
            print(f"speed-up over the baseline, {modes}: {speed_up:.2f}x")
        assert results["baseline core, 5 entity + 3 relation modes"] == report, (
            "the baseline scores differently"
        )
    if not args.skip_metric:
        metric_results = results["metric.compute, all modes (relations too)"]
        assert metric_results["ner_strict_f1"] == report["ner"]["strict"]["micro"]["f1"]


if __name__ == "__main__":
    main()
