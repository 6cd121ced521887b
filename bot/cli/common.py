"""What every ``pikir`` command shares: settings, one-line failures, a migrated database."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar

import click
import structlog

from admin.passwords import make_hasher
from bot.bootstrap import prepare_database
from bot.logging_setup import configure_logging
from bot.main import (
    announce_first_admin,
)
from bot.settings import Settings, SettingsError, load_settings
from storage.database import Database, DatabaseUnavailable
from storage.migrate_process import MigrationFailed

log = structlog.get_logger("pikir")
T = TypeVar("T")


def fail(message: str, code: int = 1) -> None:
    """Say what went wrong in one line on stderr and exit with ``code``."""
    click.echo(f"pikir: {message}", err=True)
    sys.exit(code)


def settings_or_exit() -> Settings:
    """The settings from the environment, logging configured; a bad value exits with code 2."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)
        raise  # unreachable; keeps type checkers satisfied
    configure_logging(settings.log_level, settings.log_format)
    return settings


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning an unreachable database into one clear line."""
    try:
        return asyncio.run(coro)
    except (DatabaseUnavailable, MigrationFailed) as exc:
        fail(str(exc))
        raise


def with_database(
    func: Callable[..., Awaitable[T]],
) -> Callable[..., T]:
    """Wrap an async command body ``(settings, database, ...)``: migrate first, dispose after."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        settings = settings_or_exit()

        async def body() -> T:
            database = Database(settings.database.url)
            try:
                announce_first_admin(await prepare_database(database, make_hasher()))
                return await func(settings, database, *args, **kwargs)
            finally:
                await database.dispose()

        return run(body())

    return wrapper


# --------------------------------------------------------------------------- commands


def valid_month(month: str) -> bool:
    """True for a month written ``YYYY-MM``."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", month)
    return match is not None and 1 <= int(match.group(2)) <= 12
