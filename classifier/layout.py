"""Where a trained model's files live; shared by training and the numpy-only serving path."""

from __future__ import annotations

from pathlib import Path

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
LINEAR_FILE = "linear.zip"
DECISIONS_FILE = "decisions.jsonl"


def artifacts_root(root: Path | str | None = None) -> Path:
    """The artifact root directory (default: the package's ``artifacts`` directory)."""
    return Path(root) if root is not None else ARTIFACTS_DIR


def current_dir(root: Path | str | None = None) -> Path:
    """Directory of the model in service."""
    return artifacts_root(root) / "current"


def model_dir(path: Path | str | None) -> Path:
    """The model directory meant by ``path``: itself when it holds a model, else the
    ``current`` model of the artifact root it names; the shipped model when it is None."""
    if path is not None and (Path(path) / METADATA_FILE).exists():
        return Path(path)
    return current_dir(path)
