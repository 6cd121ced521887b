"""Shared fixtures for the classifier tests: small real-data subsets and a fast tiny model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from classifier.data import load_split
from classifier.tags import LabelledText
from classifier.train import TrainResult, train

# Mechanics tests do not need a good model: small features, no search.
FAST_PARAMS: dict[str, Any] = {
    "features__char__counts__ngram_range": (2, 4),
    "features__char__counts__max_features": 8000,
    "features__word__counts__max_features": 5000,
    "classifier__estimator__C": 10.0,
}


@pytest.fixture(scope="session")
def split() -> tuple[list[LabelledText], list[LabelledText]]:
    """The real fixed split (train, eval)."""
    return load_split()


@pytest.fixture(scope="session")
def small_split(
    split: tuple[list[LabelledText], list[LabelledText]],
) -> tuple[list[LabelledText], list[LabelledText]]:
    """Every 4th train message and every 3rd eval message: fast, still all tags and languages."""
    train_set, eval_set = split
    return train_set[::4], eval_set[::3]


@pytest.fixture(scope="session")
def tiny_model(small_split: tuple[list[LabelledText], list[LabelledText]]) -> TrainResult:
    """A model trained in about a second on the small train subset."""
    return train(small_split[0], search=False, params=FAST_PARAMS, n_jobs=1)


@pytest.fixture()
def tmp_root(tmp_path: Path) -> Path:
    """An empty artifact root."""
    root = tmp_path / "artifacts"
    root.mkdir()
    return root
