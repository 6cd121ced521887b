"""Per-tag thresholds: training's choice rule, and the ceiling the evaluation reports with it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, recall_score

from classifier.evaluate import threshold_ceiling
from classifier.tags import TAGS
from classifier.thresholds import CORRUPTION_MIN_RECALL, choose_threshold, choose_thresholds

CORRUPTION = TAGS.index("corruption")


def _noisy_scores(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities that rank them well but not perfectly, for every tag."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, len(TAGS))) < 0.2).astype(np.int64)
    proba = np.clip(0.35 * y + rng.normal(0.3, 0.18, y.shape), 0.0, 1.0)
    return y, proba


def test_separable_scores_get_a_threshold_between_the_classes() -> None:
    y = np.array([0, 0, 0, 1, 1])
    proba = np.array([0.1, 0.2, 0.3, 0.7, 0.9])
    threshold = choose_threshold(y, proba)
    assert 0.3 < threshold <= 0.7


def test_a_recall_floor_lowers_the_threshold_to_meet_it() -> None:
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 1])
    proba = np.array([0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5, 0.4, 0.3, 0.05])
    assert choose_threshold(y, proba) > 0.05  # F1 alone gives up the last positive
    floored = choose_threshold(y, proba, min_recall=1.0)
    assert recall_score(y, proba >= floored) == 1.0


def test_corruption_thresholds_keep_their_recall_floor() -> None:
    y, proba = _noisy_scores(seed=3)
    thresholds = choose_thresholds(y, proba)
    kept = proba[:, CORRUPTION] >= thresholds["corruption"]
    assert recall_score(y[:, CORRUPTION], kept) >= CORRUPTION_MIN_RECALL


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_no_threshold_beats_the_ceiling(seed: int) -> None:
    y, proba = _noisy_scores(seed)
    ceiling = threshold_ceiling(y, proba)
    for k, tag in enumerate(TAGS):
        for threshold in np.linspace(0.0, 1.0, 41):
            pred = proba[:, k] >= threshold
            if k == CORRUPTION and recall_score(y[:, k], pred) < CORRUPTION_MIN_RECALL:
                continue
            assert f1_score(y[:, k], pred) <= ceiling["per_tag"][tag] + 1e-4, (tag, threshold)
    macro = np.mean(list(ceiling["per_tag"].values()))
    assert ceiling["macro_f1"] == pytest.approx(macro, abs=1e-4)


def test_the_ceiling_is_reached_by_a_threshold() -> None:
    y, proba = _noisy_scores(seed=8)
    ceiling = threshold_ceiling(y, proba)
    for k, tag in enumerate(TAGS):
        best = max(f1_score(y[:, k], proba[:, k] >= t) for t in np.unique(proba[:, k]))
        if k != CORRUPTION:
            assert ceiling["per_tag"][tag] == pytest.approx(best, abs=1e-4), tag
