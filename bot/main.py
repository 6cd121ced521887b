"""The composition root and the ``pikir`` command line.

This is the one place that reads settings and wires storage, classifier, bot, web chat, admin
panel and scheduler into one process. Every other module receives what it needs as arguments.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
import structlog
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from redis.asyncio import Redis

from admin.app import create_admin_app
from admin.config import PanelConfig
from admin.figures.indicators import FiguresConfig, default_indicators
from admin.figures.service import export_aggregates, import_historic, refresh
from admin.jobs import register_jobs
from admin.jobs.deps import CorrectedExample, JobDeps, JobSchedules, Retrainer
from admin.jobs.figures_jobs import MonthNotOver, close_month_now
from admin.passwords import PasswordPolicyError, hash_password, make_hasher
from admin.reports import ReportDeps, setup_reports
from admin.reports.context import MonthCloser
from admin.staff_texts import StaffTexts
from bot.bootstrap import ensure_secret_key, has_feedback, prepare_database
from bot.conversation import ConversationService, Limits, Translator
from bot.coordination import Coordination, LimitSettings
from bot.coordination.setup import build_coordination, open_redis, redis_problem
from bot.forwarded import forwarded_middleware
from bot.heartbeat import SeveralWorkersRefused, heartbeat_context
from bot.logging_setup import configure_logging
from bot.model_watch import ModelWatcher
from bot.observability import (
    MeteredTagger,
    Metrics,
    Probe,
    healthz,
    metrics_handler,
    readyz_handler,
)
from bot.outbox import OutboxWorker, Sender
from bot.persistence import SqlUnits
from bot.persistence.conversation_store import StoreConfig
from bot.persistence.reference_cache import ReferenceCache
from bot.response_headers import install_response_headers
from bot.settings import Settings, SettingsError, load_settings
from bot.tagging import ClassifierTagger
from bot.telegram.errors import TelegramStartRefused
from bot.web.app import build_runtime as build_chat_runtime
from bot.web.app import create_chat_app, web_sender
from bot.web.config import ChatOptions
from bot.web.guards import origin_of
from bot.web.runtime import ChatRuntime
from classifier.retrain_process import retrain_in_child
from storage.database import Database, DatabaseUnavailable
from storage.feedback_export import write_feedback
from storage.migrate_process import MigrationFailed, upgrade_in_child
from storage.models import StaffRole
from storage.process_lease import ProcessLease
from storage.reference_data import CsvFormatError, import_offices, import_services
from storage.schema import schema_revision
from storage.uow import UnitOfWork

log = structlog.get_logger("pikir")

DATABASE = web.AppKey("database", Database)
SETTINGS = web.AppKey("settings", Settings)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
OUTBOX = web.AppKey("outbox", OutboxWorker)
WEB_CHAT = web.AppKey("web_chat", ChatRuntime)
# The classifier in service, or None when it is off or could not be loaded.
TAGGER: web.AppKey[ClassifierTagger | None] = web.AppKey("tagger")
METRICS = web.AppKey("metrics", Metrics)
COORDINATION = web.AppKey("coordination", Coordination)
# The process's one Redis client, or None without PIKIR_REDIS__URL.
REDIS: web.AppKey[Redis | None] = web.AppKey("redis")


@dataclass
class StartupState:
    """What the start-up found: the schema revision this code migrated to (for ``/readyz``)."""

    schema_head: str | None = None


STARTUP = web.AppKey("startup", StartupState)
# Where web chat photos are stored, relative to the data directory (retention erases them).
WEB_UPLOADS = "uploads/web"

T = TypeVar("T")


# --------------------------------------------------------------------------- application wiring


def build_app(settings: Settings, *, secret_key: bytes | None = None) -> web.Application:
    """The whole service as one aiohttp application: health, web chat, admin, scheduler."""
    if secret_key is None:
        secret_key = ensure_secret_key(settings.data_dir, _secret(settings))
    database = Database(
        settings.database.url,
        echo=settings.database.echo,
        pool_size=settings.database.pool_size,
        ping_after_idle=settings.database.ping_after_idle_seconds,
    )
    proxies = settings.http.trusted_proxies
    app = web.Application(
        client_max_size=6 * 1024 * 1024,
        middlewares=[forwarded_middleware(proxies)] if proxies else [],
    )
    install_response_headers(app, public_url=settings.http.public_url)
    app[SETTINGS] = settings
    app[DATABASE] = database
    app[SCHEDULER] = AsyncIOScheduler(timezone=settings.reports.timezone)
    app[METRICS] = metrics = Metrics()
    app[STARTUP] = StartupState()
    app.cleanup_ctx.append(_database_ctx)
    redis_url = settings.redis.url
    app[REDIS] = open_redis(redis_url.get_secret_value()) if redis_url else None
    app.cleanup_ctx.append(_redis_ctx)
    app.cleanup_ctx.append(
        heartbeat_context(
            database,
            shares_redis=redis_url is not None,
            secret_key_set=settings.security.secret_key is not None,
        )
    )
    app[COORDINATION] = coordination = build_coordination(
        limit_settings(settings),
        app[REDIS],
        settings.redis.prefix,
        metrics,
        settings.redis.ordering_window_ms / 1000,
    )
    app.cleanup_ctx.append(_scheduler_ctx)
    # One model in memory, shared by the conversation (tagging) and the panel (explanations).
    tagger = load_tagger(settings)
    app[TAGGER] = tagger
    app.cleanup_ctx.append(_model_watch_ctx)
    reference = ReferenceCache()
    service = conversation_service(settings, database, secret_key, tagger, metrics, reference)
    chat = build_chat_runtime(
        service, database.sessions, chat_options(settings, secret_key), coordination
    )
    senders: dict[str, Sender] = {"web": web_sender(chat, database.sessions)}
    if settings.telegram.token is not None:
        senders["telegram"] = _wire_telegram(app, settings, service, database)
    app[OUTBOX] = OutboxWorker(
        database.sessions,
        senders,
        coordination.send_slots,
        observer=metrics,
    )
    app.cleanup_ctx.append(_outbox_ctx)
    _add_operator_routes(app)
    app[WEB_CHAT] = chat
    app.add_subapp("/chat", create_chat_app(chat))
    admin_app = create_admin_app(
        database,
        panel_config(settings, secret_key),
        explainer=tagger,
        on_reference_change=reference.invalidate,
    )
    setup_reports(
        admin_app,
        ReportDeps(
            database=database,
            figures=figures_config(settings),
            reports_dir=settings.data_dir / "reports",
            close_month=month_closer(job_deps(settings, database, tagger)),
        ),
    )
    app.add_subapp("/admin", admin_app)
    return app


def month_closer(deps: JobDeps) -> MonthCloser:
    """The packs page's "close the month" button: the same close as ``pikir month close``."""

    async def close(month: str, resend: bool) -> tuple[str, str | None]:
        result = await close_month_now(deps, month, resend=resend)
        return result.outcome, result.detail

    return close


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
        login_first_delay=timedelta(seconds=security.login_delay_seconds),
        login_lockout=timedelta(minutes=security.login_lockout_minutes),
        login_max_failures_per_account=security.login_max_failures_per_account,
        staff_chat_id=settings.telegram.staff_chat_id,
        sla_hours=settings.sla.model_dump(),
        timezone=settings.reports.timezone,
        data_dir=settings.data_dir,
    )


