"""The chat history port: the database implementation and the core's in-memory double agree.

Every test runs on both, so the web chat's tests on the double test what the database does.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.conversation import ChatHistory, ChatHistoryStore, ChatMessage
from bot.persistence import SqlChatHistoryStore
from bot.persistence.chat_history import SqlChatHistory
from storage.database import Database
from storage.models import Channel
from storage.uow import UnitOfWork
from tests.conversation.doubles import MemoryChatHistory

CHAT = "c" * 64
OTHER = "d" * 64
BUTTONS = [[{"label": "Yes", "data": "v1|Y"}]]


@dataclass
class HistoryPort:
    """A history store, how to write in an event (committed when the block ends), and where
    a staff reply comes from (an outbox message's id)."""

    store: ChatHistoryStore
    event: Callable[[], AbstractAsyncContextManager[ChatHistory]]
    outbox_message: Callable[[str], Awaitable[int]]


@pytest.fixture(params=["memory", "database"])
def history_port(request: pytest.FixtureRequest, database: Database) -> HistoryPort:
    if request.param == "memory":
        memory = MemoryChatHistory()

        @asynccontextmanager
        async def in_memory() -> AsyncIterator[ChatHistory]:
            yield memory

        ids = itertools.count(1)

        async def next_id(chat_key: str) -> int:
            return next(ids)

        return HistoryPort(memory, in_memory, next_id)

    @asynccontextmanager
    async def in_database() -> AsyncIterator[ChatHistory]:
        async with UnitOfWork(database.sessions) as uow:
            yield SqlChatHistory(uow.web_chat)
            await uow.commit()

    async def queued(chat_key: str) -> int:
        async with UnitOfWork(database.sessions) as uow:
            message = uow.outbox.enqueue(
                channel=Channel.WEB, address=chat_key, kind="reply", text="answer"
            )
            await uow.commit()
            return message.id

    return HistoryPort(SqlChatHistoryStore(database.sessions), in_database, queued)


async def test_messages_come_back_in_order_with_their_language_and_buttons(
    history_port: HistoryPort,
) -> None:
    async with history_port.event() as history:
        ids = await history.add_messages(
            CHAT,
            [
                ChatMessage("citizen", "hello"),
                ChatMessage("bot", "Which office?", BUTTONS, expects_text=True, language="kk"),
            ],
        )
        await history.add_messages(OTHER, [ChatMessage("bot", "other", language="en")])
    assert len(ids) == 2 and ids[0] < ids[1]
    opening = await history_port.store.opening(CHAT, 10)
    assert [(m.id, m.author, m.text, m.chat_key) for m in opening.messages] == [
        (ids[0], "citizen", "hello", CHAT),
        (ids[1], "bot", "Which office?", CHAT),
    ]
    assert opening.messages[1].buttons == BUTTONS and opening.messages[1].expects_text
    citizen = opening.messages[0]
    assert (citizen.buttons, citizen.expects_text, citizen.language) == (None, False, None)
    assert opening.step is None  # no conversation was saved for this chat
    assert [m.text for m in (await history_port.store.opening(CHAT, 1)).messages] == [
        "Which office?"
    ]
    assert await history_port.store.language(CHAT) == "kk"
    assert await history_port.store.language("e" * 64) is None
    async with history_port.event() as history:
        assert await history.latest_buttons(CHAT) == BUTTONS
        assert await history.latest_buttons("e" * 64) is None


async def test_erasing_a_chat_forgets_only_its_history(history_port: HistoryPort) -> None:
    async with history_port.event() as history:
        await history.add_messages(CHAT, [ChatMessage("citizen", "a"), ChatMessage("bot", "b")])
        await history.add_messages(OTHER, [ChatMessage("citizen", "kept")])
    async with history_port.event() as history:
        assert await history.erase_history(CHAT) == 2
    assert (await history_port.store.opening(CHAT, 10)).messages == []
    assert [m.text for m in (await history_port.store.opening(OTHER, 10)).messages] == ["kept"]


async def test_a_staff_reply_is_stored_once_and_relayed_by_chat_and_time(
    history_port: HistoryPort,
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    first = await history_port.outbox_message(CHAT)
    second = await history_port.outbox_message(OTHER)
    assert await history_port.store.add_staff_reply(CHAT, "answer", "ru", first)
    assert not await history_port.store.add_staff_reply(CHAT, "answer", "ru", first)
    assert await history_port.store.add_staff_reply(OTHER, "elsewhere", None, second)
    replies = await history_port.store.staff_replies_since(before, [CHAT])
    assert [(m.author, m.text, m.language, m.chat_key) for m in replies] == [
        ("staff", "answer", "ru", CHAT)
    ]
    assert (
        await history_port.store.staff_replies_since(datetime.now(UTC) + timedelta(1), [CHAT]) == []
    )
    assert await history_port.store.staff_replies_since(before, []) == []


async def test_retention_purges_what_is_older_than_the_cutoff(history_port: HistoryPort) -> None:
    async with history_port.event() as history:
        await history.add_messages(CHAT, [ChatMessage("citizen", "old")])
    assert await history_port.store.purge_before(datetime.now(UTC) - timedelta(days=1)) == 0
    assert await history_port.store.purge_before(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert (await history_port.store.opening(CHAT, 10)).messages == []
