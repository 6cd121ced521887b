"""The shipped tagger beside the one it replaced, timed alternately in one process on one core.

A change to the model's features moves its speed by less than these shared machines drift
between two runs of ``classifier_bench.py``; timing both models in turn, in the same process and
on the same core, gives a ratio that the drift cancels out of. Measures, for
``classifier/artifacts/current`` and ``…/previous``: warm batch throughput of the scikit-learn
pipeline (``Tagger``) over every labelled message, in batches as ``classifier_bench.py`` times
it, and single-message latency p50 / p99 on the serving path (``ServingTagger``,
``linear.zip``) and on the pipeline, over every fifth message.

Usage:
    uv run python bench/classifier_versus_previous.py [--rounds 4]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.classifier_bench import pin_one_core, throughput  # noqa: E402
from classifier import artifact  # noqa: E402
from classifier.data import load_messages  # noqa: E402
from classifier.serving import ServingTagger  # noqa: E402
from classifier.tagger import Tagger  # noqa: E402


def latencies(predict_one: Callable[[str], object], texts: list[str]) -> tuple[float, float]:
    """(p50, p99) in milliseconds of one message at a time."""
    times = []
    for text in texts:
        start = time.perf_counter()
        predict_one(text)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the two models")
    args = parser.parse_args()
    where = pin_one_core()
    texts = [m.text for m in load_messages()]
    sample = texts[::5]
    dirs = {"current": artifact.current_dir(), "previous": artifact.previous_dir()}
    pipelines = {name: Tagger.load(d) for name, d in dirs.items()}
    servings = {name: ServingTagger.load(d) for name, d in dirs.items()}
    for name in dirs:  # warm every cache once
        pipelines[name].predict_proba(texts)
        latencies(servings[name].predict_one, sample[:300])
    rates: dict[str, list[float]] = {name: [] for name in dirs}
    serving: dict[str, list[tuple[float, float]]] = {name: [] for name in dirs}
    single: dict[str, list[tuple[float, float]]] = {name: [] for name in dirs}
    for _ in range(args.rounds):
        for name in dirs:
            rates[name].append(throughput(pipelines[name].predict_proba, texts)[0])
            serving[name].append(latencies(servings[name].predict_one, sample))
            single[name].append(latencies(pipelines[name].predict_one, sample))
    print(f"{where}, {len(texts)} messages, {args.rounds} rounds, medians of the rounds")
    print("| measure | " + " | ".join(f"{n} ({pipelines[n].version})" for n in dirs) + " |")
    print("|---|---|---|")

    def p50_p99(runs: list[tuple[float, float]]) -> str:
        return " / ".join(f"{statistics.median(r[i] for r in runs):.2f}" for i in (0, 1))

    print(
        "| warm batch (msgs/s) | "
        + " | ".join(f"{statistics.median(rates[n]):,.0f}" for n in dirs)
        + " |"
    )
    print("| serving path p50 / p99 (ms) | " + " | ".join(p50_p99(serving[n]) for n in dirs) + " |")
    print("| pipeline p50 / p99 (ms) | " + " | ".join(p50_p99(single[n]) for n in dirs) + " |")
    ratio = statistics.median(rates["current"]) / statistics.median(rates["previous"])
    print(f"\nwarm batch, current / previous: {ratio:.3f}")


if __name__ == "__main__":
    main()
