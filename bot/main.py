"""The composition root and the ``pikir`` command line.

This is the one place that reads settings and wires storage, classifier, bot, web chat, admin
panel and scheduler into one process. Every other module receives what it needs as arguments.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import structlog
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete

from admin.app import create_admin_app
from admin.config import PanelConfig
from admin.passwords import PasswordPolicyError, hash_password, make_hasher
from bot.bootstrap import ensure_secret_key, prepare_database
from bot.logging_setup import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from bot.web.app import create_chat_app
from storage.database import Database, DatabaseUnavailable
from storage.feedback_export import write_feedback
from storage.models import ProcessedUpdate, StaffRole
from storage.reference_data import CsvFormatError, import_offices, import_services
from storage.types import utcnow
from storage.uow import UnitOfWork

log = structlog.get_logger("pikir")

DATABASE = web.AppKey("database", Database)
SETTINGS = web.AppKey("settings", Settings)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)

P = ParamSpec("P")
T = TypeVar("T")


# --------------------------------------------------------------------------- application wiring


def build_app(settings: Settings, *, secret_key: bytes | None = None) -> web.Application:
    """The whole service as one aiohttp application: health, web chat, admin, scheduler."""
    if secret_key is None:
        secret_key = ensure_secret_key(settings.data_dir, _secret(settings))
    database = Database(
        settings.database.url, echo=settings.database.echo, pool_size=settings.database.pool_size
    )
    app = web.Application(client_max_size=6 * 1024 * 1024)
    app[SETTINGS] = settings
    app[DATABASE] = database
    app[SCHEDULER] = AsyncIOScheduler(timezone=settings.reports.timezone)
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(_scheduler_ctx)
    app.router.add_get("/healthz", healthz)
    app.add_subapp("/chat", create_chat_app(database))
    app.add_subapp("/admin", create_admin_app(database, panel_config(settings, secret_key)))
    return app


def panel_config(settings: Settings, secret_key: bytes) -> PanelConfig:
    """What the staff panel needs from the settings."""
    security = settings.security
    return PanelConfig(
        secret_key=secret_key,
        public_url=settings.http.public_url,
        bot_username=settings.telegram.bot_username,
        session_idle=timedelta(minutes=security.session_idle_minutes),
        session_absolute=timedelta(hours=security.session_absolute_hours),
        login_max_failures=security.login_max_failures,
        login_max_failures_per_ip=security.login_max_failures_per_ip,
        login_lockout=timedelta(minutes=security.login_lockout_minutes),
        sla_hours=settings.sla.model_dump(),
        timezone=settings.reports.timezone,
        data_dir=settings.data_dir,
    )


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    database = app[DATABASE]
    password = await prepare_database(database, make_hasher())
    if password is not None:
        # Printed once to the operator's console on purpose; never written to the log.
        click.echo(
            f"First admin account created: login 'admin', one-time password '{password}' "
            "(change it at first login).",
            err=True,
        )
    log.info("database.ready", url=database.safe_url)
    yield
    await database.dispose()


async def _scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    scheduler = app[SCHEDULER]
    if settings.scheduler.enabled:
        scheduler.add_job(
            purge_processed_updates,
            "interval",
            hours=6,
            args=[app[DATABASE]],
            id="purge_processed_updates",
            coalesce=True,
            misfire_grace_time=3600,
            max_instances=1,
        )
        scheduler.start()
        log.info("scheduler.started", jobs=[job.id for job in scheduler.get_jobs()])
    yield
    if scheduler.running:
        scheduler.shutdown(wait=False)


async def purge_processed_updates(database: Database, keep: timedelta = timedelta(days=7)) -> int:
    """Forget handled update ids older than ``keep``; redeliveries come within minutes."""
    async with UnitOfWork(database.sessions) as uow:
        result = await uow.session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.created_at < utcnow() - keep)
        )
        await uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise."""
    try:
        await request.app[DATABASE].ping()
    except DatabaseUnavailable:
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


# --------------------------------------------------------------------------- command line helpers


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"pikir: {message}", err=True)
    sys.exit(code)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        _fail(str(exc), code=2)
        raise  # unreachable; keeps type checkers satisfied
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning an unreachable database into one clear line."""
    try:
        return asyncio.run(coro)
    except DatabaseUnavailable as exc:
        _fail(str(exc))
        raise


def with_database(
    func: Callable[..., Awaitable[T]],
) -> Callable[..., T]:
    """Wrap an async command body ``(settings, database, ...)``: migrate first, dispose after."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        settings = _settings()

        async def body() -> T:
            database = Database(settings.database.url)
            try:
                await prepare_database(database, make_hasher())
                return await func(settings, database, *args, **kwargs)
            finally:
                await database.dispose()

        return _run(body())

    return wrapper


