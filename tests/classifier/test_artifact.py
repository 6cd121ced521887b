"""Artifact persistence: skops (not pickle), metadata, allow-listed trust, current/previous."""

from __future__ import annotations

import json
import pickle
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

from classifier import artifact, lexicon
from classifier.data import data_hash
from classifier.evaluate import evaluate_model, summary
from classifier.pipeline import FastTfidfVectorizer
from classifier.tagger import Tagger
from classifier.tags import TAGS, LabelledText
from classifier.train import TrainResult


def _metadata(result: TrainResult, train_set: list[LabelledText], eval_scores: dict) -> dict:
    return artifact.build_metadata(
        data_hash=data_hash(train_set),
        n_messages=len(train_set),
        n_train=len(train_set),
        n_eval=0,
        params=result.params,
        thresholds=result.thresholds,
        cv_scores=result.cv_scores,
        eval_scores=eval_scores,
        train_seconds=result.train_seconds,
        now=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
    )


def test_round_trip_with_metadata(tiny_model: TrainResult, small_split, tmp_path: Path) -> None:
    train_set, eval_set = small_split
    scores = summary(evaluate_model(tiny_model.model, tiny_model.thresholds, eval_set))
    meta = _metadata(tiny_model, train_set, scores)
    target = artifact.save(tiny_model.model, meta, tmp_path / "m")

    loaded = artifact.load(target)
    texts = [m.text for m in eval_set[:50]]
    assert np.allclose(loaded.model.predict_proba(texts), tiny_model.model.predict_proba(texts))

    meta_on_disk = json.loads((target / "metadata.json").read_text(encoding="utf-8"))
    assert meta_on_disk == loaded.metadata
    assert set(meta_on_disk["libraries"]) == {"python", "sklearn", "numpy", "scipy", "skops"}
    assert meta_on_disk["data_hash"] == data_hash(train_set)
    assert meta_on_disk["n_messages"] == len(train_set)
    assert meta_on_disk["created_at"] == "2025-03-04T05:06:07Z"
    assert meta_on_disk["lexicon"] == lexicon.digest()
    assert meta_on_disk["version"] == artifact.model_version(
        data_hash(train_set),
        datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
        {**tiny_model.params, "lexicon": lexicon.digest()},
    )
    assert meta_on_disk["version"].startswith(f"tagger-20250304-{data_hash(train_set)[:8]}-")
    assert set(meta_on_disk["thresholds"]) == set(TAGS)
    assert meta_on_disk["params"]["classifier__estimator__C"] == 10.0
    assert "oof_macro_f1" in meta_on_disk["cv_scores"]
    assert meta_on_disk["eval_scores"]["macro_f1"] == scores["macro_f1"]

    tagger = Tagger.load(target)
    assert tagger.version == meta["version"]
    assert tagger.thresholds == tiny_model.thresholds


def test_model_file_is_skops_not_pickle(tiny_model: TrainResult, tmp_path: Path) -> None:
    target = artifact.save(tiny_model.model, {"thresholds": tiny_model.thresholds}, tmp_path)
    model_file = target / artifact.MODEL_FILE
    assert zipfile.is_zipfile(model_file)
    with zipfile.ZipFile(model_file) as zf:
        names = zf.namelist()
        assert "schema.json" in names
        assert not any(n.endswith((".pkl", ".pickle")) for n in names)
        schema = json.loads(zf.read("schema.json"))
        assert schema["__class__"] == "Pipeline"
    with model_file.open("rb") as fh, pytest.raises(pickle.UnpicklingError):
        pickle.load(fh)  # proving the file is NOT a pickle
    assert not list(target.glob("*.pkl"))


def _old_form(model: Pipeline, lowercase: bool = False) -> Pipeline:
    """``model`` as files saved before the n-gram counter hold it: each branch is
    ``select → tfidf``, a ``FastTfidfVectorizer`` whose stored state is the scikit-learn
    vectorizer's parameters, the vocabulary as a string array and the fitted transformer."""
    branches = []
    for name, branch in model.named_steps["features"].transformer_list:
        select, counts, tfidf = (step for _, step in branch.steps)
        old = FastTfidfVectorizer()
        old.__dict__.update(
            TfidfVectorizer(
                analyzer=counts.analyzer,
                ngram_range=counts.ngram_range,
                min_df=counts.min_df,
                max_features=counts.max_features,
                token_pattern=r"\S+",
                lowercase=lowercase,
                sublinear_tf=True,
                dtype=np.float32,
            ).get_params(),
            fixed_vocabulary_=False,
            vocabulary_terms_=counts.terms_,
            _tfidf=tfidf,
        )
        branches.append((name, Pipeline([("select", select), ("tfidf", old)])))
    return Pipeline(
        [
            ("normalize", model.named_steps["normalize"]),
            (
                "features",
                FeatureUnion(
                    branches, transformer_weights=model.named_steps["features"].transformer_weights
                ),
            ),
            ("classifier", model.named_steps["classifier"]),
        ]
    )


