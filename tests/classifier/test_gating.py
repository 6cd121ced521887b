"""The complaint gate: one more column, "any tag at all", that tempers every tag's probability."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from classifier import artifact
from classifier.data import label_matrix
from classifier.gating import combine, gate_probabilities
from classifier.linear import LinearModel
from classifier.pipeline import GatedOneVsRest, build_pipeline
from classifier.tagger import Tagger
from classifier.tags import TAGS, LabelledText
from classifier.train import COLUMNS, TrainResult

from .conftest import FAST_PARAMS


def test_the_gate_tempers_each_tag_by_a_weighted_geometric_mean() -> None:
    assert combine([0.8, 0.2], 1.0, 0.0) == [0.8, 0.2]
    low, high = combine([0.8], 0.05, 0.25)[0], combine([0.8], 0.95, 0.25)[0]
    assert low == pytest.approx(0.8**0.75 * 0.05**0.25)
    assert low < 0.5 < high  # the same topic, with and without a complaint
    raw = np.array([[0.8, 0.2, 0.05], [0.8, 0.2, 0.95]])
    assert np.allclose(gate_probabilities(raw, 0.25), [combine(r[:-1], r[-1], 0.25) for r in raw])


def test_the_classifier_learns_the_gate_on_any_tag_and_outputs_the_tags_only(
    tiny_model: TrainResult, small_split: tuple[list[LabelledText], list[LabelledText]]
) -> None:
    train_set, eval_set = small_split
    clf = tiny_model.model.named_steps["classifier"]
    assert isinstance(clf, GatedOneVsRest)
    assert len(clf.estimators_) == len(COLUMNS) == len(TAGS) + 1
    assert len(clf.classes_) == len(TAGS)
    features = tiny_model.model[:-1].transform([m.text for m in train_set])
    any_tag = label_matrix(train_set).any(axis=1)
    alone = clone(clf.estimators_[-1]).fit(features, any_tag)
    assert np.allclose(alone.coef_, clf.estimators_[-1].coef_)

    texts = [m.text for m in eval_set]
    eval_features = tiny_model.model[:-1].transform(texts)
    raw = np.column_stack([e.predict_proba(eval_features)[:, 1] for e in clf.estimators_])
    gated = tiny_model.model.predict_proba(texts)
    assert gated.shape == (len(texts), len(TAGS))
    assert np.allclose(gated, raw[:, :-1] ** (1 - clf.gate_weight) * raw[:, -1:] ** clf.gate_weight)
    assert not np.allclose(gated, raw[:, :-1])


def test_one_product_for_all_columns_gives_each_models_own_numbers(
    tiny_model: TrainResult, small_split: tuple[list[LabelledText], list[LabelledText]]
) -> None:
    texts = [m.text for m in small_split[1]]
    for model in (tiny_model.model, Tagger.load().model):
        clf = model.named_steps["classifier"]
        features = model[:-1].transform(texts)
        each = np.column_stack([e.predict_proba(features)[:, 1] for e in clf.estimators_])
        assert np.array_equal(clf._column_probabilities(features), each)
        assert np.array_equal(clf._column_probabilities(features[:1]), each[:1])
        assert "_stacked_coefficients" in clf.__dict__


def test_a_swapped_column_model_is_used_at_once(
    tiny_model: TrainResult, small_split: tuple[list[LabelledText], list[LabelledText]]
) -> None:
    # Training swaps in a column's model refitted with its own C after the pipeline's fit.
    model = copy.deepcopy(tiny_model.model)
    clf = model.named_steps["classifier"]
    features = model[:-1].transform([m.text for m in small_split[1]])
    before = clf._column_probabilities(features)
    swapped = clone(clf.estimators_[0]).set_params(C=0.01)
    clf.estimators_[0] = swapped.fit(features, before[:, 0] >= 0.5)
    after = clf._column_probabilities(features)
    assert np.array_equal(after[:, 0], swapped.predict_proba(features)[:, 1])
    assert not np.array_equal(after[:, 0], before[:, 0])
    assert np.array_equal(after[:, 1:], before[:, 1:])


def test_a_column_without_a_model_of_its_own_is_asked_in_turn(
    small_split: tuple[list[LabelledText], list[LabelledText]],
) -> None:
    train_set = small_split[0]
    texts = [m.text for m in train_set]
    y = label_matrix(train_set)
    y[:, 0] = 0  # no message with the first tag: one-vs-rest keeps a constant predictor there
    with pytest.warns(UserWarning, match="Label not 0 is present in all training examples"):
        model = build_pipeline(FAST_PARAMS, gate=True).fit(texts, y)
    clf = model.named_steps["classifier"]
    assert not isinstance(clf.estimators_[0], LogisticRegression)
    proba = model.predict_proba(texts[:20])
    assert proba.shape == (20, len(TAGS))
    assert np.all(proba[:, 0] == 0.0) and np.any(proba[:, 1:] > 0.0)
    assert "_stacked_coefficients" not in clf.__dict__


def test_a_saved_model_does_not_carry_the_stacked_coefficients(
    tiny_model: TrainResult,
    small_split: tuple[list[LabelledText], list[LabelledText]],
    tmp_path: Path,
) -> None:
    texts = [m.text for m in small_split[1]]
    before = tiny_model.model.predict_proba(texts)  # builds the stacked coefficients
    target = artifact.save(
        tiny_model.model, {"thresholds": tiny_model.thresholds, "version": "t"}, tmp_path
    )
    loaded = artifact.load(target).model
    assert "_stacked_coefficients" not in loaded.named_steps["classifier"].__dict__
    assert np.array_equal(loaded.predict_proba(texts), before)


def test_a_linear_file_from_before_the_gate_serves_ungated() -> None:
    def model(gate_weight: float | None) -> LinearModel:
        columns = len(TAGS) + (gate_weight is not None)
        return LinearModel(
            {"mode": "message", "char_neg": "upper", "concepts": True, "stem": 0},
            [],
            [],
            [0.0] * len(TAGS) + [-2.0] * (columns - len(TAGS)),
            gate_weight,
        )

    assert model(None).n_tags == model(0.25).n_tags == len(TAGS)
    assert model(None).proba(["x"]) == [[0.5] * len(TAGS)]
    gate = 1 / (1 + math.exp(2.0))
    assert model(0.25).proba(["x"])[0] == pytest.approx([0.5**0.75 * gate**0.25] * len(TAGS))


def test_an_unfitted_gated_classifier_says_so() -> None:
    with pytest.raises(NotFittedError):
        GatedOneVsRest(LogisticRegression()).predict_proba(np.zeros((1, 3)))
