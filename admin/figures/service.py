"""The figures' use cases as the CLI, the panel and the jobs call them, one unit of work each."""

from __future__ import annotations

from datetime import datetime, timedelta

from admin.figures.exports import render
from admin.figures.historic_import import HistoricReport, import_feedback
from admin.figures.indicators import FiguresConfig
from admin.figures.refresh import RefreshResult, rebuild_all, refresh_changed, refresh_months
from admin.figures.report import build_report, reference_names
from storage.database import Database
from storage.types import utcnow
from storage.uow import UnitOfWork


async def refresh(
    database: Database,
    *,
    month: str | None = None,
    everything: bool = False,
    overlap: timedelta = timedelta(minutes=10),
    now: datetime | None = None,
) -> RefreshResult:
    """Refresh one month, everything, or (default) the cells changed since the last refresh."""
    now = now or utcnow()
    async with UnitOfWork(database.sessions) as uow:
        if everything:
            result = await rebuild_all(uow.session, now=now)
        elif month is not None:
            result = await refresh_months(uow.session, [month], now=now)
        else:
            result = await refresh_changed(uow.session, now=now, overlap=overlap)
        await uow.commit()
    return result


async def export_aggregates(
    database: Database,
    month: str,
    fmt: str,
    config: FiguresConfig,
    *,
    period: str = "month",
    language: str = "en",
) -> bytes:
    """The roll-ups of the period ending with ``month`` as CSV, JSON or XLSX bytes."""
    async with UnitOfWork(database.sessions) as uow:
        report = await build_report(uow, month, config, period)
        names = await reference_names(uow, language) if fmt == "xlsx" else {}
    return render(report, fmt, language, names)


async def import_historic(
    database: Database, data: bytes, *, timezone: str, now: datetime | None = None
) -> HistoricReport:
    """Import a historic CSV (good rows) and refresh the aggregates of the months it touched."""
    async with UnitOfWork(database.sessions) as uow:
        report = await import_feedback(uow, data, timezone=timezone)
        await uow.commit()
    if report.months:
        async with UnitOfWork(database.sessions) as uow:
            await refresh_months(uow.session, sorted(report.months), now=now)
            await uow.commit()
    return report
