"""Build speed and memory of the ``datasets`` builder (not a test: it prints figures).

1. Documents per CPU-second building ``1k``, ``10k`` and ``complex`` with ``num_proc=1``, each
   next to the generator's own rate for as many notes of the same complexity measured just
   after it in the same run, and their ratio (goal, issue 18: at least 0.5); then ``10k`` with
   ``num_proc=2``. Run it with ``PYTHONPATH`` unset to time the installed checkout instead.
2. Peak resident memory of the whole process tree building large ``train`` splits with
   ``num_proc=2``: the builder writes shard by shard, so the peak must stay flat as the
   number of documents grows (goal: under 2 GiB at 1,000,000 documents).

    python perf/bench_build.py              # part 1 + peaks at 10k and 100k train notes
    python perf/bench_build.py --million    # also the 1,000,000-note peak (~800 docs per CPU-second:
                                                  # ~10 min on 2 idle cores)

Each peak is measured on a child process (a fresh interpreter), sampling the RSS of the child
and all its workers with psutil; the sum over processes over-counts pages that forked workers
share with their parent, so it is an upper bound, and the largest single process is printed too.
Builds go to temporary caches that are deleted afterwards (1M notes take ~2.5 GB of Arrow).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import datasets
import psutil

from odin_medical_ner_re.builder import make_builder
from odin_medical_ner_re.generator import MedicalTextGenerator, load_templates
from odin_medical_ner_re.knowledge import load_knowledge_base

GIB = 1024**3
EVAL_SIZES = {"num_validation": 200, "num_test": 200, "num_test_unseen": 200}


def _cpu_seconds() -> float:
    """User + system time of this process and of its reaped children (the pool workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build_seconds(config: str, num_proc: int, **overrides: int) -> tuple[float, float, int]:
    """Wall and CPU seconds of one build into a fresh cache (nothing reused), and its document count."""
    with tempfile.TemporaryDirectory(prefix="bench-build-") as cache:
        builder = make_builder(config, cache_dir=cache, **overrides)
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        builder.download_and_prepare(num_proc=num_proc)
        elapsed, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
        documents = sum(split.num_examples for split in builder.info.splits.values())
    return elapsed, cpu, documents


def generation_seconds(config: str, documents: int) -> tuple[float, float]:
    """Wall and CPU seconds for the generator alone to write ``documents`` notes of ``config``'s
    complexity: one fresh generator, ``generate_dataset`` (the rate ``bench_generate.py`` reports)."""
    complexity = make_builder(config).config.complexity
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    MedicalTextGenerator(seed=0, complexity=complexity).generate_dataset(documents)
    return time.perf_counter() - start, _cpu_seconds() - cpu_start


def throughput(configs: list[str]) -> None:
    """Builder against raw generation, per process, measured back to back in this run.

    Docs per CPU-second is the figure compared (it moves less than wall time when other jobs
    share the machine); wall time is printed beside it. Each build goes to a fresh cache.
    """
    load_knowledge_base()  # loaded once here; forked workers inherit them, as in real use
    load_templates()
    print(f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.1f}")
    for config in configs:
        seconds, cpu, documents = build_seconds(config, 1)
        gen_seconds, gen_cpu = generation_seconds(config, documents)
        build_rate, gen_rate = documents / cpu, documents / gen_cpu
        print(
            f"{config:>8}, num_proc=1: {documents:,} docs; build {seconds:.2f} s wall, {build_rate:,.0f} docs per "
            f"CPU-second; generation alone {gen_seconds:.2f} s wall, {gen_rate:,.0f} docs per CPU-second; "
            f"build / generation {build_rate / gen_rate:.2f} (goal >= 0.50)"
        )
    seconds, cpu, documents = build_seconds("10k", 2)
    print(
        f"     10k, num_proc=2: {documents:,} docs in {seconds:.2f} s wall = {documents / seconds:,.0f} docs/s "
        f"({documents / cpu:,.0f} docs per CPU-second); load average after: {os.getloadavg()[0]:.1f}"
    )


@dataclass
class Peak:
    tree_rss: int = 0
    process_rss: int = 0
    processes: int = 0


def _sample(root: psutil.Process, peak: Peak, done: threading.Event, interval: float) -> None:
    while not done.is_set():
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        sizes = []
        for process in tree:
            try:
                sizes.append(process.memory_info().rss)
            except psutil.NoSuchProcess:
                continue
        if sizes:
            peak.tree_rss = max(peak.tree_rss, sum(sizes))
            peak.process_rss = max(peak.process_rss, max(sizes))
            peak.processes = max(peak.processes, len(sizes))
        done.wait(interval)


def peak_memory(num_train: int, num_proc: int = 2, interval: float = 0.2) -> None:
    """Run one large build in a child interpreter and report the peak RSS of its process tree."""
    command = [sys.executable, __file__, "--child", str(num_train), "--num-proc", str(num_proc)]
    start = time.perf_counter()
    child = psutil.Popen(command)
    peak, done = Peak(), threading.Event()
    sampler = threading.Thread(target=_sample, args=(child, peak, done, interval), daemon=True)
    sampler.start()
    code = child.wait()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"child build of {num_train:,} notes failed with exit code {code}")
    documents = num_train + sum(EVAL_SIZES.values())
    print(
        f"train={num_train:>9,}, num_proc={num_proc}: peak RSS of the process tree {peak.tree_rss / GIB:.2f} GiB "
        f"(largest process {peak.process_rss / GIB:.2f} GiB, {peak.processes} processes); "
        f"{seconds:.0f} s, {documents / seconds:,.0f} docs/s"
    )


def _quiet() -> None:
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()  # "Setting num_proc from 2 back to 1 ..." per small split


def child_build(num_train: int, num_proc: int) -> None:
    _quiet()
    build_seconds("1k", num_proc, num_train=num_train, **EVAL_SIZES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--million", action="store_true", help="also measure the peak at 1,000,000 train notes"
    )
    parser.add_argument("--config", action="append", help="configs to time (default: 1k, 10k, complex)")
    parser.add_argument("--skip-throughput", action="store_true", help="only measure the memory peaks")
    parser.add_argument("--skip-peaks", action="store_true", help="only measure the build speed")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--num-proc", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child_build(args.child, args.num_proc)
        return
    _quiet()
    if not args.skip_throughput:
        throughput(args.config or ["1k", "10k", "complex"])
    if not args.skip_peaks:
        for num_train in (10_000, 100_000, *((1_000_000,) if args.million else ())):
            peak_memory(num_train)


if __name__ == "__main__":
    main()
