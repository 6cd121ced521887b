"""What the report pages need, handed in by the composition root, and the app keys to find it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from cachetools import LRUCache

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


# The last few reports built, keyed by what they were built from (including the aggregates'
# version, which every refresh moves), so repeated page views skip the database.
ReportCache = LRUCache[Hashable, Any]
REPORT_CACHE_SIZE = 32


REPORT_DEPS = web.AppKey("report_deps", ReportDeps)
REPORT_CACHE: web.AppKey[ReportCache] = web.AppKey("report_cache")
CHART_CACHE = web.AppKey("chart_cache", ChartCache)
