"""What the input checks of ``evaluate`` and the metric cost, next to the scoring (one run each).

    python perf/bench_score_checks.py               # 10,000 generated notes
    python perf/bench_score_checks.py --docs 2000   # quicker

Predictions are the references without their text (checked against the reference's text, the
usual case). Prints the best of three CPU-second timings of ``check_scoring_inputs`` and of
``score_documents`` (all modes) and their ratio. Goal (issue 16): checks under half the scoring.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.score_checks import check_scoring_inputs
from odin_medical_ner_re.scoring import score_documents


def best_of(work: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    args = parser.parse_args()
    references = [d.to_dict() for d in MedicalTextGenerator(seed=0).iter_documents(args.docs)]
    predictions = [{k: v for k, v in d.items() if k != "text"} for d in references]
    entities = sum(len(d["entities"]) for d in references)
    checks = best_of(lambda: check_scoring_inputs(predictions, references))
    scoring = best_of(lambda: score_documents(predictions, references))
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(f"{args.docs:,} documents, {entities:,} entities per side")
    print(
        f"check_scoring_inputs {checks:.3f} s, score_documents {scoring:.3f} s, ratio {checks / scoring:.2f}"
    )


if __name__ == "__main__":
    main()
