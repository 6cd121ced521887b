"""Running the bot inside the service: the dispatcher, polling as a task, or the webhook route."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import structlog
from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.conversation import ConversationService, FloodGuard, Translator
from bot.coordination import ChatLocks, FloodLimiter
from bot.coordination.memory import MemoryChatLocks, MemoryFlood
from bot.outage import outage_of
from bot.telegram.commands import publish_menu
from bot.telegram.errors import TelegramStartRefused
from bot.telegram.handlers import build_router
from bot.telegram.middlewares import ChatOrderMiddleware, FloodMiddleware
from storage.process_lease import ProcessLease

log = structlog.get_logger("pikir.telegram")
ALLOWED_UPDATES = ["message", "callback_query"]
WEBHOOK_PATH = "/telegram/webhook"


def build_dispatcher(
    service: ConversationService,
    guard: FloodLimiter | FloodGuard,
    locks: ChatLocks | None = None,
) -> Dispatcher:
    """The dispatcher: the chat's lock first, then flood control, then the citizen's router.
    No FSM is used: aiogram's FSM middleware, which would look up a state for every update, is
    left out. A bare guard and no locks are this process's alone."""
    dispatcher = Dispatcher(disable_fsm=True)
    flood = MemoryFlood(guard) if isinstance(guard, FloodGuard) else guard
    # The chat's place in line is taken first, before anything else delays the update.
    dispatcher.update.outer_middleware(ChatOrderMiddleware(locks or MemoryChatLocks()))
    dispatcher.update.outer_middleware(FloodMiddleware(flood, service))
    dispatcher.include_router(build_router(service))
    return dispatcher


def polling_context(
    bot: Bot,
    dispatcher: Dispatcher,
    translator: Translator,
    *,
    lease: ProcessLease,
    delete_webhook: bool = False,
    polling_timeout: int = 25,
    concurrency: int | None = None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` that polls for updates while the application runs, handling at most
    ``concurrency`` of them at once (no limit when None).

    Only one process may poll a bot (Telegram answers a second ``getUpdates`` with 409): the
    polling ``lease`` must be free. A webhook set for the bot is deleted only when
    ``delete_webhook`` says so; otherwise polling is refused, not the webhook silently lost.
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        info = await bot.get_webhook_info()
        if info.url and not delete_webhook:
            raise TelegramStartRefused(
                f"a webhook is set for this bot ({info.url}); polling would delete it: use "
                "PIKIR_TELEGRAM__MODE=webhook, or PIKIR_TELEGRAM__DELETE_WEBHOOK=true to poll"
            )
        if not await lease.acquire():
            raise TelegramStartRefused(
                "another process already polls this bot on this database: polling runs in one "
                "process only (PIKIR_TELEGRAM__MODE=webhook for several workers)"
            )
        if info.url:
            await bot.delete_webhook(drop_pending_updates=False)
            log.warning("telegram.webhook_deleted", url=info.url)
        await publish_menu(bot, translator)
        task = asyncio.create_task(
            dispatcher.start_polling(
                bot,
                handle_signals=False,
                close_bot_session=False,
                polling_timeout=polling_timeout,
                allowed_updates=ALLOWED_UPDATES,
                tasks_concurrency_limit=concurrency,
            ),
            name="telegram-polling",
        )
        log.info("telegram.polling")
        yield
        with contextlib.suppress(RuntimeError):  # polling may already have stopped
            await dispatcher.stop_polling()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await lease.release()
        await bot.session.close()

    return context


class CheckedRequestHandler(SimpleRequestHandler):
    """aiogram's webhook handler, with a 400 (and one warning line) for a body that is not an
    update, and a 503 (and one error line) for an update met by a database or Redis outage,
    instead of a 500 with tracebacks; the secret is checked before, as in aiogram.

    Telegram delivers a refused update again, so an outage loses nothing: its changes were
    rolled back and the redelivery is handled once the service is back.
    """

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            update = Update.model_validate(
                await request.json(loads=bot.session.json_loads), context={"bot": bot}
            )
        except (ValueError, TypeError, LookupError) as exc:  # not JSON or an update; a bad charset
            log.warning("telegram.webhook_malformed", error=type(exc).__name__)
            return web.Response(status=400, text="Not a Telegram update.")
        try:
            # Fed here rather than by aiogram's feed_webhook_update, which logs every failure
            # with its traceback before this could tell an outage from a bug.
            result = await self.dispatcher.feed_update(bot, update, **self.data, redelivered=True)
        except Exception as exc:
            unavailable = outage_of(exc)
            if unavailable is None:
                raise
            log.error(
                "telegram.update_refused",
                update_id=update.update_id,
                unavailable=unavailable,
                error=f"{type(exc).__name__}: {exc}"[:200],
            )
            return web.Response(status=503, text="Try again later.")
        answer = result if isinstance(result, TelegramMethod) else None
        return web.Response(body=self._build_response_writer(bot=bot, result=answer))


def add_webhook(
    app: web.Application,
    bot: Bot,
    dispatcher: Dispatcher,
    translator: Translator,
    *,
    url: str,
    secret: str,
    lease: ProcessLease,
    path: str = WEBHOOK_PATH,
) -> None:
    """Serve the webhook at ``path`` on ``app``; every call must carry ``secret``.

    Of several workers only the one that holds the webhook ``lease`` calls ``setWebhook`` (and
    publishes the command menu) at its start; ``pikir telegram set-webhook`` does it by hand.
    """
    # Handled before answering, so Telegram redelivers if the process dies mid-update.
    CheckedRequestHandler(
        dispatcher=dispatcher, bot=bot, secret_token=secret, handle_in_background=False
    ).register(app, path=path)

    async def context(app: web.Application) -> AsyncIterator[None]:
        if await lease.acquire():
            await register_webhook(bot, translator, url=url, secret=secret)
        log.info("telegram.webhook", path=path)
        yield
        await lease.release()
        await bot.session.close()

    app.cleanup_ctx.append(context)


async def register_webhook(bot: Bot, translator: Translator, *, url: str, secret: str) -> None:
    """Tell Telegram where to deliver updates (with the secret) and publish the command menu."""
    await bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
    await publish_menu(bot, translator)
    log.info("telegram.webhook_set", url=url)