def limit_settings(settings: Settings) -> LimitSettings:
    """Every rate limit of the bot, the web chat and the outbox, from the settings."""
    telegram, webchat = settings.telegram, settings.webchat
    return LimitSettings(
        telegram_flood_per_second=telegram.flood_per_second,
        telegram_flood_burst=telegram.flood_burst,
        web_flood_per_second=webchat.flood_per_second,
        web_flood_burst=webchat.flood_burst,
        ip_per_second=webchat.ip_per_second,
        ip_burst=webchat.ip_burst,
        new_chats_per_second=webchat.new_chats_per_minute / 60.0,
        new_chats_burst=webchat.new_chats_burst,
        max_sockets_per_ip=webchat.max_sockets_per_ip,
        send_per_second=telegram.rate_per_second,
        send_per_chat_interval=telegram.per_chat_interval,
    )


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
        max_concurrent_events=settings.database.pool_size,
    )


def load_tagger(settings: Settings) -> ClassifierTagger | None:
    """The complaint classifier, unless it is switched off or cannot be loaded."""
    if not settings.classifier.enabled:
        return None
    return ClassifierTagger.load(settings.classifier.artifacts_dir)


def conversation_service(
    settings: Settings,
    database: Database,
    secret_key: bytes,
    tagger: ClassifierTagger | None,
    metrics: Metrics | None = None,
    reference: ReferenceCache | None = None,
) -> ConversationService:
    """The citizen's conversation core on the database, with the classifier if it loaded.

    ``reference`` is the snapshot of offices and services the conversation shows, shared with
    the panel so that its edits show at once.
    """
    store = StoreConfig(
        secret_key=secret_key,
        staff_chat_id=settings.telegram.staff_chat_id,
        timezone=settings.reports.timezone,
        sla_hours=settings.sla.model_dump(),
        data_dir=settings.data_dir,
    )
    return ConversationService(
        SqlUnits(database.sessions, store, reference),
        Translator.load(),
        MeteredTagger(tagger, metrics) if tagger is not None and metrics is not None else tagger,
        case_url=f"{settings.http.public_url.rstrip('/')}/admin/cases",
        observer=metrics,
        staff_texts=StaffTexts(settings.telegram.staff_language),
    )


