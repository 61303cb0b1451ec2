"""Generation speed and lexical diversity of the synthetic notes.

Run::

    python perf/bench_generate.py [--num-samples 10000] [--complexity simple] [--repeat 3]
    python perf/bench_generate.py --baseline OLD_DIR   # also time a previous generator

Prints documents per second for ``MedicalTextGenerator(seed=42).generate_dataset(N)`` in one
process (one core: the generator is single-threaded), as wall clock and CPU time, the best
of ``--repeat`` runs since the minimum is the figure least disturbed by other load, and the
distinct-2 ratio of the generated text, each next to its goal (issue 3): at least 9,500
documents/s and distinct-2 >= 0.10 (the generator this project replaced reached 0.010).

Distinct-2 is measured over the concatenated token stream of all documents: lowercased
``\\w+|[^\\w\\s]`` tokens, unique bigrams divided by all bigrams. Counting over the whole
stream (rather than per document) is what exposes a small vocabulary repeated across notes.

On a shared machine absolute rates move with the load; ``--baseline DIR`` times another
generator in the same run, alternating with this one, and prints the speed ratio, which
holds still. ``DIR`` holds that version's ``generator.py`` (or, since the generator became a
package, its ``generator/`` folder) and ``clinical_notes.yaml``, e.g.::

    git show 9ceda9a:odin_medical_ner_re/generator.py > old/generator.py
    git show 9ceda9a:odin_medical_ner_re/templates/clinical_notes.yaml > old/clinical_notes.yaml
    git archive REV odin_medical_ner_re/generator | tar -x --strip-components=1 -C old  # a package version

This is a benchmark, not a timed test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from odin_medical_ner_re import generator as current
from odin_medical_ner_re.schema import Document

GOAL_DOCS_PER_SECOND = 9_500.0
GOAL_DISTINCT_2 = 0.10
_TOKEN = re.compile(r"\w+|[^\w\s]")


def distinct_n(texts: Iterable[str], n: int = 2) -> float:
    """Unique n-grams / all n-grams over the concatenated lowercased token stream."""
    tokens: list[str] = []
    for text in texts:
        tokens.extend(_TOKEN.findall(text.lower()))
    grams = list(zip(*(tokens[i:] for i in range(n)), strict=False))
    return len(set(grams)) / len(grams) if grams else 0.0


def load_baseline(folder: Path) -> ModuleType:
    """Import another version's generator as a module of this package (for its relative imports).

    ``DIR`` holds either a single-module version (``generator.py``, before the generator became
    a package) or a package version (``generator/``), next to its ``clinical_notes.yaml``.
    """
    package = folder / "generator" / "__init__.py"
    name = "odin_medical_ner_re._baseline_generator"
    if package.exists():
        spec = importlib.util.spec_from_file_location(
            name, package, submodule_search_locations=[str(package.parent)]
        )
    else:
        spec = importlib.util.spec_from_file_location(name, folder / "generator.py")
    if spec is None or spec.loader is None or not Path(spec.origin or "").exists():
        raise SystemExit(f"error: no generator.py or generator/ in {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    templates = sys.modules.get(f"{name}.templates", module)  # where the package version reads it
    templates.TEMPLATES_PATH = folder / "clinical_notes.yaml"
    return module


def time_generation(
    modules: list[ModuleType], num_samples: int, complexity: str, repeat: int
) -> tuple[list[Document], list[tuple[float, float]]]:
    """(documents of this generator's last run, best (wall, CPU) seconds per module).

    Runs alternate between modules, so that a burst of load elsewhere hits all of them.
    """
    for module in modules:  # load the knowledge base and templates outside the timing
        module.MedicalTextGenerator(seed=0, complexity=complexity).generate_dataset(10)
    best = [(float("inf"), float("inf")) for _ in modules]
    documents: list[Document] = []
    for _ in range(repeat):
        for i, module in enumerate(modules):
            wall0, cpu0 = time.perf_counter(), time.process_time()
            result: Any = module.MedicalTextGenerator(seed=42, complexity=complexity).generate_dataset(
                num_samples
            )
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            best[i] = (min(best[i][0], wall), min(best[i][1], cpu))
            if i == 0:
                documents = result
            del result
            gc.collect()
    return documents, best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--complexity", default="simple", choices=("simple", "complex"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="also time the generator in DIR")
    args = parser.parse_args(argv)
    modules = [current] + ([load_baseline(args.baseline)] if args.baseline else [])
    documents, best = time_generation(modules, args.num_samples, args.complexity, max(1, args.repeat))
    n = args.num_samples
    (wall, cpu) = best[0]
    print(f"generate_dataset({n:,}) complexity={args.complexity} seed=42, one process, best of {args.repeat}")
    print(
        f"  wall {wall:.3f} s -> {n / wall:,.0f} docs/s (goal >= {GOAL_DOCS_PER_SECOND:,.0f}: ratio {n / wall / GOAL_DOCS_PER_SECOND:.2f})"
    )
    print(f"  CPU  {cpu:.3f} s -> {n / cpu:,.0f} docs/s")
    if args.baseline:
        base_wall, base_cpu = best[1]
        print(
            f"  baseline {args.baseline}: CPU {base_cpu:.3f} s -> {n / base_cpu:,.0f} docs/s; speed-up {base_cpu / cpu:.2f}x"
        )
    d2 = distinct_n(doc.text for doc in documents)
    print(f"  distinct-2 {d2:.4f} (goal >= {GOAL_DISTINCT_2:.2f}: ratio {d2 / GOAL_DISTINCT_2:.2f})")
    entities = sum(len(d.entities) for d in documents) / len(documents)
    relations = sum(len(d.relations) for d in documents) / len(documents)
    chars = sum(len(d.text) for d in documents) / len(documents)
    print(f"  per document: {chars:.0f} characters, {entities:.2f} entities, {relations:.2f} relations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