# --------------------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Pikir: citizens' feedback on public service centres."""


@cli.command()
def serve() -> None:
    """Run the service: web chat, admin panel, bot and scheduled jobs in one process."""
    settings = _settings()
    app = build_app(settings, secret_key=ensure_secret_key(settings.data_dir, _secret(settings)))
    log.info("serve.start", host=settings.http.host, port=settings.http.port)
    try:
        web.run_app(
            app,
            host=settings.http.host,
            port=settings.http.port,
            print=None,
            access_log=None,
            shutdown_timeout=10,
        )
    except DatabaseUnavailable as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot listen on {settings.http.host}:{settings.http.port}: {exc.strerror}")


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date and load the reference data."""

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        click.echo(f"database {database.safe_url} is up to date")

    body()


@cli.command()
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 36))
@click.option("--per-month", default=600, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--seed", default=2017, show_default=True, type=int)
def demo(months: int, per_month: int, seed: int) -> None:
    """Fill the database with plausible synthetic feedback for the last MONTHS months."""
    from bot.demo import generate_demo

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        count = await generate_demo(
            database,
            months=months,
            per_month=per_month,
            seed=seed,
            timezone=settings.reports.timezone,
            sla_hours=settings.sla.model_dump(),
        )
        click.echo(f"added {count} demo feedback rows over {months} months")

    body()


@cli.group()
def staff() -> None:
    """Manage staff accounts."""


@staff.command("add")
@click.option("--login", required=True, help="Login name (letters, digits, dots, dashes).")
@click.option("--role", required=True, type=click.Choice([r.value for r in StaffRole]))
@click.option("--region", "regions", multiple=True, help="Region code; repeat for several.")
@click.option("--name", "display_name", default="", help="Display name.")
def staff_add(login: str, role: str, regions: tuple[str, ...], display_name: str) -> None:
    """Create a staff account; the password is read from standard input."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not _valid_login(login):
        _fail("login must be 2–64 letters, digits, dots, dashes or underscores", code=2)

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        async with UnitOfWork(database.sessions) as uow:
            known = {r.code for r in await uow.reference.regions()}
            unknown = [code for code in regions if code not in known]
            if unknown:
                _fail(f"unknown region(s): {', '.join(unknown)}", code=2)
            if await uow.staff.by_login(login):
                _fail(f"a staff account {login!r} already exists", code=2)
            try:
                password_hash = hash_password(make_hasher(), password)
            except PasswordPolicyError as exc:
                _fail(str(exc), code=2)
                return
            user = uow.staff.add(
                login=login,
                password_hash=password_hash,
                role=StaffRole(role),
                regions=list(regions),
                display_name=display_name,
            )
            uow.audit.record(
                "user.create",
                actor_login="cli",
                target_type="staff",
                target_id=user.login,
                after={"role": role, "regions": list(regions)},
            )
            await uow.commit()
        click.echo(f"staff account {login!r} ({role}) created")

    body()


@cli.command("import")
@click.argument("kind", type=click.Choice(["offices", "services"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(kind: str, file: Path) -> None:
    """Insert or update offices or services from the agency's CSV FILE."""
    importer = import_offices if kind == "offices" else import_services
    data = file.read_bytes()

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        async with UnitOfWork(database.sessions) as uow:
            try:
                report = await importer(uow, data)
            except CsvFormatError as exc:
                _fail(f"{file}: {exc}; nothing was imported", code=2)
                return
            await uow.commit()
        for error in report.errors:
            click.echo(f"{file}: {error}", err=True)
        click.echo(
            f"{kind}: {report.added} added, {report.updated} updated, "
            f"{len(report.errors)} line(s) rejected"
        )
        if report.errors:
            sys.exit(1)

    body()


@cli.group()
def export() -> None:
    """Export data."""


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
    if not _valid_month(month):
        _fail("--month must look like 2026-03", code=2)

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


def _secret(settings: Settings) -> str | None:
    key = settings.security.secret_key
    return key.get_secret_value() if key else None


def _valid_login(login: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9._-]{2,64}", login) is not None


def _valid_month(month: str) -> bool:
    match = re.fullmatch(r"(\d{4})-(\d{2})", month)
    return match is not None and 1 <= int(match.group(2)) <= 12


if __name__ == "__main__":
    cli()