def _add_operator_routes(app: web.Application) -> None:
    """``/healthz`` (liveness), ``/readyz`` (for the proxy) and ``/metrics`` (Prometheus)."""
    database = app[DATABASE]

    async def database_problem() -> str | None:
        try:
            await database.ping()
        except DatabaseUnavailable:
            return "unreachable"
        return None

    async def schema_problem() -> str | None:
        expected = app[STARTUP].schema_head
        found = await schema_revision(database)
        if expected is None or found != expected:
            return f"at {found}, expected {expected}"
        return None

    async def sample_gauges() -> None:
        metrics = app[METRICS]
        metrics.pool_in_use.set(database.connections_in_use())
        metrics.outbox_depth.set(await app[OUTBOX].pending())

    app.router.add_get("/healthz", healthz)
    probes: dict[str, Probe] = {"database": database_problem, "schema": schema_problem}
    client = app[REDIS]
    if client is not None:
        probes["redis"] = functools.partial(redis_problem, client)
    app.router.add_get("/readyz", readyz_handler(probes))
    app.router.add_get("/metrics", metrics_handler(app[METRICS], sample_gauges))


def _wire_telegram(
    app: web.Application, settings: Settings, service: ConversationService, database: Database
) -> Sender:
    """The bot (polling or webhook); returns the outbox's sender for the Telegram channel."""
    # Imported here: aiogram takes a while to import, and the other commands never need it.
    from bot.telegram.client import create_bot
    from bot.telegram.runtime import add_webhook, build_dispatcher, polling_context
    from bot.telegram.sender import TelegramSender

    telegram = settings.telegram
    assert telegram.token is not None
    bot = create_bot(telegram.token.get_secret_value(), telegram.api_url)
    coordination = app[COORDINATION]
    dispatcher = build_dispatcher(service, coordination.telegram_flood, coordination.chat_locks)
    if telegram.mode == "webhook":
        assert telegram.webhook_url is not None and telegram.webhook_secret is not None
        add_webhook(
            app,
            bot,
            dispatcher,
            service.translator,
            url=telegram.webhook_url,
            secret=telegram.webhook_secret.get_secret_value(),
            lease=ProcessLease(database, "telegram-webhook"),
        )
    else:
        # At most pool-size updates at once: a burst waits its turn in order instead of
        # spawning a task per update that would wait for a database connection.
        app.cleanup_ctx.append(
            polling_context(
                bot,
                dispatcher,
                service.translator,
                lease=ProcessLease(database, "telegram-polling"),
                delete_webhook=telegram.delete_webhook,
                concurrency=settings.database.pool_size,
            )
        )
    return TelegramSender(bot)


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    client = app[REDIS]
    if client is None:
        yield
        return
    # Not fatal: the worker starts, /readyz says "redis: unreachable" and every update waits
    # for Redis (fails, to be redelivered) instead of running unlocked.
    problem = await redis_problem(client)
    if problem is not None:
        log.error("redis.unreachable", problem=problem)
    else:
        log.info("redis.ready")
    yield
    await client.aclose()


