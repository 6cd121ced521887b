"""``pikir import``, ``aggregate``, ``month close`` and ``export``: data in and figures out."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import structlog

from admin.figures.indicators import FiguresConfig
from admin.figures.service import export_aggregates, import_historic, refresh
from admin.jobs.figures_jobs import MonthNotOver, close_month_now
from bot.cli.common import fail, valid_month, with_database
from bot.main import job_deps
from bot.settings import Settings
from storage.database import Database
from storage.feedback_export import write_feedback
from storage.reference_data import CsvFormatError, import_offices, import_services
from storage.uow import UnitOfWork

log = structlog.get_logger("pikir")


@click.command("import")
@click.argument("kind", type=click.Choice(["offices", "services", "feedback"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(kind: str, file: Path) -> None:
    """Insert or update offices or services, or load past feedback, from the CSV FILE.

    feedback: columns source_id,office,service,date,rating[,politeness,waiting,information,
    result,no_extra_payment,language,text]; rows already imported (same source_id) are skipped.
    """
    data = file.read_bytes()

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        try:
            counts, errors = await _import(kind, data, settings, database)
        except CsvFormatError as exc:
            fail(f"{file}: {exc}; nothing was imported", code=2)
            return
        for error in errors:
            click.echo(f"{file}: {error}", err=True)
        click.echo(f"{kind}: {counts}, {len(errors)} line(s) rejected")
        if errors:
            sys.exit(1)

    body()


async def _import(
    kind: str, data: bytes, settings: Settings, database: Database
) -> tuple[str, list[str]]:
    """Import ``data`` as ``kind``; what it did (counts) and the rejected lines."""
    if kind == "feedback":
        historic = await import_historic(database, data, timezone=settings.reports.timezone)
        return f"{historic.added} added, {historic.skipped} already imported", historic.errors
    importer = import_offices if kind == "offices" else import_services
    async with UnitOfWork(database.sessions) as uow:
        report = await importer(uow, data)
        await uow.commit()
    return f"{report.added} added, {report.updated} updated", report.errors


@click.command()
@click.option("--month", help="Refresh only this month (YYYY-MM).")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Rebuild every month from the raw rows (readers of the cells wait until it is done).",
)
def aggregate(month: str | None, everything: bool) -> None:
    """Refresh the monthly aggregates: by default the months changed since the last refresh."""
    if month is not None and not valid_month(month):
        fail("--month must look like 2026-03", code=2)
    if month is not None and everything:
        fail("give --month or --all, not both", code=2)

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        result = await refresh(
            database,
            month=month,
            everything=everything,
            overlap=settings.reports.refresh_overlap,
        )
        months = ", ".join(result.months) or "none"
        click.echo(f"aggregates refreshed: {result.cells} cell(s) in month(s) {months}")

    body()


@click.group()
def month() -> None:
    """Monthly reporting."""


@month.command("close")
@click.option("--month", "month_", required=True, help="The month to close, YYYY-MM.")
@click.option("--resend", is_flag=True, help="Send the pack again to those who had it.")
def month_close(month_: str, resend: bool) -> None:
    """Close a past month: final figures, its M&E pack, the pack to subscribed staff.

    Running it again rewrites the pack and sends it only to subscribers who have not had it.
    """
    if not valid_month(month_):
        fail("--month must look like 2026-03", code=2)

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        deps = job_deps(settings, database, None)
        try:
            result = await close_month_now(deps, month_, resend=resend)
        except MonthNotOver:
            fail(f"{month_} is not over yet: only a past month can be closed", code=2)
            return
        if result.outcome != "ok":
            fail(f"closing {month_} failed: {result.detail}")
        click.echo(f"{month_} closed: {result.detail}")

    body()


@click.group()
def export() -> None:
    """Export data."""


@export.command("aggregates")
@click.option("--month", required=True, help="Last month of the period, YYYY-MM.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True
)
@click.option(
    "--period", type=click.Choice(["month", "quarter", "year"]), default="month", show_default=True
)
@click.option(
    "--language",
    type=click.Choice(["kk", "ru", "en"]),
    default="ru",
    show_default=True,
    help="Language of the XLSX headers and names.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="File (default stdout)."
)
def export_aggregates_command(
    month: str, fmt: str, period: str, language: str, out: Path | None
) -> None:
    """Figures by country, region, office and service with 95% intervals; small cells suppressed."""
    if not valid_month(month):
        fail("--month must look like 2026-03", code=2)
    if fmt == "xlsx" and out is None:
        fail("--format xlsx needs --out FILE", code=2)

    @with_database
    async def body(settings: Settings, database: Database) -> bytes:
        return await export_aggregates(
            database, month, fmt, FiguresConfig(settings.reports), period=period, language=language
        )

    content = body()
    if out is None:
        click.echo(content.decode(), nl=not content.endswith(b"\n"))
    else:
        out.write_bytes(content)
        click.echo(f"wrote {out}", err=True)


@export.command("feedback")
@click.option("--month", required=True, help="Month as YYYY-MM.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("--with-text", is_flag=True, help="Include the citizens' free text.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="File (default stdout)."
)
def export_feedback(month: str, fmt: str, with_text: bool, out: Path | None) -> None:
    """One row per feedback of a month: ref, time, channel, office, rating, criteria, tags."""
    if not valid_month(month):
        fail("--month must look like 2026-03", code=2)

    @with_database
    async def body(settings: Settings, database: Database) -> str:
        async with UnitOfWork(database.sessions) as uow:
            return await write_feedback(uow.feedback.stream_month(month), fmt, with_text=with_text)

    content = body()
    if out is None:
        click.echo(content, nl=not content.endswith("\n"))
    else:
        out.write_text(content, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
