"""Tagger: batched prediction, bad inputs, the exact fast path, explanations."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.pipeline import FastTfidfVectorizer, char_wb_ngrams
from classifier.tagger import Tagger
from classifier.tags import TAGS, Prediction
from classifier.train import TrainResult


def _tagger(result: TrainResult) -> Tagger:
    return Tagger(result.model, result.thresholds, version="test")


def test_fast_path_equals_the_pipeline(tiny_model: TrainResult, small_split) -> None:
    tagger = _tagger(tiny_model)
    assert tagger.linear is not None
    texts = [m.text for m in small_split[1]]
    assert np.allclose(tagger.predict_proba(texts), tiny_model.model.predict_proba(texts))


def test_fast_vectorizer_matches_scikit_learn(small_split) -> None:
    docs = [m.text.lower() for m in small_split[0]]
    for params in (
        {"analyzer": "char_wb", "ngram_range": (2, 5), "lowercase": False, "min_df": 2},
        {"analyzer": "word", "token_pattern": r"\S+", "ngram_range": (1, 2), "lowercase": False},
        {"analyzer": "char_wb", "ngram_range": (2, 4), "lowercase": False, "sublinear_tf": True},
        {"analyzer": "char_wb", "ngram_range": (2, 3), "lowercase": False, "norm": "l1"},
        {"analyzer": "word", "token_pattern": r"\S+", "lowercase": False, "norm": None},
    ):
        fast = FastTfidfVectorizer(**params).fit(docs)
        ref = TfidfVectorizer(**params).fit(docs)
        assert fast.vocabulary_ == ref.vocabulary_
        for _ in range(2):  # second pass uses the per-word cache
            assert abs(fast.transform(docs) - ref.transform(docs)).max() < 1e-9
    assert char_wb_ngrams("ab", 2, 5) == [" a", "ab", "b ", " ab", "ab ", " ab "]


def test_bad_inputs_give_empty_predictions(tiny_model: TrainResult) -> None:
    tagger = _tagger(tiny_model)
    preds = tagger.predict([None, "", "   ", 42, "оператор накричала", ["x"]])  # type: ignore[list-item]
    assert preds[0] == preds[1] == preds[2] == preds[3] == preds[5] == Prediction([], {})
    assert set(preds[4].scores) == set(TAGS)
    assert tagger.predict([]) == []
    assert tagger.predict_one(None) == Prediction([], {})


def test_labels_follow_thresholds_and_severity_order(tiny_model: TrainResult, small_split) -> None:
    tagger = _tagger(tiny_model)
    for pred in tagger.predict([m.text for m in small_split[1][:40]]):
        expected = [t for t in TAGS if pred.scores[t] >= round(tagger.thresholds[t], 4)]
        assert [t for t in pred.labels] == [t for t in TAGS if t in pred.labels]
        assert set(pred.labels) <= set(expected)


def test_explain_names_the_pushing_words() -> None:
    tagger = Tagger.load()
    text = "оператор накричала на меня при всех и швырнула паспорт"
    assert "rudeness" in tagger.predict_one(text).labels
    why = tagger.explain(text, top=3)
    assert set(why) == set(tagger.predict_one(text).labels)
    words = why["rudeness"]
    assert 1 <= len(words) <= 3
    assert all(isinstance(w, str) and c > 0 for w, c in words)
    assert any(w.startswith(("накрич", "швырн", "[rude")) for w, _ in words), words
    assert set(tagger.explain(text, all_tags=True)) == set(TAGS)
    assert tagger.explain("") == {}
