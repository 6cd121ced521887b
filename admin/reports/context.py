"""What the report pages need, handed in by the composition root, and the app keys to find it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from admin.figures.indicators import FiguresConfig
from admin.reports.charts import ChartCache
from storage.database import Database


@dataclass(frozen=True)
class ReportDeps:
    """The database, the figures' settings and where the monthly packs are kept."""

    database: Database
    figures: FiguresConfig
    reports_dir: Path


REPORT_DEPS = web.AppKey("report_deps", ReportDeps)
CHART_CACHE = web.AppKey("chart_cache", ChartCache)
