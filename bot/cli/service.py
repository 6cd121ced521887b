"""``pikir serve``, ``migrate``, ``demo`` and ``telegram set-webhook``: running the service."""

from __future__ import annotations

import click
import structlog
from aiohttp import web

from admin.figures.service import refresh
from admin.jobs.figures_jobs import close_month_now
from bot.bootstrap import ensure_secret_key
from bot.cli.common import fail, run, settings_or_exit, with_database
from bot.conversation import Translator
from bot.heartbeat import SeveralWorkersRefused
from bot.main import (
    build_app,
    configured_secret_key,
    job_deps,
    load_tagger,
)
from bot.settings import Settings, sla_hours
from bot.telegram.errors import TelegramStartRefused
from storage.database import Database, DatabaseUnavailable
from storage.migrate_process import MigrationFailed

log = structlog.get_logger("pikir")


@click.command()
def serve() -> None:
    """Run the service: web chat, admin panel, bot and scheduled jobs in one process."""
    settings = settings_or_exit()
    app = build_app(
        settings, secret_key=ensure_secret_key(settings.data_dir, configured_secret_key(settings))
    )
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
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {settings.http.host}:{settings.http.port}: {exc.strerror}")


@click.command()
def migrate() -> None:
    """Bring the database schema up to date and load the reference data."""

    @with_database
    async def body(settings: Settings, database: Database) -> None:
        click.echo(f"database {database.safe_url} is up to date")

    body()


@click.command()
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
            sla_hours=sla_hours(settings.sla),
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


@click.group()
def telegram() -> None:
    """The bot's registration with Telegram."""


@telegram.command("set-webhook")
def telegram_set_webhook() -> None:
    """Point Telegram at PIKIR_TELEGRAM__WEBHOOK_URL with the secret, and publish the menu.

    Workers in webhook mode do this once at start (the first to take the webhook lease); run
    it by hand after changing the webhook URL or secret without restarting every worker.
    """
    telegram = settings_or_exit().telegram
    token, url, secret = telegram.token, telegram.webhook_url, telegram.webhook_secret
    if token is None or telegram.mode != "webhook" or url is None or secret is None:
        fail("set PIKIR_TELEGRAM__TOKEN, PIKIR_TELEGRAM__MODE=webhook, its URL and secret")
        return
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

    run(body())
    click.echo(f"webhook set: {telegram.webhook_url}")
