"""Handlers of the report pages: dashboard, exports, monthly packs and the job runs."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import aiohttp_jinja2
from aiohttp import web

from admin.access import current_staff, require_roles
from admin.figures.exports import CONTENT_TYPES, FORMATS, render
from admin.figures.report import PERIODS, build_report, reference_names
from admin.figures.row_export import analyst_csv
from admin.reports.context import CHART_CACHE, REPORT_CACHE, REPORT_DEPS
from admin.reports.view_model import dashboard_context
from storage.intake import month_of
from storage.models import StaffRole
from storage.types import utcnow
from storage.uow import UnitOfWork
from vocabulary import LANGUAGES

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
PACK = re.compile(r"^pikir-\d{4}-(0[1-9]|1[0-2])\.(xlsx|txt)$")
ANALYSTS = (StaffRole.ANALYST, StaffRole.ADMIN)
# Roles that may open the case queue; the analyst never sees cases' free text.
SEES_CASES = frozenset({StaffRole.ADMIN, StaffRole.REVIEWER, StaffRole.ANTICORRUPTION})


def _language(request: web.Request) -> str:
    wanted = request.query.get("language")
    if wanted in LANGUAGES:
        return wanted
    return str(current_staff(request).language or "ru")


async def _month(request: web.Request) -> str:
    raw = request.query.get("month", "").strip()
    if raw:
        if not MONTH.match(raw):
            raise web.HTTPBadRequest(text="month must look like 2026-03")
        return raw
    deps = request.app[REPORT_DEPS]
    current = month_of(utcnow(), deps.figures.timezone)
    async with UnitOfWork(deps.database.sessions) as uow:
        months = [m for m in await uow.aggregates.months() if m <= current]
    return months[-1] if months else current


def _period(request: web.Request) -> str:
    period = request.query.get("period", "month")
    if period not in PERIODS:
        raise web.HTTPBadRequest(text=f"period must be one of {', '.join(PERIODS)}")
    return period


def _cases_base(request: web.Request) -> str | None:
    if current_staff(request).role not in SEES_CASES:
        return None
    reports = str(request.app.router["reports"].url_for())
    return reports.removesuffix("/reports") + "/cases"


@require_roles(*ANALYSTS)
async def dashboard(request: web.Request) -> web.StreamResponse:
    """The month's (or period's) figures with intervals, indicators, charts and tables."""
    deps = request.app[REPORT_DEPS]
    month, period, language = await _month(request), _period(request), _language(request)
    cache = request.app[REPORT_CACHE]
    async with UnitOfWork(deps.database.sessions) as uow:
        key = (month, period, language, await uow.aggregates.version())
        cached = cache.get(key)
        if cached is None:
            cached = (
                await build_report(uow, month, deps.figures, period),
                await reference_names(uow, language),
            )
            cache.put(key, cached)
    report, names = cached
    context = dashboard_context(report, names, language, _cases_base(request))
    charts = {}
    for name, (kind, title, points, options) in context.pop("charts").items():
        charts[name] = await asyncio.to_thread(
            request.app[CHART_CACHE].get_or_render, kind, title, points, **options
        )
    context.update(
        charts=charts,
        month=month,
        period=period,
        periods=list(PERIODS),
        language=language,
        staff=current_staff(request),
        urls={
            key: str(request.app.router[f"reports_{key}"].url_for())
            for key in ("export", "feedback", "packs", "jobs")
        },
    )
    return aiohttp_jinja2.render_template("reports/dashboard.html", request, context)


@require_roles(*ANALYSTS)
async def export(request: web.Request) -> web.StreamResponse:
    """The period's roll-ups as a CSV, XLSX or JSON download."""
    deps = request.app[REPORT_DEPS]
    fmt = request.query.get("format", "csv")
    if fmt not in FORMATS:
        raise web.HTTPBadRequest(text=f"format must be one of {', '.join(FORMATS)}")
    month, period, language = await _month(request), _period(request), _language(request)
    async with UnitOfWork(deps.database.sessions) as uow:
        report = await build_report(uow, month, deps.figures, period)
        names = await reference_names(uow, language) if fmt == "xlsx" else {}
    body = await asyncio.to_thread(render, report, fmt, language, names)
    name = f"pikir-aggregates-{month}-{period}.{fmt}"
    return web.Response(
        body=body,
        content_type=CONTENT_TYPES[fmt].split(";")[0],
        charset="utf-8" if fmt != "xlsx" else None,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@require_roles(*ANALYSTS)
async def feedback_rows(request: web.Request) -> web.StreamResponse:
    """The month's feedback, one row each, without free text or anything personal."""
    deps = request.app[REPORT_DEPS]
    month = await _month(request)
    async with UnitOfWork(deps.database.sessions) as uow:
        text = await analyst_csv(uow.feedback.stream_month(month))
    return web.Response(
        text=text,
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="pikir-feedback-{month}.csv"'},
    )


@require_roles(*ANALYSTS)
async def packs(request: web.Request) -> web.StreamResponse:
    """The monthly M&E packs made by the month-close job."""
    directory = request.app[REPORT_DEPS].reports_dir
    files = (
        sorted((p for p in directory.glob("pikir-*.xlsx") if PACK.match(p.name)), reverse=True)
        if directory.is_dir()
        else []
    )
    items = [
        {
            "name": p.name,
            "size": p.stat().st_size,
            "made": datetime.fromtimestamp(p.stat().st_mtime).strftime("%Y-%m-%d %H:%M"),
        }
        for p in files
    ]
    return aiohttp_jinja2.render_template("reports/packs.html", request, {"packs": items})


@require_roles(*ANALYSTS)
async def pack_file(request: web.Request) -> web.StreamResponse:
    """One pack file; the name is checked so no other file can be asked for."""
    name = request.match_info["name"]
    if not PACK.match(name):
        raise web.HTTPNotFound()
    path = request.app[REPORT_DEPS].reports_dir / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@require_roles(StaffRole.ADMIN)
async def job_runs(request: web.Request) -> web.StreamResponse:
    """The latest runs of the scheduled jobs: start, end, outcome, rows touched."""
    deps = request.app[REPORT_DEPS]
    job = request.query.get("job") or None
    async with UnitOfWork(deps.database.sessions) as uow:
        runs = await uow.job_runs.recent(limit=200, job=job)
    return aiohttp_jinja2.render_template("reports/jobs.html", request, {"runs": runs, "job": job})
