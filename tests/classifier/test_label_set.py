"""A model serves the tags it was trained on, even when the vocabulary has more.

A model trained before a tag existed (as the shipped one predates ``digital_service``) must
load, report its own tags and never the missing one, and its feedback is stored as usual (the
missing tag simply has no model row).
"""

from __future__ import annotations

import pytest

from bot.tagging import ClassifierTagger
from classifier.linear import LinearModel
from classifier.scoring import model_labels
from classifier.serving import ServingTagger
from classifier.tagger import Tagger
from classifier.train import TrainResult
from storage.intake import FeedbackDraft, TagScores, build_feedback
from storage.models import Channel, Language
from vocabulary import TAGS, triage

ONLINE = "Приложение eGov не работает, а в ЦОНе сотрудник потребовал взятку за справку"


def _without_last_tag(tagger: ServingTagger) -> ServingTagger:
    """The served model as if trained before its least severe tag existed (column dropped)."""
    linear, n = tagger.linear, tagger.linear.n_columns
    dropped, last = tagger.labels[-1], len(tagger.labels) - 1  # a gate, if any, comes after
    older = LinearModel(
        linear.normalizer,
        linear.branches,
        [value for index, value in enumerate(linear.coef) if index % n != last],
        [value for index, value in enumerate(linear.intercept) if index != last],
        linear.gate_weight,
    )
    thresholds = {tag: t for tag, t in tagger.thresholds.items() if tag != dropped}
    return ServingTagger(older, thresholds, version="older")


def test_a_model_without_a_vocabulary_tag_is_served_without_it() -> None:
    current = ServingTagger.load()
    older = _without_last_tag(current)
    missing = current.labels[-1]
    assert older.labels == current.labels[:-1]
    assert set(older.labels) < set(TAGS)
    [prediction] = older.predict([ONLINE])
    [full] = current.predict([ONLINE])
    assert set(prediction.scores) == set(older.labels)
    assert prediction.scores == {t: s for t, s in full.scores.items() if t != missing}
    assert set(older.explain(ONLINE, all_tags=True)) <= set(older.labels)

    result = ClassifierTagger(older).tag(ONLINE)
    assert result is not None and missing not in result.scores
    feedback = build_feedback(
        FeedbackDraft(channel=Channel.WEB, language=Language.RU, rating=2, text=ONLINE),
        TagScores(result.scores, result.labels, result.model_version),
    )
    assert {tag.tag for tag in feedback.tags} == set(older.labels)
    assert feedback.case is not None
    assert feedback.case.priority == triage(result.labels, 2, direct=False)


def test_the_shipped_model_outputs_tags_of_the_vocabulary_in_its_order() -> None:
    labels = ServingTagger.load().labels
    assert labels == tuple(tag for tag in TAGS if tag in labels)


def test_a_model_names_its_outputs_and_a_mismatch_is_refused(tiny_model: TrainResult) -> None:
    tagger = Tagger(tiny_model.model, tiny_model.thresholds, version="test")
    assert tagger.metadata.get("tags") is None and len(tagger.labels) == len(tiny_model.thresholds)
    named = {"tags": list(reversed(tagger.labels))}
    assert model_labels(named, tiny_model.thresholds) == tuple(reversed(tagger.labels))
    with pytest.raises(ValueError, match="outputs"):
        Tagger(tiny_model.model, tiny_model.thresholds, metadata={"tags": ["corruption"]})
