"""The serving tagger: the pipeline's numbers and labels, without scikit-learn or numpy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classifier import artifact, ngrams
from classifier.layout import LINEAR_FILE
from classifier.linear import LinearModel
from classifier.ngrams import char_wb_ngrams
from classifier.port import TaggerModel
from classifier.serving import ServingTagger
from classifier.tagger import Tagger
from classifier.tags import LabelledText
from classifier.train import TrainResult

ROOT = Path(__file__).resolve().parents[2]


def test_a_saved_model_serves_the_pipelines_numbers(
    tiny_model: TrainResult,
    small_split: tuple[list[LabelledText], list[LabelledText]],
    tmp_path: Path,
) -> None:
    target = artifact.save(
        tiny_model.model, {"thresholds": tiny_model.thresholds, "version": "t"}, tmp_path
    )
    assert (target / LINEAR_FILE).exists()
    # Two implementations of one port: whichever the service holds, it tags the same.
    served: TaggerModel = ServingTagger.load(target)
    full: TaggerModel = Tagger(tiny_model.model, tiny_model.thresholds, version="t")
    texts = [m.text for m in small_split[1]] + ["", "ок", "😀 " * 50, "a" * 2000]
    expected = tiny_model.model.predict_proba(texts)
    for tagger in (served, full):
        assert np.abs(np.asarray(tagger.probabilities(texts)) - expected).max() < 1e-6
    assert [p.labels for p in served.predict(texts)] == [p.labels for p in full.predict(texts)]
    assert served.thresholds == full.thresholds and served.labels == full.labels
    for text in texts[:20]:
        assert served.explain(text, all_tags=True) == full.explain(text, all_tags=True)


def test_the_shipped_linear_file_matches_the_shipped_model(
    split: tuple[list[LabelledText], list[LabelledText]],
) -> None:
    # linear.zip is written beside model.skops; a stale one would tag differently.
    texts = [m.text for m in split[1]]
    for directory in (artifact.current_dir(), artifact.previous_dir()):
        served, full = ServingTagger.load(directory), Tagger.load(directory)
        assert served.version == full.version
        pipeline = full.model.predict_proba(texts)
        assert np.abs(np.asarray(served.probabilities(texts)) - pipeline).max() < 1e-6
        assert [p.labels for p in served.predict(texts)] == [p.labels for p in full.predict(texts)]


def test_serving_imports_no_scikit_learn_scipy_or_numpy() -> None:
    script = (
        "import sys\n"
        "from bot.tagging import ClassifierTagger\n"
        "tagger = ClassifierTagger.load(None)\n"
        "assert type(tagger._tagger).__name__ == 'ServingTagger', tagger\n"
        "assert 'rudeness' in tagger.tag('оператор накричала на меня').labels\n"
        "assert tagger.explain('оператор накричала на меня')['rudeness']\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'skops', 'numpy') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_bulk_tagging_goes_through_the_pipeline_with_the_serving_labels(
    split: tuple[list[LabelledText], list[LabelledText]],
) -> None:
    # `pikir classifier predict` scores batches with the pipeline; the service scores one
    # message at a time with linear.zip. Both must tag the eval split identically.
    texts = [m.text for m in split[1]]
    served, bulk = ServingTagger.load(), Tagger.load()
    assert np.array_equal(bulk.predict_proba(texts), bulk.model.predict_proba(texts))
    bulk_predictions = bulk.predict(texts)
    assert any(p.labels for p in bulk_predictions)
    served_predictions = [served.predict_one(t) for t in texts]
    assert [p.labels for p in bulk_predictions] == [p.labels for p in served_predictions]
    for b, s in zip(bulk_predictions, served_predictions, strict=True):
        # Each is rounded to 4 places from probabilities that agree to 1e-6, so one that sits
        # on a rounding boundary may differ by one step (1e-4, and a hair of float error).
        assert b.scores == pytest.approx(s.scores, abs=1.5e-4)


def test_the_word_cache_changes_no_feature_and_stays_bounded(
    split: tuple[list[LabelledText], list[LabelledText]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ngrams, "WORD_CACHE_LIMIT", 50)
    char = LinearModel.load(artifact.current_dir()).branches[0]
    assert char.analyzer == "char_wb"
    lo, hi = char.ngram_range
    for view in (" ".join(m.text.lower().split()) for m in split[1][:200]):
        grams = [j for j in map(char.vocabulary.get, char_wb_ngrams(view, lo, hi)) if j is not None]
        assert sorted(char._char_columns(view)) == sorted(grams)
        assert len(char._word_columns) <= 50