async def _outbox_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[OUTBOX].run(), name="outbox")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _model_watch_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, tagger = app[SETTINGS], app[TAGGER]
    if tagger is None:
        yield
        return
    watcher = ModelWatcher(tagger, settings.classifier.artifacts_dir)
    task = asyncio.create_task(watcher.run(settings.classifier.reload_check_seconds))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    database = app[DATABASE]
    startup = app[STARTUP]

    async def migrate(database: Database) -> None:
        # The long-lived service migrates in a child process, so it never holds Alembic.
        startup.schema_head = await upgrade_in_child(database)

    _announce_first_admin(await prepare_database(database, make_hasher(), migrate=migrate))
    if not await has_feedback(database):
        click.echo(
            "No feedback yet. To see every page with data, load 12 months of demo feedback: "
            "make demo (or: pikir demo).",
            err=True,
        )
    log.info("database.ready", url=database.safe_url)
    yield
    await database.dispose()


async def _scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    scheduler = app[SCHEDULER]
    if settings.scheduler.enabled:
        deps = job_deps(settings, app[DATABASE], app[TAGGER])
        deps.on_run = app[METRICS].job_finished
        register_jobs(scheduler, deps)
        scheduler.start()
        log.info("scheduler.started", jobs=[job.id for job in scheduler.get_jobs()])
    yield
    if scheduler.running:
        scheduler.shutdown(wait=False)


def job_deps(settings: Settings, database: Database, tagger: ClassifierTagger | None) -> JobDeps:
    """The scheduled jobs' dependencies from the settings (``tagger``: the one in service,
    which a promoted model replaces)."""
    s = settings.scheduler
    return JobDeps(
        database=database,
        figures=figures_config(settings),
        data_dir=settings.data_dir,
        schedules=JobSchedules(
            aggregate=s.aggregate,
            month_close=s.month_close,
            sla_reminders=s.sla_reminders,
            weekly_digest=s.weekly_digest,
            retrain=s.retrain,
            retention=s.retention,
            purge=s.purge,
            misfire_grace_seconds=s.misfire_grace_seconds,
            month_close_misfire_grace_seconds=s.month_close_misfire_grace_seconds,
            coalesce=s.coalesce,
            lease=timedelta(minutes=s.lease_minutes),
        ),
        staff_chat_id=settings.telegram.staff_chat_id,
        staff_language=settings.telegram.staff_language,
        panel_url=settings.http.public_url.rstrip("/") + "/admin",
        retention_days=settings.retention.days,
        refresh_overlap=timedelta(minutes=settings.reports.refresh_overlap_minutes),
        retrainer=classifier_retrainer(settings, tagger),
    )