def test_a_model_file_of_the_old_form_loads_in_todays_structure(
    tiny_model: TrainResult, small_split, tmp_path: Path
) -> None:
    target = tmp_path / "old"
    target.mkdir()
    sio.dump(_old_form(tiny_model.model), target / artifact.MODEL_FILE)
    (target / artifact.METADATA_FILE).write_text(json.dumps({"thresholds": tiny_model.thresholds}))
    assert "classifier.pipeline.FastTfidfVectorizer" in artifact.check_trusted(
        target / artifact.MODEL_FILE
    )

    loaded = artifact.load(target).model
    texts = [m.text for m in small_split[1]]
    assert np.array_equal(loaded.predict_proba(texts), tiny_model.model.predict_proba(texts))
    for _, branch in loaded.named_steps["features"].transformer_list:
        assert [name for name, _ in branch.steps] == ["select", "counts", "tfidf"]
    # Saved again, it is in today's form, and the exported serving numbers are the same.
    again = artifact.save(loaded, {"thresholds": tiny_model.thresholds}, tmp_path / "new")
    assert "classifier.pipeline.FastTfidfVectorizer" not in artifact.check_trusted(
        again / artifact.MODEL_FILE
    )
    assert Tagger.load(again).linear is not None
    # A branch whose n-grams the counter would cut differently is refused, not misread.
    sio.dump(_old_form(tiny_model.model, lowercase=True), target / artifact.MODEL_FILE)
    with pytest.raises(ValueError, match="does not cut the same way"):
        artifact.load(target)
    assert Tagger.load(again).predict(texts) == Tagger(
        tiny_model.model, tiny_model.thresholds
    ).predict(texts)


class NotAllowed:
    """A type that is not on the allow-list."""

    def __init__(self) -> None:
        self.x = 1


def test_types_outside_the_allow_list_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    sio.dump({"model": NotAllowed()}, bad / artifact.MODEL_FILE)
    (bad / artifact.METADATA_FILE).write_text("{}")
    with pytest.raises(artifact.UntrustedArtifactError, match="NotAllowed"):
        artifact.load(bad)


def test_shipped_artifact_uses_only_allowed_types() -> None:
    model_file = artifact.current_dir() / artifact.MODEL_FILE
    untrusted = artifact.check_trusted(model_file)
    assert set(untrusted) <= artifact.ALLOWED_TYPES
    assert model_file.stat().st_size <= 30 * 1024 * 1024
    meta = artifact.read_metadata(artifact.current_dir())
    assert meta is not None
    assert re.fullmatch(r"tagger-\d{8}-[0-9a-f]{8}-[0-9a-f]{4}", meta["version"])
    assert meta["format"] == "skops"


def test_install_keeps_previous_and_swap_rolls_back(
    tiny_model: TrainResult, tmp_root: Path
) -> None:
    m = tiny_model.model
    artifact.install(m, {"version": "v1", "thresholds": tiny_model.thresholds}, tmp_root)
    assert not artifact.previous_dir(tmp_root).exists()
    artifact.install(m, {"version": "v2", "thresholds": tiny_model.thresholds}, tmp_root)
    assert artifact.read_metadata(artifact.current_dir(tmp_root))["version"] == "v2"
    assert artifact.read_metadata(artifact.previous_dir(tmp_root))["version"] == "v1"
    assert Tagger.load(tmp_root).version == "v2"  # an artifact root means its current model
    artifact.swap_previous(tmp_root)
    assert artifact.read_metadata(artifact.current_dir(tmp_root))["version"] == "v1"
    assert artifact.read_metadata(artifact.previous_dir(tmp_root))["version"] == "v2"
    assert not [p for p in tmp_root.iterdir() if p.name.startswith(".")]


def test_missing_model(tmp_root: Path) -> None:
    with pytest.raises(FileNotFoundError):
        artifact.load(artifact.current_dir(tmp_root))
