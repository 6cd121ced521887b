"""Photos kept on disk: where a stored location points, removing them, finding forgotten ones.

A photo's ``location`` is a path relative to the data directory (``uploads/web/…``, or any other
folder under ``uploads/`` a channel downloads into) or a channel's own file id (a Telegram file
id), which names nothing on disk. Only files under ``<data dir>/uploads`` are ever touched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

UPLOADS = "uploads"


def stored_path(data_dir: Path, location: str | None) -> Path | None:
    """The file a location names, if it is one under ``<data_dir>/uploads``; else None."""
    if not location:
        return None
    root = (data_dir / UPLOADS).resolve()
    path = Path(location)
    candidate = (path if path.is_absolute() else data_dir / path).resolve()
    if candidate == root or not candidate.is_relative_to(root):
        return None
    return candidate


def remove_stored(data_dir: Path, locations: Iterable[str | None]) -> int:
    """Delete the stored files named by ``locations`` (others are ignored); how many went."""
    removed = 0
    for location in locations:
        path = stored_path(data_dir, location)
        if path is None or not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def stored_files(data_dir: Path, older_than: datetime) -> Iterator[tuple[str, Path]]:
    """Every file under ``<data_dir>/uploads`` last written before ``older_than``, with its
    location as the channels record it (relative to the data directory)."""
    root = data_dir / UPLOADS
    if not root.is_dir():
        return
    limit = older_than.timestamp()
    for path in root.rglob("*"):
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and path.stat().st_mtime < limit:
                yield path.relative_to(data_dir).as_posix(), path
