"""Running outbox workers as tasks, for the tests and the benchmark that run several at once."""

from __future__ import annotations

import asyncio

from aiogram import Bot


async def stop_outbox_workers(tasks: list[asyncio.Task[None]], bots: list[Bot]) -> None:
    """Cancel the workers' tasks, wait until each has stopped, close their bots' sessions."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for bot in bots:
        await bot.session.close()
