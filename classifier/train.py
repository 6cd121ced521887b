"""Training: seeded hyper-parameter search and per-tag thresholds, on the train split only."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GridSearchCV, cross_val_predict
from sklearn.pipeline import Pipeline

from classifier.data import label_matrix, stratified_folds
from classifier.gating import GATE_NAME, gate_probabilities
from classifier.pipeline import DEFAULT_PARAMS, DEFAULT_SEED, build_pipeline, with_gate_column
from classifier.tags import TAGS, LabelledText
from classifier.thresholds import choose_thresholds, threshold_scores

N_FOLDS = 5

C_KEY = "classifier__estimator__C"
GATE_KEY = "classifier__gate_weight"
COLUMNS: tuple[str, ...] = (*TAGS, GATE_NAME)
"""The classifier's columns: the tags, then the complaint gate (``classifier.gating``)."""

PARAM_GRID: dict[str, list[Any]] = {
    C_KEY: [3.0, 10.0, 30.0, 100.0],
}
"""The small seeded search run by ``train`` (combined with ``DEFAULT_PARAMS``): a grid over C
alone is searched per tag."""


@dataclass
class TrainResult:
    """A fitted pipeline with the parameters, thresholds and cross-validation scores behind it."""

    model: Pipeline
    params: dict[str, Any]
    thresholds: dict[str, float]
    cv_scores: dict[str, Any] = field(default_factory=dict)
    train_seconds: float = 0.0


def macro_average_precision(estimator: Any, X: Sequence[str], y: np.ndarray) -> float:
    """Search scorer: mean over tags of average precision (threshold-free)."""
    proba = np.asarray(estimator.predict_proba(X))
    scores = [
        average_precision_score(y[:, k], proba[:, k]) for k in range(y.shape[1]) if y[:, k].any()
    ]
    return float(np.mean(scores)) if scores else 0.0


def train(
    train_set: Sequence[LabelledText],
    seed: int = DEFAULT_SEED,
    *,
    search: bool = True,
    params: Mapping[str, Any] | None = None,
    param_grid: Mapping[str, list[Any]] | None = None,
    n_folds: int = N_FOLDS,
    n_jobs: int | None = 2,
    kind: str = "lr",
) -> TrainResult:
    """Fit the tagger on ``train_set`` only.

    With ``search`` a seeded grid search over iteratively stratified folds picks the
    hyper-parameters (scored by average precision); a grid over C alone is searched per tag,
    each tag (and the complaint gate) keeping its best C. Thresholds then come from
    out-of-fold probabilities of the chosen configuration, gated as the model gates them
    (F1-optimal per tag, corruption constrained to OOF recall >= 0.92).
    Without ``search``, ``params`` are used as given.
    """
    start = time.perf_counter()
    texts = [m.text for m in train_set]
    y = label_matrix(train_set)
    folds = stratified_folds(train_set, n_folds, seed)
    chosen: dict[str, Any] = dict(params or {})
    cv_scores: dict[str, Any] = {"n_folds": n_folds, "fold_seed": seed}
    per_tag_c: dict[str, float] = {}
    y_columns = with_gate_column(y)  # the tags, then the gate's "any tag"
    with tempfile.TemporaryDirectory(prefix="pikir-train-") as cache_dir:
        # Fitted feature steps are cached per fold, so trying several C values refits only
        # the linear models. The final pipeline is built without the cache.
        memory = joblib.Memory(location=cache_dir, verbose=0)
        grid = dict(param_grid or PARAM_GRID)
        if search and set(grid) == {C_KEY} and kind == "lr":
            # One out-of-fold run per C, of every column ungated (the tags and the gate);
            # each column then keeps the C under which its own out-of-fold average precision
            # is best (tags differ in how much data they have), and the picked columns are
            # gated as the fitted model will gate them.
            runs = {}
            for c in grid[C_KEY]:
                cached = build_pipeline(
                    {**chosen, C_KEY: c}, seed=seed, kind=kind, memory=memory, gate=False
                )
                runs[float(c)] = np.asarray(
                    cross_val_predict(
                        cached, texts, y_columns, cv=folds, method="predict_proba", n_jobs=n_jobs
                    )
                )
            per_tag_c, raw, search_log = _pick_per_tag(y_columns, runs)
            proba = gate_probabilities(raw, float(chosen.get(GATE_KEY, DEFAULT_PARAMS[GATE_KEY])))
            chosen[C_KEY] = _most_common(list(per_tag_c.values()))
            cv_scores["search"] = search_log
            cv_scores["per_tag_C"] = per_tag_c
            cv_scores["search_best_macro_ap"] = round(
                float(np.mean([s["macro_ap"] for s in search_log if s["params"] == "per_tag"])), 4
            )
        else:
            if search:
                gs = GridSearchCV(
                    build_pipeline(chosen, seed=seed, kind=kind, memory=memory),
                    grid,
                    scoring=macro_average_precision,
                    cv=folds,
                    n_jobs=n_jobs,
                    refit=False,
                    error_score="raise",
                )
                gs.fit(texts, y)
                chosen.update(gs.best_params_)
                cv_scores["search_best_macro_ap"] = round(float(gs.best_score_), 4)
                cv_scores["search"] = [
                    {"params": _jsonable(p), "macro_ap": round(float(s), 4)}
                    for p, s in zip(
                        gs.cv_results_["params"], gs.cv_results_["mean_test_score"], strict=True
                    )
                ]
            cached = build_pipeline(chosen, seed=seed, kind=kind, memory=memory)
            proba = np.asarray(
                cross_val_predict(cached, texts, y, cv=folds, method="predict_proba", n_jobs=n_jobs)
            )
    thresholds = choose_thresholds(y, proba)
    oof = threshold_scores(y, proba, thresholds)
    cv_scores["oof"] = oof
    cv_scores["oof_macro_f1"] = oof["macro_f1"]
    pipe = build_pipeline(chosen, seed=seed, kind=kind)
    pipe.fit(texts, y)
    if per_tag_c:
        _refit_tags(pipe, texts, y_columns, per_tag_c, chosen[C_KEY])
    all_params = {k: v for k, v in pipe.get_params().items() if _is_hyper(k)}
    extra_params: dict[str, Any] = {"per_tag_C": per_tag_c} if per_tag_c else {}
    return TrainResult(
        model=pipe,
        params=_jsonable({**all_params, **chosen, **extra_params, "seed": seed, "kind": kind}),
        thresholds=thresholds,
        cv_scores=cv_scores,
        train_seconds=round(time.perf_counter() - start, 2),
    )


