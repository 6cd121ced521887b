"""Tagger: batched prediction, bad inputs, the exact fast path, explanations."""

from __future__ import annotations

import random

import numpy as np
import skops.io as sio
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

from classifier.counting import NgramCounter
from classifier.ngrams import char_wb_ngrams
from classifier.serving import ServingTagger
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


def test_ngram_counts_and_tfidf_match_scikit_learns_vectorizer(small_split) -> None:
    docs = [m.text.lower() for m in small_split[0]]
    for params in (
        {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2},
        {"analyzer": "word", "ngram_range": (1, 2)},
        {"analyzer": "char_wb", "ngram_range": (2, 4), "max_features": 3000},
        {"analyzer": "char_wb", "ngram_range": (2, 3), "min_df": 0.01},
        {"analyzer": "word", "ngram_range": (1, 2), "min_df": 2, "max_features": 500},
    ):
        counts = NgramCounter(**params)
        tfidf = TfidfTransformer(sublinear_tf=True)
        ours = tfidf.fit_transform(counts.fit_transform(docs))
        if params["analyzer"] == "word":
            params = {**params, "token_pattern": r"\S+"}
        if "max_features" in params:
            # scikit-learn breaks ties at the cut by the CPU's sort; ours as _most_frequent says
            params = {**params, "vocabulary": _most_frequent(docs, params)}
        ref = TfidfVectorizer(**params, lowercase=False, sublinear_tf=True, dtype=np.float32)
        expected = ref.fit_transform(docs)
        assert counts.terms_.tolist() == ref.get_feature_names_out().tolist()
        assert np.array_equal(tfidf.idf_, ref.idf_)
        assert abs(ours - expected).max() < 1e-6
        for _ in range(2):  # the second pass uses the per-word cache
            assert abs(tfidf.transform(counts.transform(docs)) - ref.transform(docs)).max() < 1e-6
    assert char_wb_ngrams("ab", 2, 5) == [" a", "ab", "b ", " ab", "ab ", " ab "]


def _most_frequent(docs: list[str], params: dict) -> list[str]:
    """The ``max_features`` most frequent terms kept by ``min_df``, ties broken by the number
    of documents, then alphabetically: the vocabulary the counter promises, found by
    scikit-learn's counting and a plain sort."""
    params = dict(params)
    limit = params.pop("max_features")
    every = CountVectorizer(**params, lowercase=False).fit(docs)
    counts = every.transform(docs)
    totals = np.asarray(counts.sum(axis=0)).ravel()
    documents = np.asarray((counts > 0).sum(axis=0)).ravel()
    terms = every.get_feature_names_out().tolist()
    ranked = sorted(range(len(terms)), key=lambda k: (-totals[k], -documents[k], terms[k]))
    return sorted(terms[k] for k in ranked[:limit])


def test_ties_at_the_vocabulary_cut_are_broken_the_same_way_everywhere() -> None:
    # 20,000 words seen one to four times, in shuffled order: long enough, and with enough
    # ties, for numpy's vectorised unstable sort to scramble equally frequent words.
    rng = random.Random(5)
    seen = {f"w{n:05d}": rng.randint(1, 4) for n in range(20_000)}
    words = [word for word, times in seen.items() for _ in range(times)]
    rng.shuffle(words)
    docs = [" ".join(words[i::200]) for i in range(200)]
    counts = NgramCounter(analyzer="word", ngram_range=(1, 1), max_features=9_001)
    counts.fit(docs)
    in_docs = {word: sum(word in doc.split() for doc in docs) for word in seen}
    ranked = sorted(seen, key=lambda word: (-seen[word], -in_docs[word], word))
    assert counts.terms_.tolist() == sorted(ranked[:9_001])


def test_a_tie_goes_to_the_term_in_more_messages() -> None:
    counts = NgramCounter(analyzer="word", ngram_range=(1, 1), max_features=2)
    counts.fit(["a a c", "b c", "b d"])  # a, b and c twice each; only a in one message
    assert counts.terms_.tolist() == ["b", "c"]


def test_a_saved_counter_keeps_its_vocabulary_but_not_its_lookups(tmp_path) -> None:
    counter = NgramCounter(analyzer="word", ngram_range=(1, 2))
    before = counter.fit_transform(["a b c", "b c d", "unseen"]).toarray()
    counter.transform(["a b"])  # builds the lookup dict
    sio.dump(counter, tmp_path / "counter.skops")
    stored = sio.load(tmp_path / "counter.skops", trusted=["classifier.counting.NgramCounter"])
    assert "_lookup" not in stored.__dict__
    assert isinstance(stored.terms_, np.ndarray)
    assert np.array_equal(stored.transform(["a b c", "b c d", "unseen"]).toarray(), before)


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


def test_explanations_show_words_as_the_citizen_typed_them() -> None:
    tagger = ServingTagger.load()
    text = "Консультант сказала «мы такое не принимаем», а в приложении этой услуги нет вообще"
    named = {w for pairs in tagger.explain(text, all_tags=True).values() for w, _ in pairs}
    # folded forms ("консултант") and the view's upper case for negation ("ПРИНИМАЕМ") stay
    # inside the model; staff read the words as typed, a negated one as "not ..."
    assert "консультант" in named and "консултант" not in named, named
    assert "not принимаем" in named, named
    assert not any(w.isupper() for w in named), named


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
