"""Persisting the tagger with skops (never pickle): model.skops + metadata.json, rollback dirs."""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import sklearn
import skops
import skops.io as sio

from classifier import normalize
from classifier.export import linear_model_of
from classifier.layout import (
    DECISIONS_FILE,
    METADATA_FILE,
    MODEL_FILE,
    artifacts_root,
    current_dir,
)
from classifier.legacy import LEGACY_TYPES, upgrade
from classifier.tags import TAGS

ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        "classifier.pipeline.TextNormalizer",
        "classifier.pipeline.ViewSelector",
        "classifier.counting.NgramCounter",
        "sklearn.pipeline.Pipeline",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.multiclass.OneVsRestClassifier",
        "classifier.pipeline.GatedOneVsRest",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.svm._classes.LinearSVC",
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.preprocessing._label.LabelBinarizer",
        "numpy.float32",
        "numpy.float64",
        "numpy.int32",
        "numpy.int64",
        "builtins.type",
    }
    | LEGACY_TYPES
)
"""Types a model file may need beyond skops' defaults; anything else is refused on load."""


class UntrustedArtifactError(RuntimeError):
    """The model file contains types outside ``ALLOWED_TYPES``."""


@dataclass
class Artifact:
    """A loaded model with its metadata."""

    model: Any
    metadata: dict[str, Any]
    path: Path


def previous_dir(root: Path | str | None = None) -> Path:
    """Directory of the model kept for rollback."""
    return artifacts_root(root) / "previous"


def decisions_path(root: Path | str | None = None) -> Path:
    """The append-only log of retraining decisions."""
    return artifacts_root(root) / DECISIONS_FILE


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model file depends on."""
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "skops": skops.__version__,
    }


def model_version(
    data_hash: str, now: datetime | None = None, params: Mapping[str, Any] | None = None
) -> str:
    """``tagger-YYYYMMDD-<first 8 of the data hash>``, with ``params`` also
    ``-<first 4 of their hash>`` (two recipes trained on the same data get two versions; the
    word lists' digest counts as a parameter, see ``build_metadata``)."""
    when = now or datetime.now(UTC)
    version = f"tagger-{when:%Y%m%d}-{data_hash[:8]}"
    if params is not None:
        canonical = json.dumps(params, sort_keys=True, ensure_ascii=False, default=str)
        version += "-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:4]
    return version


def build_metadata(
    *,
    data_hash: str,
    n_messages: int,
    n_train: int,
    n_eval: int,
    params: Mapping[str, Any],
    thresholds: Mapping[str, float],
    cv_scores: Mapping[str, Any],
    eval_scores: Mapping[str, Any] | None,
    train_seconds: float | None = None,
    now: datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the ``metadata.json`` content for a trained model."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    word_lists = normalize.shared().lexicon.lists_digest
    meta: dict[str, Any] = {
        "version": model_version(data_hash, when, {**params, "lexicon": word_lists}),
        "created_at": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "libraries": library_versions(),
        "data_hash": data_hash,
        "n_messages": n_messages,
        "n_train": n_train,
        "n_eval": n_eval,
        "params": dict(params),
        # The normaliser's word lists the model was trained with (``Lexicon.lists_digest``).
        "lexicon": word_lists,
        "thresholds": dict(thresholds),
        # The model's outputs in column order: the service reads them, not today's vocabulary.
        "tags": list(TAGS),
        "cv_scores": dict(cv_scores),
        "eval_scores": dict(eval_scores) if eval_scores is not None else None,
        "train_seconds": train_seconds,
        "format": "skops",
    }
    if extra:
        meta.update(extra)
    return meta


def save(model: Any, metadata: Mapping[str, Any], directory: Path | str) -> Path:
    """Write ``model.skops`` (skops, deflate-compressed), ``linear.zip`` (for a logistic model)
    and ``metadata.json`` to ``directory``."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    sio.dump(model, target / MODEL_FILE, compression=zipfile.ZIP_DEFLATED)
    linear = linear_model_of(model)
    if linear is not None:  # what the service loads, without scikit-learn
        linear.save(target)
    (target / METADATA_FILE).write_text(
        json.dumps(metadata, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return target


def check_trusted(model_file: Path | str) -> list[str]:
    """Types in the file that skops does not trust by default, all checked against the allow-list.

    Raises ``UntrustedArtifactError`` if any is not in ``ALLOWED_TYPES``.
    """
    untrusted = sio.get_untrusted_types(file=Path(model_file))
    refused = sorted(set(untrusted) - ALLOWED_TYPES)
    if refused:
        raise UntrustedArtifactError(
            f"{model_file}: refusing to load, types not on the allow-list: {', '.join(refused)}"
        )
    return list(untrusted)


def load(directory: Path | str | None = None) -> Artifact:
    """Load a model directory (default: the shipped ``current``) with checked skops trust; a
    model file of the old form comes back in today's structure (``classifier.legacy``)."""
    source = Path(directory) if directory is not None else current_dir()
    model_file = source / MODEL_FILE
    if not model_file.exists():
        raise FileNotFoundError(f"{model_file} missing: train a model first")
    trusted = check_trusted(model_file)
    model = upgrade(sio.load(model_file, trusted=trusted))
    metadata = json.loads((source / METADATA_FILE).read_text(encoding="utf-8"))
    return Artifact(model=model, metadata=metadata, path=source)


def read_metadata(directory: Path | str) -> dict[str, Any] | None:
    """The ``metadata.json`` of a model directory, or ``None`` if there is none."""
    path = Path(directory) / METADATA_FILE
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def install(model: Any, metadata: Mapping[str, Any], root: Path | str | None = None) -> Path:
    """Write a model as ``current``, moving the existing ``current`` to ``previous``.

    The new model is written to a temporary directory first, so a failed write never leaves
    ``current`` half-written.
    """
    base = artifacts_root(root)
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".candidate-", dir=base))
    try:
        staging.chmod(0o755)
        save(model, metadata, staging)
        cur, prev = current_dir(base), previous_dir(base)
        if cur.exists():
            if prev.exists():
                shutil.rmtree(prev)
            cur.rename(prev)
        staging.rename(cur)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return current_dir(base)


def swap_previous(root: Path | str | None = None) -> None:
    """Swap ``current`` and ``previous`` (rollback; a second call rolls forward again)."""
    base = artifacts_root(root)
    cur, prev = current_dir(base), previous_dir(base)
    if not prev.exists():
        raise FileNotFoundError(f"{prev} missing: nothing to roll back to")
    tmp = base / ".swap"
    if tmp.exists():
        shutil.rmtree(tmp)
    if cur.exists():
        cur.rename(tmp)
    prev.rename(cur)
    if tmp.exists():
        tmp.rename(prev)


def append_decision(record: Mapping[str, Any], root: Path | str | None = None) -> Path:
    """Append one JSON line to ``decisions.jsonl``."""
    path = decisions_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return path