def _pick_per_tag(
    y: np.ndarray, runs: Mapping[float, np.ndarray]
) -> tuple[dict[str, float], np.ndarray, list[dict[str, Any]]]:
    """Per column (``COLUMNS``: the tags, then the gate), the C whose out-of-fold average
    precision is highest (ties: the smaller C).

    Returns the per-column C, the out-of-fold probabilities assembled from those runs, and a
    log of every run's per-column and macro average precision (the macro over the tags).
    """
    ap = {
        c: [
            float(average_precision_score(y[:, k], p[:, k])) if y[:, k].any() else 0.0
            for k in range(len(COLUMNS))
        ]
        for c, p in runs.items()
    }
    per_tag: dict[str, float] = {}
    proba = np.zeros_like(next(iter(runs.values())))
    for k, tag in enumerate(COLUMNS):
        best = max(sorted(runs), key=lambda c: (ap[c][k], -c))
        per_tag[tag] = best
        proba[:, k] = runs[best][:, k]
    log: list[dict[str, Any]] = [
        {
            "params": {C_KEY: c},
            "macro_ap": round(float(np.mean(ap[c][: len(TAGS)])), 4),
            "per_tag_ap": {t: round(a, 4) for t, a in zip(COLUMNS, ap[c], strict=True)},
        }
        for c in sorted(runs)
    ]
    picked = [ap[per_tag[t]][k] for k, t in enumerate(TAGS)]  # the tags' macro, gate aside
    log.append({"params": "per_tag", "macro_ap": round(float(np.mean(picked)), 4)})
    return per_tag, proba, log


def _most_common(values: Sequence[float]) -> float:
    """The most frequent value (ties: the smallest)."""
    return min(set(values), key=lambda v: (-values.count(v), v))


def _refit_tags(
    pipe: Pipeline, texts: Sequence[str], y: np.ndarray, per_tag_c: Mapping[str, float], c: float
) -> None:
    """Refit, with its own C, each column's (a tag's or the gate's) logistic regression whose C
    differs from ``c``; ``y`` has one column per ``COLUMNS`` entry.

    The one-vs-rest estimators stay plain ``LogisticRegression`` objects, so the artifact and
    the standard-library serving path are unchanged.
    """
    clf = pipe.named_steps["classifier"]
    features = pipe[:-1].transform(list(texts))
    for k, tag in enumerate(COLUMNS):
        estimator = clf.estimators_[k]
        if per_tag_c[tag] == c or not isinstance(estimator, LogisticRegression):
            continue
        refit = clone(estimator).set_params(C=per_tag_c[tag])
        clf.estimators_[k] = refit.fit(features, y[:, k])


_HYPER_KEYS = (
    "normalize__mode",
    "normalize__char_neg",
    "normalize__concepts",
    "normalize__stem",
    "normalize__quotes",
    "features__char__counts__ngram_range",
    "features__char__counts__min_df",
    "features__char__counts__max_features",
    "features__word__counts__ngram_range",
    "features__word__counts__min_df",
    "features__word__counts__max_features",
    "features__quoted__counts__ngram_range",
    "features__quoted__counts__min_df",
    "features__quoted__counts__max_features",
    "features__transformer_weights",
    "classifier__estimator__C",
    "classifier__estimator__estimator__C",
    GATE_KEY,
)


def _is_hyper(key: str) -> bool:
    return key in _HYPER_KEYS


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
