"""The charts' data points and the cache of drawn charts, without matplotlib.

The report pages build points and ask the cache; matplotlib (some 45 MB of memory) is imported
only when a chart is first drawn.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from cachetools import LRUCache


@dataclass(frozen=True)
class Point:
    """One plotted value with its interval and an optional drill-down link."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    url: str | None = None


class ChartCache:
    """A small LRU of rendered SVGs keyed by the chart's data."""

    def __init__(self, size: int = 128) -> None:
        self._items: LRUCache[str, str] = LRUCache(maxsize=size)
        # Pages render in threads; cachetools' caches are not thread-safe by themselves.
        self._lock = threading.Lock()

    def get_or_render(self, kind: str, title: str, points: Sequence[Point], **kw: object) -> str:
        """The SVG of the chart, from the cache when the same data was drawn before."""
        key = hashlib.sha256(
            json.dumps([kind, title, [p.__dict__ for p in points], kw], default=str).encode()
        ).hexdigest()
        with self._lock:
            cached = self._items.get(key)
        if cached is not None:
            return cached
        from admin.reports.charts import RENDERERS  # matplotlib: only once a chart is drawn

        svg = RENDERERS[kind](title, points, **kw)
        with self._lock:
            self._items[key] = svg
        return svg
