"""Per-tag decision thresholds: chosen on probabilities, and the scores they give."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve, precision_recall_fscore_support

from classifier.tags import TAGS

CORRUPTION_MIN_RECALL = 0.92
"""Corruption's threshold is the best F1 among those that keep at least this recall."""


def choose_threshold(
    y_true: np.ndarray, proba: np.ndarray, min_recall: float | None = None
) -> float:
    """Threshold maximising F1; with ``min_recall``, the best F1 among those meeting it."""
    if not y_true.any():
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y_true, proba)
    precision, recall = precision[:-1], recall[:-1]
    f1 = np.where(
        precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0
    )
    if min_recall is not None:
        ok = recall >= min_recall
        if ok.any():
            f1 = np.where(ok, f1, -1.0)
        else:
            return float(thresholds[int(np.argmax(recall))])
    best = int(np.argmax(f1))
    return float(thresholds[best])


def choose_thresholds(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Per-tag thresholds from out-of-fold probabilities (corruption: recall >= 0.92)."""
    out: dict[str, float] = {}
    for k, tag in enumerate(TAGS):
        min_recall = CORRUPTION_MIN_RECALL if tag == "corruption" else None
        # floor, not round: a rounded-up threshold could drop the boundary message
        out[tag] = math.floor(choose_threshold(y[:, k], proba[:, k], min_recall) * 1e6) / 1e6
    return out


def threshold_scores(
    y: np.ndarray, proba: np.ndarray, thresholds: Mapping[str, float]
) -> dict[str, Any]:
    """Per-tag precision/recall/F1 and macro-F1 of thresholded probabilities."""
    pred = (proba >= np.array([thresholds[tag] for tag in TAGS])).astype(np.int64)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, pred, average=None, labels=range(len(TAGS)), zero_division=0.0
    )
    per_tag = {
        tag: {
            "precision": round(float(precision[k]), 4),
            "recall": round(float(recall[k]), 4),
            "f1": round(float(f1[k]), 4),
        }
        for k, tag in enumerate(TAGS)
    }
    macro = float(np.mean([v["f1"] for v in per_tag.values()]))
    return {"per_tag": per_tag, "macro_f1": round(macro, 4)}
