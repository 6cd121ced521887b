"""Model files saved before the n-gram counter (or the quoted-speech branch), loaded as
pipelines of today's structure.

Until 2026-12 each TF-IDF branch was one ``FastTfidfVectorizer`` (``features__char__tfidf``);
now it is an :class:`~classifier.counting.NgramCounter` (``counts``) followed by
scikit-learn's ``TfidfTransformer`` (``tfidf``). A model retrained in a deployment's own
artifact directory may still be in the old form; its vocabulary, idf weights and classifier
are carried over unchanged, so it predicts the same numbers.
"""

from __future__ import annotations

from typing import Any

from sklearn.pipeline import FeatureUnion, Pipeline

from classifier.counting import NgramCounter
from classifier.pipeline import FastTfidfVectorizer

_WHITESPACE_TOKENS = r"\S+"

LEGACY_TYPES = frozenset({"classifier.pipeline.FastTfidfVectorizer"})
"""The types only an old-form model file holds (allowed on load, converted at once)."""


def upgrade(model: Any) -> Any:
    """``model`` with every old-form TF-IDF branch of its feature union replaced (in place),
    and a normaliser saved before the quoted-speech branch given that setting, off."""
    normalizer = getattr(model, "named_steps", {}).get("normalize")
    if normalizer is not None and not hasattr(normalizer, "quotes"):
        normalizer.quotes = False
    union = getattr(model, "named_steps", {}).get("features")
    if not isinstance(union, FeatureUnion):
        return model
    union.transformer_list = [(name, _branch(branch)) for name, branch in union.transformer_list]
    return model


def _branch(branch: Any) -> Any:
    """A ``select → tfidf`` branch as ``select → counts → tfidf``; any other branch as it is."""
    if not isinstance(branch, Pipeline) or not isinstance(branch.steps[-1][1], FastTfidfVectorizer):
        return branch
    old = branch.steps[-1][1].__dict__
    if not _counted_alike(old):
        raise ValueError("an old-form branch whose n-grams the counter does not cut the same way")
    counter = NgramCounter(
        analyzer=old["analyzer"],
        ngram_range=tuple(old["ngram_range"]),
        min_df=old["min_df"],
        max_features=old["max_features"],
        dtype=old["dtype"],
    )
    counter.terms_ = old["vocabulary_terms_"]
    # The old vectorizer kept its fitted scikit-learn TfidfTransformer (idf weights and all).
    return Pipeline([*branch.steps[:-1], ("counts", counter), ("tfidf", old["_tfidf"])])


def _counted_alike(old: dict[str, Any]) -> bool:
    """Whether the old vectorizer cut and counted n-grams as :class:`NgramCounter` does (the
    only settings its fast path, and so any shipped or retrained model, ever used)."""
    untouched = ("preprocessor", "tokenizer", "strip_accents", "stop_words")
    return (
        (
            old["analyzer"] == "char_wb"
            or (old["analyzer"] == "word" and old["token_pattern"] == _WHITESPACE_TOKENS)
        )
        and not old["lowercase"]
        and not old["binary"]
        and all(old[key] is None for key in untouched)
    )
