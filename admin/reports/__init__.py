"""The report pages of the admin panel (roles ``analyst`` and ``admin``).

:func:`setup_reports` registers them on the admin sub-app: the dashboard at ``/reports``, the
exports, the monthly packs and (for ``admin``) the scheduled jobs' runs.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from admin.reports import views
from admin.reports.chart_cache import ChartCache
from admin.reports.context import (
    CHART_CACHE,
    REPORT_CACHE,
    REPORT_CACHE_SIZE,
    REPORT_DEPS,
    ReportCache,
    ReportDeps,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

__all__ = ["ReportDeps", "setup_reports"]


def setup_reports(app: web.Application, deps: ReportDeps) -> None:
    """Register the report routes on the admin ``app`` (and templates, if it has none yet)."""
    if aiohttp_jinja2.APP_KEY not in app:
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    app[REPORT_DEPS] = deps
    app[CHART_CACHE] = ChartCache()
    app[REPORT_CACHE] = ReportCache(maxsize=REPORT_CACHE_SIZE)
    app.router.add_get("/reports", views.dashboard, name="reports")
    app.router.add_get("/reports/internal", views.internal_dashboard, name="reports_internal")
    app.router.add_get("/reports/export", views.export, name="reports_export")
    app.router.add_get("/reports/feedback.csv", views.feedback_rows, name="reports_feedback")
    app.router.add_get("/reports/packs", views.packs, name="reports_packs")
    app.router.add_post("/reports/packs/close", views.close_month, name="reports_close_month")
    app.router.add_get("/reports/packs/{name}", views.pack_file, name="reports_pack")
    app.router.add_get("/reports/jobs", views.job_runs, name="reports_jobs")
