"""The composition root.

This is the one place that reads settings and wires storage, classifier, bot, web chat, admin
panel and scheduler into one process. Every other module receives what it needs as arguments.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import click
import structlog
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from redis.asyncio import Redis

from admin.app import create_admin_app
from admin.config import PanelConfig
from admin.figures.indicators import FiguresConfig
from admin.jobs import register_jobs
from admin.jobs.deps import CorrectedExample, JobDeps, Retrainer
from admin.jobs.figures_jobs import close_month_now
from admin.keys import ChannelPhotos
from admin.passwords import make_hasher
from admin.reports import ReportDeps, setup_reports
from admin.reports.context import MonthCloser
from admin.staff_texts import StaffTexts
from bot.bootstrap import ensure_secret_key, has_feedback, prepare_database
from bot.conversation import ConversationService, Translator
from bot.coordination import Coordination, LimitSettings
from bot.coordination.setup import build_coordination, open_redis, redis_problem
from bot.forwarded import forwarded_middleware
from bot.heartbeat import heartbeat_context
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
from bot.persistence import SqlChatHistoryStore, SqlUnits
from bot.persistence.conversation_store import StoreConfig
from bot.persistence.reference_cache import ReferenceCache
from bot.response_headers import install_response_headers
from bot.scheduling import SchedulerHandover, scheduler_handover
from bot.settings import Settings
from bot.tagging import ClassifierTagger
from bot.web.app import build_runtime as build_chat_runtime
from bot.web.app import create_chat_app, web_sender
from bot.web.config import ChatOptions
from bot.web.guards import origin_of
from bot.web.runtime import ChatRuntime
from classifier.retrain_process import retrain_in_child
from storage.database import Database, DatabaseUnavailable
from storage.migrate_process import upgrade_in_child
from storage.process_lease import ProcessLease
from storage.schema import schema_revision

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

T = TypeVar("T")


# --------------------------------------------------------------------------- application wiring


def build_app(settings: Settings, *, secret_key: bytes | None = None) -> web.Application:
    """The whole service as one aiohttp application: health, web chat, admin, scheduler."""
    if secret_key is None:
        secret_key = ensure_secret_key(settings.data_dir, configured_secret_key(settings))
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
        LimitSettings(settings.webchat, settings.telegram),
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
        service,
        SqlChatHistoryStore(database.sessions),
        chat_options(settings, secret_key),
        coordination,
    )
    senders: dict[str, Sender] = {"web": web_sender(chat)}
    channel_photos = None
    if settings.telegram.token is not None:
        senders["telegram"], channel_photos = _wire_telegram(app, settings, service, database)
    app[OUTBOX] = OutboxWorker(
        database.sessions,
        senders,
        coordination.send_slots,
        stuck_after=timedelta(seconds=settings.telegram.outbox_stuck_seconds),
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
        channel_photos=channel_photos,
    )
    setup_reports(
        admin_app,
        ReportDeps(
            database=database,
            figures=FiguresConfig(settings.reports),
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
    return PanelConfig(
        secret_key=secret_key,
        data_dir=settings.data_dir,
        http=settings.http,
        telegram=settings.telegram,
        security=settings.security,
        reports=settings.reports,
        sla=settings.sla,
    )


def chat_options(settings: Settings, secret_key: bytes) -> ChatOptions:
    """The web chat's options from the settings."""
    return ChatOptions(
        secret_key=secret_key,
        public_origin=origin_of(settings.http.public_url),
        data_dir=settings.data_dir,
        max_concurrent_events=settings.database.pool_size,
        webchat=settings.webchat,
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
        telegram=settings.telegram,
        reports=settings.reports,
        sla=settings.sla,
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
) -> tuple[Sender, ChannelPhotos]:
    """The bot (polling or webhook); returns the outbox's sender for the Telegram channel and
    what fetches a citizen's Telegram photo for the staff panel."""
    # Imported here: aiogram takes a while to import, and the other commands never need it.
    from bot.telegram.client import create_bot
    from bot.telegram.files import TelegramFiles
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
    return TelegramSender(bot), TelegramFiles(bot).fetch


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

    announce_first_admin(await prepare_database(database, make_hasher(), migrate=migrate))
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
    if not settings.scheduler.enabled:
        yield
        return
    deps = job_deps(settings, app[DATABASE], app[TAGGER])
    deps.on_run = app[METRICS].job_finished
    scheduler = app[SCHEDULER]
    # Of several workers the one holding the lease schedules; the others stand by to take over.
    handover = SchedulerHandover(
        scheduler,
        ProcessLease(app[DATABASE], "scheduler"),
        functools.partial(register_jobs, scheduler, deps),
    )
    async with scheduler_handover(handover, settings.scheduler.takeover_seconds):
        yield


def job_deps(settings: Settings, database: Database, tagger: ClassifierTagger | None) -> JobDeps:
    """The scheduled jobs' dependencies from the settings (``tagger``: the one in service,
    which a promoted model replaces)."""
    return JobDeps(
        database=database,
        data_dir=settings.data_dir,
        schedules=settings.scheduler,
        telegram=settings.telegram,
        http=settings.http,
        retention=settings.retention,
        reports=settings.reports,
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


def announce_first_admin(password: str | None) -> None:
    """Tell the operator the first admin's one-time password, if one was just created."""
    if password is not None:
        # Printed once to the operator's console on purpose; never written to the log.
        click.echo(
            f"First admin account created: login 'admin', one-time password '{password}' "
            "(change it at first login).",
            err=True,
        )


def configured_secret_key(settings: Settings) -> str | None:
    key = settings.security.secret_key
    return key.get_secret_value() if key else None


if __name__ == "__main__":
    # ``python -m bot.main`` stays the same command as ``pikir`` (scripts and tests use it).
    import runpy

    runpy.run_module("bot.cli", run_name="__main__", alter_sys=True)
