"""Handlers of the report pages: dashboard, exports, monthly packs and the job runs."""

from __future__ import annotations

import asyncio
import functools
import re
from datetime import UTC, datetime

import aiohttp_jinja2
from aiohttp import web

from admin.access import current_staff, require_roles
from admin.display import JOB_LABELS, JOB_OUTCOME_LABELS, PERIOD_LABELS, job_detail, run_slot
from admin.downloads import audit_download
from admin.figures.exports import CONTENT_TYPES, FORMATS, records, render
from admin.figures.report import PERIODS, build_report, reference_names, unsuppressed
from admin.figures.row_export import ANALYST_COLUMNS, analyst_row
from admin.jobs.figures_jobs import MonthNotOver
from admin.rendering import flash, translator
from admin.reports.context import CHART_CACHE, REPORT_CACHE, REPORT_DEPS
from admin.reports.view_model import dashboard_context
from admin.views.auth import client_ip
from storage.feedback_export import to_csv
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
    return str(request.app.router["queue"].url_for())


@require_roles(*ANALYSTS)
async def dashboard(request: web.Request) -> web.StreamResponse:
    """The month's (or period's) figures as they would be published: small cells suppressed."""
    return await _dashboard(request, internal=False)


@require_roles(StaffRole.ADMIN)
async def internal_dashboard(request: web.Request) -> web.StreamResponse:
    """The same page with every cell's numbers, marked internal; each view is audited."""
    deps = request.app[REPORT_DEPS]
    staff = current_staff(request)
    month, period = await _month(request), _period(request)
    async with UnitOfWork(deps.database.sessions) as uow:
        uow.audit.record(
            "reports.internal_view",
            actor=staff,
            target_type="report",
            target_id=f"{month}/{period}",
            ip=request.remote,
        )
        await uow.commit()
    return await _dashboard(request, internal=True)


async def _dashboard(request: web.Request, *, internal: bool) -> web.StreamResponse:
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
            cache[key] = cached
    report, names = cached
    if internal:
        report = unsuppressed(report)
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
        period_labels=PERIOD_LABELS,
        language=language,
        staff=current_staff(request),
        internal=internal,
        urls={
            key: str(request.app.router[f"reports_{key}"].url_for())
            for key in ("export", "feedback", "packs", "jobs", "internal")
        },
    )
    return aiohttp_jinja2.render_template("reports/dashboard.html", request, context)


@require_roles(*ANALYSTS)
async def export(request: web.Request) -> web.StreamResponse:
    """The period's roll-ups as a CSV, XLSX or JSON download (recorded in the audit log)."""
    deps = request.app[REPORT_DEPS]
    fmt = request.query.get("format", "csv")
    if fmt not in FORMATS:
        raise web.HTTPBadRequest(text=f"format must be one of {', '.join(FORMATS)}")
    month, period, language = await _month(request), _period(request), _language(request)
    async with UnitOfWork(deps.database.sessions) as uow:
        report = await build_report(uow, month, deps.figures, period)
        names = await reference_names(uow, language) if fmt == "xlsx" else {}
        # A CSV asked for in a language is for people: headers and levels in that language.
        labelled = "language" in request.query
        body = await asyncio.to_thread(
            functools.partial(render, report, fmt, language, names, labelled=labelled)
        )
        audit_download(
            request,
            uow,
            what="aggregates",
            fmt=fmt,
            rows=len(records(report)),
            filters={"month": month, "period": period, "language": language},
        )
        await uow.commit()
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
        rows = [analyst_row(feedback) async for feedback in uow.feedback.stream_month(month)]
        audit_download(
            request, uow, what="feedback_rows", fmt="csv", rows=len(rows), filters={"month": month}
        )
        await uow.commit()
    return web.Response(
        text=to_csv(rows, ANALYST_COLUMNS),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="pikir-feedback-{month}.csv"'},
    )