def classifier_retrainer(settings: Settings, tagger: ClassifierTagger | None) -> Retrainer:
    """The classifier's retraining behind the jobs' port, run in a child process; a promoted
    model replaces ``tagger``'s at once."""
    artifacts = settings.classifier.artifacts_dir

    def run(extra: Sequence[CorrectedExample], now: datetime) -> str:
        examples = [
            {"id": e.id, "lang": e.lang, "text": e.text, "labels": list(e.labels)} for e in extra
        ]
        decision = retrain_in_child(examples, now, artifacts)
        verdict = "promoted" if decision["promoted"] else "kept current"
        if decision["promoted"] and tagger is not None and not tagger.reload(artifacts):
            verdict = "promoted (still serving the previous model: see the log)"
        return f"{verdict}: {decision['candidate_version']} ({decision['reason']})"

    return run


# --------------------------------------------------------------------------- command line helpers


def _announce_first_admin(password: str | None) -> None:
    """Tell the operator the first admin's one-time password, if one was just created."""
    if password is not None:
        # Printed once to the operator's console on purpose; never written to the log.
        click.echo(
            f"First admin account created: login 'admin', one-time password '{password}' "
            "(change it at first login).",
            err=True,
        )


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
    except (DatabaseUnavailable, MigrationFailed) as exc:
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
                _announce_first_admin(await prepare_database(database, make_hasher()))
                return await func(settings, database, *args, **kwargs)
            finally:
                await database.dispose()

        return _run(body())

    return wrapper


# --------------------------------------------------------------------------- commands


class _PikirGroup(click.Group):
    """``pikir``'s commands, with ``pikir classifier …`` loaded only when it is asked for.

    The classifier's commands import scikit-learn and skops, which take seconds; the other
    commands (``serve`` with the classifier switched off, ``staff add``, …) need not wait.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "classifier"])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "classifier":
            from classifier.cli import classifier_group

            return classifier_group
        return super().get_command(ctx, cmd_name)


@click.group(cls=_PikirGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    except (
        DatabaseUnavailable,
        MigrationFailed,
        TelegramStartRefused,
        SeveralWorkersRefused,
    ) as exc:
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
            tagger=load_tagger(settings),
        )
        click.echo(f"added {count} demo feedback rows over {months} months")
        # Every page has data at once: the figures need no wait for the refresh job, and the
        # past months are closed so their packs exist (demo packs are not sent to anyone).
        result = await refresh(database, everything=True)
        click.echo(f"aggregates refreshed: {result.cells} cell(s)")
        deps = job_deps(settings, database, None)
        current = deps.local_time(deps.clock()).strftime("%Y-%m")
        closed = [m for m in result.months if m < current]
        for month in closed:
            await close_month_now(deps, month, send=False)
        click.echo(f"closed {len(closed)} past month(s): packs in {deps.reports_dir}")

    body()


@cli.group()
def telegram() -> None:
    """The bot's registration with Telegram."""


