"""The composition root and the ``pikir`` command line.

This is the one place that reads settings and wires storage, classifier, bot, web chat, admin
panel and scheduler into one process. Every other module receives what it needs as arguments.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from admin.passwords import PasswordPolicyError, hash_password, make_hasher
from bot.bootstrap import ensure_secret_key, prepare_database
from bot.conversation import ConversationService, FloodGuard, Limits, Translator
from bot.logging_setup import configure_logging
from bot.outbox import OutboxWorker, RateLimiter, Sender
from bot.persistence import SqlUnits
from bot.persistence.conversation_store import StoreConfig
from bot.settings import Settings, SettingsError, load_settings
from bot.tagging import ClassifierTagger
from bot.web.app import build_runtime as build_chat_runtime
from bot.web.app import create_chat_app, web_sender
from bot.web.config import ChatOptions
from bot.web.guards import origin_of
from bot.web.runtime import ChatRuntime
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
OUTBOX = web.AppKey("outbox", OutboxWorker)
WEB_CHAT = web.AppKey("web_chat", ChatRuntime)
# Where web chat photos are stored, relative to the data directory (retention erases them).
WEB_UPLOADS = "uploads/web"

P = ParamSpec("P")
T = TypeVar("T")


# --------------------------------------------------------------------------- application wiring


def build_app(settings: Settings) -> web.Application:
    """The whole service as one aiohttp application: health, web chat, admin, scheduler."""
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
    secret_key = ensure_secret_key(settings.data_dir, _secret(settings))
    service = conversation_service(settings, database, secret_key)
    chat = build_chat_runtime(service, database.sessions, chat_options(settings, secret_key))
    senders: dict[str, Sender] = {"web": web_sender(chat, database.sessions)}
    if settings.telegram.token is not None:
        senders["telegram"] = _wire_telegram(app, settings, service)
    app[OUTBOX] = OutboxWorker(
        database.sessions,
        senders,
        RateLimiter(settings.telegram.rate_per_second, settings.telegram.per_chat_interval),
    )
    app.cleanup_ctx.append(_outbox_ctx)
    app[WEB_CHAT] = chat
    app.add_subapp("/chat", create_chat_app(chat))
    app.add_subapp("/admin", create_admin_app(database))
    return app


def chat_options(settings: Settings, secret_key: bytes) -> ChatOptions:
    """The web chat's options from the settings."""
    webchat = settings.webchat
    return ChatOptions(
        secret_key=secret_key,
        public_origin=origin_of(settings.http.public_url),
        uploads_dir=settings.data_dir / WEB_UPLOADS,
        upload_prefix=WEB_UPLOADS,
        flood_per_second=webchat.flood_per_second,
        flood_burst=webchat.flood_burst,
        ip_per_second=webchat.ip_per_second,
        ip_burst=webchat.ip_burst,
        new_chats_per_minute=webchat.new_chats_per_minute,
        new_chats_burst=webchat.new_chats_burst,
        max_sockets_per_ip=webchat.max_sockets_per_ip,
        max_frame_bytes=webchat.max_frame_bytes,
        max_photo_bytes=Limits().max_photo_bytes,
        cookie_days=webchat.cookie_days,
        allowed_origins=tuple(webchat.allowed_origins),
        embed_origins=tuple(webchat.embed_origins),
        trust_forwarded_for=webchat.trust_forwarded_for,
        max_concurrent_events=settings.database.pool_size,
    )


def conversation_service(
    settings: Settings, database: Database, secret_key: bytes
) -> ConversationService:
    """The citizen's conversation core on the database, with the classifier if it loads."""
    store = StoreConfig(
        secret_key=secret_key,
        staff_chat_id=settings.telegram.staff_chat_id,
        timezone=settings.reports.timezone,
        sla_hours=settings.sla.model_dump(),
    )
    tagger = (
        ClassifierTagger.load(settings.classifier.artifacts_dir)
        if settings.classifier.enabled
        else None
    )
    return ConversationService(
        SqlUnits(database.sessions, store),
        Translator.load(),
        tagger,
        case_url=f"{settings.http.public_url.rstrip('/')}/admin/cases",
    )


def _wire_telegram(
    app: web.Application, settings: Settings, service: ConversationService
) -> Sender:
    """The bot (polling or webhook); returns the outbox's sender for the Telegram channel."""
    # Imported here: aiogram takes a while to import, and the other commands never need it.
    from bot.telegram.client import create_bot
    from bot.telegram.runtime import add_webhook, build_dispatcher, polling_context
    from bot.telegram.sender import TelegramSender

    telegram = settings.telegram
    assert telegram.token is not None
    bot = create_bot(telegram.token.get_secret_value(), telegram.api_url)
    guard = FloodGuard(telegram.flood_per_second, telegram.flood_burst)
    dispatcher = build_dispatcher(service, guard)
    if telegram.mode == "webhook":
        assert telegram.webhook_url is not None and telegram.webhook_secret is not None
        add_webhook(
            app,
            bot,
            dispatcher,
            url=telegram.webhook_url,
            secret=telegram.webhook_secret.get_secret_value(),
        )
    else:
        app.cleanup_ctx.append(polling_context(bot, dispatcher))
    return TelegramSender(bot)


async def _outbox_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[OUTBOX].run(), name="outbox")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


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
        scheduler.add_job(
            purge_web_history,
            "interval",
            hours=6,
            args=[app[WEB_CHAT], settings.retention.days],
            id="purge_web_history",
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


async def purge_web_history(chat: ChatRuntime, days: int) -> int:
    """Forget web chat history older than the retention period; the feedback rows stay."""
    return await chat.conversations.purge(utcnow() - timedelta(days=days))


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
    ensure_secret_key(settings.data_dir, _secret(settings))
    app = build_app(settings)
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
