"""What the report pages need, handed in by the composition root, and the app keys to find it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from admin.figures.indicators import FiguresConfig
from admin.reports.chart_cache import ChartCache
from storage.database import Database

# Closes a past month (month, resend) and says how it went: (outcome, detail); raises
# admin.jobs.figures_jobs.MonthNotOver for a month not over yet.
MonthCloser = Callable[[str, bool], Awaitable[tuple[str, str | None]]]


@dataclass(frozen=True)
class ReportDeps:
    """The database, the figures' settings, where the monthly packs are kept and (when the
    service can send them) how to close a month on an administrator's request."""

    database: Database
    figures: FiguresConfig
    reports_dir: Path
    close_month: MonthCloser | None = None


class ReportCache:
    """The last few reports built, keyed by what they were built from (including the
    aggregates' version, which every refresh moves), so repeated page views skip the database."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        """The cached value, or None."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        """Remember a value, forgetting the least recently used beyond ``size``."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


REPORT_DEPS = web.AppKey("report_deps", ReportDeps)
REPORT_CACHE = web.AppKey("report_cache", ReportCache)
CHART_CACHE = web.AppKey("chart_cache", ChartCache)
