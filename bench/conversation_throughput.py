"""Conversation throughput through the real aiogram Dispatcher (``feed_update``, no network).

For each backend (SQLite, PostgreSQL): complete citizen conversations per second and updates
per second on one process, and a bare aiogram handler doing one comparable database write per
update (a unit of work that records the update and stores a conversation row) as the yardstick.

    uv run python bench/conversation_throughput.py [--chats 200] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Chat, Message, Update

from bench._common import throwaway_database
from bot.conversation import ConversationService, FloodGuard, Translator
from bot.persistence import SqlUnits
from bot.persistence.conversation_store import StoreConfig
from bot.telegram.runtime import build_dispatcher
from storage.database import Database
from storage.models import Channel, Conversation
from storage.uow import UnitOfWork

_ids = itertools.count(1)


class NullApi(BaseSession):
    """Answers every Bot API call locally and remembers each chat's latest keyboard."""

    def __init__(self) -> None:
        super().__init__()
        self.keyboards: dict[int, list[list[str]]] = {}
        self.calls = 0

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> Any:
        self.calls += 1
        chat_id = getattr(method, "chat_id", None)
        markup = getattr(method, "reply_markup", None)
        if chat_id is not None and markup is not None:
            self.keyboards[int(chat_id)] = [
                [b.callback_data for b in row] for row in markup.inline_keyboard
            ]
        if method.__returning__ is bool:
            return True
        return Message(
            message_id=next(_ids),
            date=datetime.now(UTC),
            chat=Chat(id=int(chat_id or 0), type="private"),
            text=getattr(method, "text", None),
        )

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError


def _user(chat: int) -> dict[str, Any]:
    return {"id": chat, "is_bot": False, "first_name": "C", "language_code": "ru"}


def _chat(chat: int) -> dict[str, Any]:
    return {"id": chat, "type": "private"}


def _mounted(bot: Bot, update: dict[str, Any]) -> Update:
    """The update as polling hands it over: parsed from the Bot API's JSON, bound to the bot.

    (An ``Update`` built without the bot would make ``feed_update`` dump and re-parse it,
    a cost a real bot never pays.)
    """
    return Update.model_validate(update, context={"bot": bot})


def text_update(bot: Bot, chat: int, text: str) -> Update:
    message = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": _chat(chat),
        "from": _user(chat),
        "text": text,
    }
    return _mounted(bot, {"update_id": next(_ids), "message": message})


def press_update(bot: Bot, chat: int, data: str) -> Update:
    message = {"message_id": next(_ids), "date": int(time.time()), "chat": _chat(chat)}
    query = {
        "id": str(next(_ids)),
        "from": _user(chat),
        "chat_instance": str(chat),
        "message": message,
        "data": data,
    }
    return _mounted(bot, {"update_id": next(_ids), "callback_query": query})


async def conversation(dispatcher: Dispatcher, bot: Bot, api: NullApi, chat: int) -> int:
    """One complete feedback from a QR code to the receipt; the number of updates fed."""
    fed = 0

    async def feed(update: Update) -> None:
        nonlocal fed
        await dispatcher.feed_update(bot, update)
        fed += 1

    def button(row: int, column: int = 0) -> str:
        return api.keyboards[chat][row][column]

    await feed(text_update(bot, chat, "/start AST-01"))  # Russian from language_code
    await feed(press_update(bot, chat, button(0)))  # first category
    await feed(press_update(bot, chat, button(0)))  # first service
    await feed(press_update(bot, chat, button(0, 3)))  # rating 4
    for _ in range(5):
        await feed(press_update(bot, chat, button(0, 0)))  # yes
    await feed(text_update(bot, chat, "Всё хорошо, но очередь была долгой"))
    await feed(press_update(bot, chat, button(0)))  # no photo
    await feed(press_update(bot, chat, button(1)))  # stay anonymous
    return fed


def bare_dispatcher(database: Database) -> Dispatcher:
    """An aiogram handler doing one comparable write per update, and one reply."""
    router = Router()

    async def write_and_reply(chat: int, update_id: int, bot: Bot) -> None:
        async with UnitOfWork(database.sessions) as uow:
            await uow.conversations.claim_update(Channel.TELEGRAM, f"bare-{update_id}")
            conv = await uow.conversations.get_for_update(Channel.TELEGRAM, f"bare-{chat}")
            if conv is None:
                uow.conversations.add(
                    Conversation(
                        channel=Channel.TELEGRAM,
                        chat_key=f"bare-{chat}",
                        step="x",
                        data={},
                        version=1,
                    )
                )
            else:
                conv.version += 1
            await uow.commit()
        await bot.send_message(chat, "ok")

    @router.message()
    async def on_message(message: Message, bot: Bot, event_update: Update) -> None:
        await write_and_reply(message.chat.id, event_update.update_id, bot)

    @router.callback_query()
    async def on_press(query: CallbackQuery, bot: Bot, event_update: Update) -> None:
        assert query.message is not None
        await write_and_reply(query.message.chat.id, event_update.update_id, bot)
        await query.answer()

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def bare_chat(dispatcher: Dispatcher, bot: Bot, chat: int, updates: int) -> int:
    for index in range(updates):
        update = text_update(bot, chat, "x") if index % 2 else press_update(bot, chat, "1|x|")
        await dispatcher.feed_update(bot, update)
    return updates


async def run_backend(backend: str, chats: int, concurrency: int) -> dict[str, float]:
    async with throwaway_database(backend, pool_size=concurrency) as database:
        api = NullApi()
        bot = Bot("123456:BENCH", session=api)
        service = ConversationService(
            SqlUnits(database.sessions, StoreConfig(secret_key=b"bench")), Translator.load()
        )
        dispatcher = build_dispatcher(service, FloodGuard(rate=1000, burst=1000))
        gate = asyncio.Semaphore(concurrency)

        async def one(chat: int) -> int:
            async with gate:
                return await conversation(dispatcher, bot, api, chat)

        await asyncio.gather(*(one(900_000 + c) for c in range(concurrency)))  # warm up
        started = time.perf_counter()
        fed = await asyncio.gather(*(one(c + 1) for c in range(chats)))
        flow_seconds = time.perf_counter() - started
        updates = sum(fed)

        bare = bare_dispatcher(database)

        async def one_bare(chat: int) -> int:
            async with gate:
                return await bare_chat(bare, bot, chat, updates // chats)

        started = time.perf_counter()
        bare_fed = await asyncio.gather(*(one_bare(c + 1) for c in range(chats)))
        bare_seconds = time.perf_counter() - started
        return {
            "conversations_per_s": chats / flow_seconds,
            "updates_per_s": updates / flow_seconds,
            "updates_per_conversation": updates / chats,
            "bare_updates_per_s": sum(bare_fed) / bare_seconds,
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        result = await run_backend(backend, args.chats, args.concurrency)
        ratio = result["bare_updates_per_s"] / result["updates_per_s"]
        print(
            f"{backend:10s} conversations/s {result['conversations_per_s']:7.1f}  "
            f"updates/s {result['updates_per_s']:7.1f} "
            f"({result['updates_per_conversation']:.0f} per conversation)  "
            f"bare handler updates/s {result['bare_updates_per_s']:7.1f}  "
            f"bare/flow {ratio:4.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())
