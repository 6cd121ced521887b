"""Retraining: promote when better, refuse when macro-F1 or corruption recall would drop,
roll back, log every decision, and never train on the evaluation split."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

import classifier.retrain as retrain_mod
from classifier import artifact
from classifier.retrain import merge_training, retrain_candidate, rollback, should_promote
from classifier.serving import ServingTagger
from classifier.tags import LabelledText
from classifier.train import TrainResult, train

from .conftest import FAST_PARAMS

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _install(result: TrainResult, root: Path, version: str, **thresholds: float) -> None:
    meta = {"version": version, "thresholds": {**result.thresholds, **thresholds}}
    artifact.install(result.model, meta, root)


def _retrain(small_split, root: Path, extra: list[LabelledText]):
    return retrain_candidate(
        extra, root, NOW, dataset=small_split, search=False, params=FAST_PARAMS, n_jobs=1
    )


def _decisions(root: Path) -> list[dict]:
    lines = artifact.decisions_path(root).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_promotes_a_better_candidate_then_rolls_back(small_split, tmp_root: Path) -> None:
    # a thin slice across all batches, so every tag has a few examples
    weak = train(small_split[0][::12], search=False, params=FAST_PARAMS, n_jobs=1)
    # A thin model's out-of-fold corruption threshold can be so low that it flags nearly every
    # message and out-recalls the candidate; a high one makes it weak on that tag as well.
    _install(weak, tmp_root, "tagger-weak", corruption=0.9)
    decision = _retrain(small_split, tmp_root, [])
    assert decision.promoted, decision.reason
    assert decision.current_version == "tagger-weak"
    assert decision.candidate_scores["macro_f1"] >= decision.current_scores["macro_f1"]
    current = artifact.read_metadata(artifact.current_dir(tmp_root))
    assert current["version"] == decision.candidate_version
    assert current["version"].startswith("tagger-20250601-")
    assert current["eval_scores"]["macro_f1"] == decision.candidate_scores["macro_f1"]
    assert artifact.read_metadata(artifact.previous_dir(tmp_root))["version"] == "tagger-weak"
    record = _decisions(tmp_root)[-1]
    assert record["promoted"] is True
    assert record["decided_at"] == "2025-06-01T12:00:00Z"
    assert record["candidate_scores"]["corruption_recall"] >= 0
    assert record["current_version"] == "tagger-weak"

    assert rollback(tmp_root, NOW) == "tagger-weak"
    assert artifact.read_metadata(artifact.current_dir(tmp_root))["version"] == "tagger-weak"
    assert artifact.read_metadata(artifact.previous_dir(tmp_root))["version"] == (
        decision.candidate_version
    )
    last = _decisions(tmp_root)[-1]
    assert last["action"] == "rollback"
    assert last["to_version"] == "tagger-weak"


def test_refuses_when_macro_f1_would_drop(small_split, tiny_model, tmp_root: Path) -> None:
    _install(tiny_model, tmp_root, "tagger-good")
    train_set = small_split[0]
    rng = np.random.default_rng(0)
    shuffled = [train_set[i].labels for i in rng.permutation(len(train_set))]
    corrupted = [replace(m, labels=lab) for m, lab in zip(train_set, shuffled, strict=True)]
    decision = _retrain(small_split, tmp_root, corrupted)
    assert not decision.promoted
    assert "macro-F1 would drop" in decision.reason
    assert artifact.read_metadata(artifact.current_dir(tmp_root))["version"] == "tagger-good"
    assert not artifact.previous_dir(tmp_root).exists()
    record = _decisions(tmp_root)[-1]
    assert record["promoted"] is False and record["reason"] == decision.reason
    assert record["n_extra_used"] == len(corrupted)


def test_refuses_when_corruption_recall_would_drop(small_split, tiny_model, tmp_root: Path) -> None:
    # The current model flags every message as a possible bribe: recall 1.0, poor precision.
    _install(tiny_model, tmp_root, "tagger-paranoid", corruption=0.0)
    decision = _retrain(small_split, tmp_root, [])
    assert decision.current_scores["corruption_recall"] == 1.0
    assert decision.candidate_scores["corruption_recall"] < 1.0
    assert decision.candidate_scores["macro_f1"] >= decision.current_scores["macro_f1"]
    assert not decision.promoted
    assert "corruption recall would drop" in decision.reason
    assert artifact.read_metadata(artifact.current_dir(tmp_root))["version"] == "tagger-paranoid"


def test_first_model_is_promoted(small_split, tmp_root: Path) -> None:
    decision = _retrain(small_split, tmp_root, [])
    assert decision.promoted and decision.reason == "no current model"
    assert decision.current_version is None
    assert (artifact.current_dir(tmp_root) / artifact.MODEL_FILE).exists()


def test_eval_messages_are_never_trained_on(
    small_split, tmp_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train_set, eval_set = small_split
    seen: list[list[LabelledText]] = []
    real_train = retrain_mod.train

    def spy(messages, *args, **kwargs):
        seen.append(list(messages))
        return real_train(messages, *args, **kwargs)

    monkeypatch.setattr(retrain_mod, "train", spy)
    leaked_id = replace(eval_set[0], labels=("corruption",))
    leaked_text = LabelledText("staff-1", "ru", "  " + eval_set[1].text.upper() + " ", ("delay",))
    fresh = LabelledText("staff-2", "ru", "охранник взял 2000 за вход без очереди", ("corruption",))
    corrected = replace(train_set[0], labels=("rudeness",))
    decision = _retrain(small_split, tmp_root, [leaked_id, leaked_text, fresh, corrected])

    assert decision.n_extra_dropped == 2
    assert set(decision.dropped_ids) == {eval_set[0].id, "staff-1"}
    assert decision.n_extra_used == 2
    trained = seen[0]
    eval_ids = {m.id for m in eval_set}
    eval_texts = {" ".join(m.text.casefold().split()) for m in eval_set}
    assert not {m.id for m in trained} & eval_ids
    assert not {" ".join(m.text.casefold().split()) for m in trained} & eval_texts
    by_id = {m.id: m for m in trained}
    assert by_id["staff-2"].labels == ("corruption",)
    assert by_id[train_set[0].id].labels == ("rudeness",)  # staff correction wins
    assert len(trained) == len(train_set) + 1


def test_merge_training_directly(small_split) -> None:
    train_set, eval_set = small_split
    merged, dropped, used = merge_training(train_set, [eval_set[2]], eval_set)
    assert dropped == [eval_set[2].id] and used == 0
    assert [m.id for m in merged] == [m.id for m in train_set]


def test_promotion_rule() -> None:
    base = {"macro_f1": 0.85, "corruption_recall": 0.93}
    assert should_promote(base, base)[0]
    assert should_promote({"macro_f1": 0.86, "corruption_recall": 0.95}, base)[0]
    ok, reason = should_promote({"macro_f1": 0.84, "corruption_recall": 0.99}, base)
    assert not ok and "macro-F1" in reason
    ok, reason = should_promote({"macro_f1": 0.90, "corruption_recall": 0.92}, base)
    assert not ok and "corruption recall" in reason


def test_a_failed_child_retraining_says_why(tmp_path: Path) -> None:
    from classifier.retrain_process import RetrainFailed, retrain_in_child

    with pytest.raises(RetrainFailed, match="KeyError: 'lang'"):
        retrain_in_child([{"id": "staff-1", "text": "no language"}], NOW, tmp_path)
    assert not artifact.current_dir(tmp_path).exists()


def test_staff_labels_of_a_tag_not_learned_yet_are_left_out() -> None:
    from classifier.retrain_process import labelled
    from classifier.tags import AWAITING_DATA, TAGS

    waiting = sorted(AWAITING_DATA) or ["a_tag_from_the_future"]
    [example] = labelled(
        [{"id": "s1", "lang": "kk", "text": "ЭЦҚ өтпейді", "labels": [*waiting, TAGS[0]]}]
    )
    assert example.labels == (TAGS[0],)


def test_staff_corrections_teach_a_tag_the_training_data_never_gave(
    small_split, tmp_root: Path
) -> None:
    # The train split as it was before digital_service existed: that tag nowhere. Staff then
    # correct those messages (same ids, the tag added back); the candidate must learn it.
    train_set, eval_set = small_split
    old = [
        replace(m, labels=tuple(t for t in m.labels if t != "digital_service")) for m in train_set
    ]
    corrected = [m for m in train_set if "digital_service" in m.labels]
    assert len(corrected) >= 20 and not any("digital_service" in m.labels for m in old)
    decision = retrain_candidate(
        corrected,
        tmp_root,
        NOW,
        dataset=(old, eval_set),
        search=False,
        params=FAST_PARAMS,
        n_jobs=1,
    )
    assert decision.promoted and decision.n_extra_used == len(corrected)
    learnt = decision.candidate_scores["per_tag"]["digital_service"]
    assert learnt["recall"] >= 0.5 and learnt["precision"] >= 0.5, learnt
    served = ServingTagger.load(tmp_root)
    text = "eGov қосымшасы SMS код жібермейді, үш рет басып көрдім, кіре алмай отырмын"
    assert "digital_service" in served.predict_one(text).labels
