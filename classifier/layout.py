"""Where a trained model's files live; shared by training and the numpy-only serving path."""

from __future__ import annotations

from pathlib import Path

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
LINEAR_FILE = "linear.zip"
DECISIONS_FILE = "decisions.jsonl"


def model_dir(path: Path | str | None) -> Path:
    """The model directory meant by ``path``: itself, or the ``current`` model of an artifact
    root; the shipped ``current`` model when ``path`` is None."""
    if path is None:
        return ARTIFACTS_DIR / "current"
    base = Path(path)
    if not (base / METADATA_FILE).exists() and (base / "current" / METADATA_FILE).exists():
        return base / "current"
    return base