@telegram.command("set-webhook")
def telegram_set_webhook() -> None:
    """Point Telegram at PIKIR_TELEGRAM__WEBHOOK_URL with the secret, and publish the menu.

    Workers in webhook mode do this once at start (the first to take the webhook lease); run
    it by hand after changing the webhook URL or secret without restarting every worker.
    """
    telegram = _settings().telegram
    token, url, secret = telegram.token, telegram.webhook_url, telegram.webhook_secret
    if token is None or telegram.mode != "webhook" or url is None or secret is None:
        _fail("set PIKIR_TELEGRAM__TOKEN, PIKIR_TELEGRAM__MODE=webhook, its URL and secret")
        return
    from bot.conversation import Translator
    from bot.telegram.client import create_bot
    from bot.telegram.runtime import register_webhook

    async def body() -> None:
        bot = create_bot(token.get_secret_value(), telegram.api_url)
        try:
            await register_webhook(
                bot, Translator.load(), url=url, secret=secret.get_secret_value()
            )
        finally:
            await bot.session.close()

    _run(body())
    click.echo(f"webhook set: {telegram.webhook_url}")


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
@click.argument("kind", type=click.Choice(["offices", "services", "feedback"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(kind: str, file: Path) -> None:
    """Insert or update offices or services, or load past feedback, from the CSV FILE.

    feedback: columns source_id,office,service,date,rating[,politeness,waiting,information,
    result,no_extra_payment,language,text]; rows already imported (same source_id) are skipped.
    """
    data = file.read_bytes()
    if kind == "feedback":
        _import_feedback(file, data)
        return
    importer = import_offices if kind == "offices" else import_services

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


def _import_feedback(file: Path, data: bytes) -> None:
    @with_database
    async def body(settings: Settings, database: Database) -> None:
        try:
            report = await import_historic(database, data, timezone=settings.reports.timezone)
        except CsvFormatError as exc:
            _fail(f"{file}: {exc}; nothing was imported", code=2)
            return
        for error in report.errors:
            click.echo(f"{file}: {error}", err=True)
        click.echo(
            f"feedback: {report.added} added, {report.skipped} already imported, "
            f"{len(report.errors)} line(s) rejected"
        )
        if report.errors:
            sys.exit(1)

    body()


def figures_config(settings: Settings) -> FiguresConfig:
    """The figures' part of the settings."""
    reports = settings.reports
    return FiguresConfig(
        min_cell=reports.min_cell,
        timezone=reports.timezone,
        indicators=default_indicators(
            ethics_baseline=reports.ethics_baseline,
            ethics_targets=reports.ethics_targets,
            timeliness_baseline=reports.timeliness_baseline,
            timeliness_targets=reports.timeliness_targets,
            csat_baseline=reports.csat_baseline,
            csat_targets=reports.csat_targets,
        ),
    )


@cli.command()
@click.option("--month", help="Refresh only this month (YYYY-MM).")
@click.option("--all", "everything", is_flag=True, help="Rebuild every month from the raw rows.")
def aggregate(month: str | None, everything: bool) -> None:
    """Refresh the monthly aggregates: by default the months changed since the last refresh."""
    if month is not None and not _valid_month(month):
        _fail("--month must look like 2026-03", code=2)
    if month is not None and everything:
        _fail("give --month or --all, not both", code=2)

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        result = await refresh(
            database,
            month=month,
            everything=everything,
            overlap=timedelta(minutes=settings.reports.refresh_overlap_minutes),
        )
        months = ", ".join(result.months) or "none"
        click.echo(f"aggregates refreshed: {result.cells} cell(s) in month(s) {months}")

    body()


@cli.group()
def month() -> None:
    """Monthly reporting."""


@month.command("close")
@click.option("--month", "month_", required=True, help="The month to close, YYYY-MM.")
@click.option("--resend", is_flag=True, help="Send the pack again to those who had it.")
def month_close(month_: str, resend: bool) -> None:
    """Close a past month: final figures, its M&E pack, the pack to subscribed staff.

    Running it again rewrites the pack and sends it only to subscribers who have not had it.
    """
    if not _valid_month(month_):
        _fail("--month must look like 2026-03", code=2)

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        deps = job_deps(settings, database, None)
        try:
            result = await close_month_now(deps, month_, resend=resend)
        except MonthNotOver:
            _fail(f"{month_} is not over yet: only a past month can be closed", code=2)
            return
        if result.outcome != "ok":
            _fail(f"closing {month_} failed: {result.detail}")
        click.echo(f"{month_} closed: {result.detail}")

    body()


@cli.group()
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
    if not _valid_month(month):
        _fail("--month must look like 2026-03", code=2)
    if fmt == "xlsx" and out is None:
        _fail("--format xlsx needs --out FILE", code=2)

    @with_database
    async def body(settings: Settings, database: Database) -> bytes:
        return await export_aggregates(
            database, month, fmt, figures_config(settings), period=period, language=language
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