@require_roles(*ANALYSTS)
async def packs(request: web.Request) -> web.StreamResponse:
    """The monthly M&E packs made by the month-close job (an administrator may close a month)."""
    deps = request.app[REPORT_DEPS]
    directory = deps.reports_dir
    files = (
        sorted((p for p in directory.glob("pikir-*.xlsx") if PACK.match(p.name)), reverse=True)
        if directory.is_dir()
        else []
    )
    items = [
        {
            "name": p.name,
            "size": p.stat().st_size,
            "made": datetime.fromtimestamp(p.stat().st_mtime, UTC),
        }
        for p in files
    ]
    closable: list[str] = []
    if deps.close_month is not None and current_staff(request).role is StaffRole.ADMIN:
        current = month_of(utcnow(), deps.figures.timezone)
        async with UnitOfWork(deps.database.sessions) as uow:
            closable = sorted(
                (m for m in await uow.aggregates.months() if m < current), reverse=True
            )
    return aiohttp_jinja2.render_template(
        "reports/packs.html", request, {"packs": items, "closable": closable}
    )


@require_roles(StaffRole.ADMIN)
async def close_month(request: web.Request) -> web.StreamResponse:
    """Close a past month now (again, or sending the pack once more): audited."""
    deps = request.app[REPORT_DEPS]
    _ = translator(request)
    if deps.close_month is None:
        raise web.HTTPNotFound()
    form = await request.post()
    month = str(form.get("month", "")).strip()
    resend = form.get("resend") == "1"
    back = str(request.app.router["reports_packs"].url_for())
    if not MONTH.match(month):
        await flash(request, _("Choose a month to close."), "error")
        raise web.HTTPSeeOther(location=back)
    try:
        outcome, detail = await deps.close_month(month, resend)
    except MonthNotOver:
        await flash(request, _("Only a month that is over can be closed."), "error")
        raise web.HTTPSeeOther(location=back) from None
    staff = current_staff(request)
    async with UnitOfWork(deps.database.sessions) as uow:
        uow.audit.record(
            "report.month_close",
            actor=staff,
            target_type="month",
            target_id=month,
            after={"resend": resend, "outcome": outcome, "detail": detail},
            ip=client_ip(request),
        )
        await uow.commit()
    if outcome == "ok":
        await flash(request, _("The month %(month)s has been closed.") % {"month": month})
    else:
        await flash(
            request, _("Closing %(month)s failed; see the jobs page.") % {"month": month}, "error"
        )
    raise web.HTTPSeeOther(location=back)


@require_roles(*ANALYSTS)
async def pack_file(request: web.Request) -> web.StreamResponse:
    """One pack file; the name is checked so no other file can be asked for."""
    name = request.match_info["name"]
    if not PACK.match(name):
        raise web.HTTPNotFound()
    path = request.app[REPORT_DEPS].reports_dir / name
    if not path.is_file():
        raise web.HTTPNotFound()
    async with UnitOfWork(request.app[REPORT_DEPS].database.sessions) as uow:
        audit_download(
            request,
            uow,
            what="pack",
            fmt=path.suffix.lstrip("."),
            rows=None,
            filters={"month": name.removeprefix("pikir-")[:7]},
            target_id=name,
        )
        await uow.commit()
    return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@require_roles(StaffRole.ADMIN)
async def job_runs(request: web.Request) -> web.StreamResponse:
    """The latest runs of the scheduled jobs: start, end, outcome, rows touched."""
    deps = request.app[REPORT_DEPS]
    job = request.query.get("job") or None
    async with UnitOfWork(deps.database.sessions) as uow:
        runs = await uow.job_runs.recent(limit=200, job=job)
    return aiohttp_jinja2.render_template(
        "reports/jobs.html",
        request,
        {
            "runs": runs,
            "job": job,
            "job_labels": JOB_LABELS,
            "outcome_labels": JOB_OUTCOME_LABELS,
            "job_detail": job_detail,
            "run_slot": run_slot,
        },
    )
