"""Conversation throughput through the real aiogram Dispatcher (``feed_update``, no network).

For each backend (SQLite, PostgreSQL): updates per second and this process's CPU time per
update on one process, for complete citizen conversations through the real dispatcher and
store, and for a bare aiogram handler doing the same unit of work per update (claim and
load-and-lock in one statement, a versioned save with the commit, one reply) as the
yardstick. Each gets a warm-up, then they are timed alternately, flow/bare/flow/bare, so a
change in the machine's load hits both. CPU time is this process's only: PostgreSQL's own
is not in it.

Needs: ``make install``; a PostgreSQL server (``PIKIR_BENCH_POSTGRES_URL``, default
``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``, allowed to create databases).

    uv run python bench/conversation_throughput.py [--chats 200] [--concurrency 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import statistics
import time
from collections.abc import Awaitable
from dataclasses import dataclass
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
from storage.repositories.conversation_hot_path import ConversationHotPath
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
    """An aiogram handler doing the flow's unit of work per update, with no conversation logic.

    The same statements as the real store (claim and load-and-lock in one, then a versioned
    save sent with the commit, or a first insert, on the driver connection), one reply: the
    yardstick for what the conversation core, the flood guard and the store's bookkeeping
    cost on top.
    """
    router = Router()

    async def write_and_reply(chat: int, update_id: int, bot: Bot) -> None:
        async with UnitOfWork(database.sessions) as uow:
            rows = ConversationHotPath(uow.session)
            chat_key = f"bare-{chat}"
            claimed, found = await rows.claim_and_lock("telegram", f"bare-{update_id}", chat_key)
            if claimed and found is None:
                await rows.insert_new(
                    "telegram", chat_key, step="x", data={}, version=1, respondent_id=None
                )
            elif claimed and found is not None:
                await rows.save_if_version(
                    found.id,
                    found.version,
                    step="x",
                    data=found.data,
                    respondent_id=None,
                    with_commit=True,
                )
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

    dispatcher = Dispatcher(disable_fsm=True)  # as the bot's own (no FSM)
    dispatcher.include_router(router)
    return dispatcher


async def bare_chat(dispatcher: Dispatcher, bot: Bot, chat: int, updates: int) -> int:
    for index in range(updates):
        update = text_update(bot, chat, "x") if index % 2 else press_update(bot, chat, "1|x|")
        await dispatcher.feed_update(bot, update)
    return updates


@dataclass
class Run:
    """Updates fed in one timed run, with its wall-clock and this process's CPU seconds."""

    updates: int
    wall: float
    cpu: float

    @property
    def per_second(self) -> float:
        return self.updates / self.wall

    @property
    def cpu_ms_per_update(self) -> float:
        return self.cpu / self.updates * 1e3


async def timed(work: Awaitable[list[int]]) -> Run:
    """Run ``work`` (a gather of chats) and measure it."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    fed = await work
    return Run(sum(fed), time.perf_counter() - wall, time.process_time() - cpu)


async def run_backend(
    backend: str, chats: int, concurrency: int, rounds: int
) -> tuple[list[Run], list[Run]]:
    """Flow and bare handler, each warmed up, then timed alternately (A/B/A/B …)."""
    async with throwaway_database(backend, pool_size=concurrency) as database:
        api = NullApi()
        bot = Bot("123456:BENCH", session=api)
        service = ConversationService(
            SqlUnits(database.sessions, StoreConfig(secret_key=b"bench")), Translator.load()
        )
        flow = build_dispatcher(service, FloodGuard(rate=1000, burst=1000))
        bare = bare_dispatcher(database)
        gate = asyncio.Semaphore(concurrency)
        chat_ids = itertools.count(1)

        async def one(chat: int) -> int:
            async with gate:
                return await conversation(flow, bot, api, chat)

        async def one_bare(chat: int, updates: int) -> int:
            async with gate:
                return await bare_chat(bare, bot, chat, updates)

        def flow_round(n: int) -> Awaitable[list[int]]:
            return asyncio.gather(*(one(next(chat_ids)) for _ in range(n)))

        def bare_round(n: int) -> Awaitable[list[int]]:
            return asyncio.gather(
                *(one_bare(next(chat_ids), UPDATES_PER_CONVERSATION) for _ in range(n))
            )

        await flow_round(concurrency)  # warm-ups: caches, prepared statements, the pool
        await bare_round(concurrency)
        flows, bares = [], []
        for _ in range(rounds):
            flows.append(await timed(flow_round(chats)))
            bares.append(await timed(bare_round(chats)))
        return flows, bares


# Updates of one complete conversation in :func:`conversation`; the bare handler gets as many.
UPDATES_PER_CONVERSATION = 12


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="A/B pairs per backend")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        load_before = os.getloadavg()[0]
        flows, bares = await run_backend(backend, args.chats, args.concurrency, args.rounds)
        for index, (flow, bare) in enumerate(zip(flows, bares, strict=True), 1):
            print(
                f"{backend:10s} round {index}: flow {flow.per_second:7.1f} updates/s "
                f"({flow.per_second / UPDATES_PER_CONVERSATION:5.1f} conversations/s, "
                f"CPU {flow.cpu_ms_per_update:.3f} ms/update)  "
                f"bare {bare.per_second:7.1f} updates/s (CPU {bare.cpu_ms_per_update:.3f} ms)  "
                f"bare/flow {bare.per_second / flow.per_second:4.2f}x",
                flush=True,
            )
        flow_rate = statistics.median(f.per_second for f in flows)
        bare_rate = statistics.median(b.per_second for b in bares)
        print(
            f"{backend:10s} median: flow {flow_rate:7.1f} updates/s, "
            f"CPU {statistics.median(f.cpu_ms_per_update for f in flows):.3f} ms/update; "
            f"bare {bare_rate:7.1f} updates/s, "
            f"CPU {statistics.median(b.cpu_ms_per_update for b in bares):.3f} ms/update; "
            f"bare/flow {bare_rate / flow_rate:4.2f}x; load average {load_before:.2f} before, "
            f"{os.getloadavg()[0]:.2f} after",
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())
