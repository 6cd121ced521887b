"""The charts' data points and the cache of drawn charts, without matplotlib.

The report pages build points and ask the cache; matplotlib (some 45 MB of memory) is imported
only when a chart is first drawn.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass


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
        self.size = size
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, kind: str, title: str, points: Sequence[Point], **kw: object) -> str:
        """The SVG of the chart, from the cache when the same data was drawn before."""
        key = hashlib.sha256(
            json.dumps([kind, title, [p.__dict__ for p in points], kw], default=str).encode()
        ).hexdigest()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        from admin.reports.charts import RENDERERS  # matplotlib: only once a chart is drawn

        svg = RENDERERS[kind](title, points, **kw)
        with self._lock:
            self._items[key] = svg
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return svg
