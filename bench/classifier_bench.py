"""Complaint-tagger benchmark on ONE core, with a plain TF-IDF + LogisticRegression baseline.

Measures, for the shipped artifact (classifier/artifacts/current):
  * batch throughput (msgs/s) over all labelled messages, first pass (cold caches) and warm;
  * single-message latency (p50 / p99) with ``Tagger.predict_one``;
  * artifact load time (``Tagger.load``, libraries already imported) and artifact size;
  * full training time (seeded search + out-of-fold thresholds + final fit) on the train split;
and trains, in the same run, a baseline (word TF-IDF + one-vs-rest LogisticRegression,
threshold 0.5; plain defaults and with class_weight="balanced") on the same train split: eval
macro-F1, corruption recall, throughput, train time.

Usage:
    uv run python bench/classifier_bench.py            # print the markdown table
    uv run python bench/classifier_bench.py --write    # also update BENCHMARKS.md "## Classifier"
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_t_import = time.perf_counter()
import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from classifier import artifact  # noqa: E402
from classifier.data import label_matrix, load_messages, load_split  # noqa: E402
from classifier.evaluate import evaluate_model, evaluate_predictions  # noqa: E402
from classifier.serving import ServingTagger  # noqa: E402
from classifier.tagger import Tagger  # noqa: E402
from classifier.tags import TAGS  # noqa: E402
from classifier.train import train  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - _t_import

# A message "about the online channels": what the eGov-praise-and-questions target counts among
# the messages with no tag.
ONLINE_RE = re.compile(
    r"(?i)e-?gov|егов|эгов|приложени|қосымша|косымша|qosymsha|qosymşa|\bapp\b|портал|portal"
    r"|онлайн|onlain|online|эцп|эцқ|ецп|ецк|\becp\b|\beds\b|eüq|биометр|biometr|смс|\bsms\b"
)


def none_shares(tagger: Tagger, messages: list) -> tuple[float, int, float, int]:
    """Of the messages with no tag: (share predicted with no tag, how many), and the same for
    those about eGov / the app / online booking (praise, questions)."""
    empty = [m for m in messages if not m.labels]
    online = [m for m in empty if ONLINE_RE.search(m.text)]

    def share(subset: list) -> float:
        preds = tagger.predict([m.text for m in subset])
        return sum(not p.labels for p in preds) / len(subset) if subset else 1.0

    return share(empty), len(empty), share(online), len(online)


COMMAND = "uv run python bench/classifier_bench.py --write"


def pin_one_core() -> str:
    """Pin this process to one CPU (Linux); returns a description."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def throughput(predict, texts: list[str], batch: int = 1000) -> tuple[float, float]:
    """(wall-clock, CPU-time) messages per second for one pass over ``texts`` in batches.

    The CPU-time figure is what one dedicated core would do; the wall-clock one includes the
    time this process waited while other work held the (shared) core.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), batch):
        predict(texts[i : i + batch])
    n = len(texts)
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def _median_pair(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def _rate(pair: tuple[float, float]) -> str:
    return f"{pair[0]:,.0f} (CPU time: {pair[1]:,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--skip-train", action="store_true", help="skip the full training run")
    args = parser.parse_args()

    pinned = pin_one_core()
    train_set, eval_set = load_split()
    all_texts = [m.text for m in load_messages()]
    eval_texts = [m.text for m in eval_set]

    # --- load ---------------------------------------------------------------------------------
    loads = []
    for _ in range(5):
        start = time.perf_counter()
        tagger = Tagger.load()
        loads.append(time.perf_counter() - start)
    model_file = artifact.current_dir() / artifact.MODEL_FILE
    size_mb = model_file.stat().st_size / 1e6

    # --- throughput and latency ------------------------------------------------------------------
    cold = throughput(tagger.predict, all_texts)  # fresh per-token / per-word caches
    warm = _median_pair([throughput(tagger.predict, all_texts) for _ in range(3)])
    pipeline_warm = _median_pair(
        [throughput(tagger.model.predict_proba, all_texts) for _ in range(3)]
    )
    tagger.predict_one(eval_texts[0])
    lat, lat_cpu = [], []
    for text in (eval_texts * 3)[:1500]:
        start, start_cpu = time.perf_counter(), time.process_time()
        tagger.predict_one(text)
        lat.append(time.perf_counter() - start)
        lat_cpu.append(time.process_time() - start_cpu)
    p50, p99 = np.percentile(lat, 50) * 1e3, np.percentile(lat, 99) * 1e3
    serving_loads = []
    for _ in range(5):
        start = time.perf_counter()
        served = ServingTagger.load()
        serving_loads.append(time.perf_counter() - start)
    served.predict_one(eval_texts[0])
    s_lat, s_lat_cpu = [], []
    for text in (eval_texts * 3)[:1500]:
        start, start_cpu = time.perf_counter(), time.process_time()
        served.predict_one(text)
        s_lat.append(time.perf_counter() - start)
        s_lat_cpu.append(time.process_time() - start_cpu)
    s_p99, s_p99_cpu = np.percentile(s_lat, 99) * 1e3, np.percentile(s_lat_cpu, 99) * 1e3
    p50_cpu, p99_cpu = np.percentile(lat_cpu, 50) * 1e3, np.percentile(lat_cpu, 99) * 1e3
    shipped = evaluate_model(tagger.model, tagger.thresholds, eval_set)
    none_ok, n_none, online_ok, n_online = none_shares(tagger, eval_set)

    # --- full training ---------------------------------------------------------------------------
    train_seconds = None
    if not args.skip_train:
        start = time.perf_counter()
        result = train(train_set, n_jobs=1)
        train_seconds = time.perf_counter() - start
        retrained = evaluate_model(result.model, result.thresholds, eval_set)
        assert retrained["macro_f1"] == shipped["macro_f1"], "training is not reproducible"

    # --- baselines ------------------------------------------------------------------------------
    # "plain": word TF-IDF + one-vs-rest LogisticRegression, all defaults, threshold 0.5;
    # "balanced": the same with class_weight="balanced" (a fairer reference at threshold 0.5).
    baselines = {}
    for name, weight in (("plain", None), ("balanced", "balanced")):
        start = time.perf_counter()
        base = Pipeline(
            [
                ("tfidf", TfidfVectorizer()),
                (
                    "classifier",
                    OneVsRestClassifier(LogisticRegression(max_iter=1000, class_weight=weight)),
                ),
            ]
        )
        base.fit([m.text for m in train_set], label_matrix(train_set))
        seconds = time.perf_counter() - start
        proba = np.asarray(base.predict_proba(eval_texts))
        report = evaluate_predictions(eval_set, proba, dict.fromkeys(TAGS, 0.5))
        speed = _median_pair([throughput(base.predict_proba, all_texts) for _ in range(3)])
        baselines[name] = (report, seconds, speed)
    (base_report, base_train, base_tp), (bal_report, bal_train, bal_tp) = (
        baselines["plain"],
        baselines["balanced"],
    )

    rows = [
        (
            f"eval macro-F1 ({len(eval_set)} msgs)",
            f"{shipped['macro_f1']:.4f}",
            f"{base_report['macro_f1']:.4f}",
            f"{bal_report['macro_f1']:.4f}",
        ),
        (
            "eval macro-F1; digital_service F1, thresholds chosen on the eval split itself "
            "(a bound, not a score)",
            _ceiling(shipped),
            _ceiling(base_report),
            _ceiling(bal_report),
        ),
        (
            "eval corruption recall / precision",
            _corruption(shipped),
            _corruption(base_report),
            _corruption(bal_report),
        ),
        (
            "eval digital_service P / R / F1",
            _tag(shipped, "digital_service"),
            _tag(base_report, "digital_service"),
            _tag(bal_report, "digital_service"),
        ),
        (
            f"no-tag messages left untagged ({n_none}); about eGov/online ({n_online})",
            f"{none_ok:.3f}; {online_ok:.3f}",
            "—",
            "—",
        ),
        (
            "eval macro-F1 kk / ru / en / kk-ru",
            _per_language(shipped),
            _per_language(base_report),
            _per_language(bal_report),
        ),
        ("batch throughput, warm (msgs/s)", _rate(warm), _rate(base_tp), _rate(bal_tp)),
        ("batch throughput, first pass (msgs/s)", _rate(cold), "—", "—"),
        ("batch throughput, warm, scikit-learn pipeline (msgs/s)", _rate(pipeline_warm), "—", "—"),
        (
            "serving path (linear.zip) single message p50 / p99 (ms)",
            f"{np.percentile(s_lat, 50) * 1e3:.2f} / {s_p99:.2f} "
            f"(CPU time: {np.percentile(s_lat_cpu, 50) * 1e3:.2f} / {s_p99_cpu:.2f})",
            "—",
            "—",
        ),
        ("serving path load, median of 5 (s)", f"{statistics.median(serving_loads):.3f}", "—", "—"),
        (
            "single message latency p50 / p99 (ms)",
            f"{p50:.2f} / {p99:.2f} (CPU time: {p50_cpu:.2f} / {p99_cpu:.2f})",
            "—",
            "—",
        ),
        ("artifact load, median of 5 (s)", f"{statistics.median(loads):.3f}", "—", "—"),
        ("artifact size model.skops (MB)", f"{size_mb:.2f}", "—", "—"),
        (
            "training time (s)",
            f"{train_seconds:.1f}" if train_seconds is not None else "skipped",
            f"{base_train:.1f}",
            f"{bal_train:.1f}",
        ),
    ]
    env = (
        f"Python {platform.python_version()}, {platform.machine()}, {pinned}, "
        f"{len(all_texts)} messages ({len(train_set)} train / {len(eval_set)} eval), "
        f"model {tagger.version}, library import {IMPORT_SECONDS:.1f} s (not in load time)"
    )
    table = [
        "| measure | tagger (shipped) | baseline: word TF-IDF + LR, thr 0.5 "
        "| baseline, class_weight=balanced |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
    ]
    corr = shipped["per_tag"]["corruption"]
    checks = [
        ("eval macro-F1 (seven tags) >= 0.88", shipped["macro_f1"], 0.88, True),
        *[
            (f"eval macro-F1 {k} >= 0.83", v["macro_f1"], 0.83, True)
            for k, v in shipped["per_language"].items()
        ],
        ("digital_service F1 >= 0.90", shipped["per_tag"]["digital_service"]["f1"], 0.90, True),
        ("corruption recall >= 0.92", corr["recall"], 0.92, True),
        ("corruption precision >= 0.88", corr["precision"], 0.88, True),
        ("no-tag messages left untagged >= 0.92", none_ok, 0.92, True),
        ("eGov praise and questions left untagged >= 0.95", online_ok, 0.95, True),
        ("warm batch throughput >= 5,000 msgs/s (wall clock)", warm[0], 5000, True),
        ("warm batch throughput >= 5,000 msgs/s (CPU time)", warm[1], 5000, True),
        (
            "warm batch, scikit-learn pipeline >= 5,000 msgs/s (CPU time)",
            pipeline_warm[1],
            5000,
            True,
        ),
        ("serving path single message p99 <= 5 ms (wall clock)", s_p99, 5.0, False),
        ("serving path single message p99 <= 5 ms (CPU time)", s_p99_cpu, 5.0, False),
        ("serving path load <= 1 s", statistics.median(serving_loads), 1.0, False),
        ("single message p99 <= 5 ms (wall clock)", p99, 5.0, False),
        ("single message p99 <= 5 ms (CPU time)", p99_cpu, 5.0, False),
        ("artifact load <= 1 s", statistics.median(loads), 1.0, False),
        ("artifact size <= 30 MB", size_mb, 30.0, False),
    ]
    if train_seconds is not None:
        checks.append(("training < 120 s (one core here)", train_seconds, 120.0, False))
    target_lines = []
    for label, value, bound, higher in checks:
        ok = value >= bound if higher else value <= bound
        verdict = "met" if ok else f"MISSED by {abs(value - bound):.4g}"
        target_lines.append(f"- {label}: {value:.4g} — {verdict}")
    table += ["", "Targets:", "", *target_lines]
    env += f", load average at the end {os.getloadavg()[0]:.1f} (CPUs shared with other work)"
    print(env)
    print("\n".join(table))
    if args.write:
        write_section(env, table)


def _corruption(report: dict) -> str:
    tag = report["per_tag"]["corruption"]
    return f"{tag['recall']:.3f} / {tag['precision']:.3f}"


def _tag(report: dict, tag: str) -> str:
    s = report["per_tag"][tag]
    return f"{s['precision']:.3f} / {s['recall']:.3f} / {s['f1']:.3f}"


def _ceiling(report: dict) -> str:
    ceiling = report["threshold_ceiling"]
    return f"{ceiling['macro_f1']:.4f}; {ceiling['per_tag']['digital_service']:.3f}"


def _per_language(report: dict) -> str:
    langs = report["per_language"]
    return " / ".join(f"{langs[k]['macro_f1']:.3f}" for k in ("kk", "ru", "en", "kk-ru"))


def write_section(env: str, table: list[str]) -> None:
    """Replace (or add) the head of the "## Classifier" section of BENCHMARKS.md: the text up to
    its first subsection, so the hand-written subsections below it ("Bulk tagging", …) stay."""
    path = ROOT / "BENCHMARKS.md"
    section = "\n".join(
        [
            "## Classifier",
            "",
            "Complaint tagger (`classifier/`), measured on one core "
            "(OMP/OPENBLAS/MKL threads = 1, CPU affinity pinned), as measured on "
            f"{time.strftime('%Y-%m-%d', time.gmtime())}.",
            "Training time = seeded search over C, per tag (5 iteratively stratified folds) + "
            "out-of-fold thresholds + final fit, one job; the baseline is trained in the same run.",
            "",
            env,
            "",
            *table,
            "",
            "Reproduce:",
            "",
            "```",
            COMMAND,
            "```",
            "",
            "",
        ]
    )
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(r"^## Classifier\n.*?(?=^##+ |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
