"""The real aiogram Dispatcher fed in process, with a recording session at the transport.

The pattern of aiogram's own tests (``tests/mocked_bot.py``): a ``BaseSession`` subclass takes
the place of HTTP, records every Bot API request and answers it with a canned response, so an
update goes through the real middlewares, router, handlers and conversation core in
milliseconds, and a test reads exactly which requests the bot made.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from admin.staff_texts import StaffTexts
from bot.conversation import ConversationService, FloodGuard, Translator
from bot.persistence import SqlUnits
from bot.persistence.conversation_store import StoreConfig
from bot.settings import TelegramSettings
from bot.telegram.runtime import build_dispatcher
from storage.database import Database

TOKEN = "42:TEST"


class RecordingSession(BaseSession):
    """Records each request; answers from a queue of canned failures, else with success."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self._failures: deque[tuple[type[TelegramMethod[Any]], int, str]] = deque()
        self._message_ids = itertools.count(1000)
        # Set to hold every sendMessage until released (to see what runs meanwhile).
        self.hold_sends: asyncio.Event | None = None
        self._sent = asyncio.Event()

    def fail_next(self, method: type[TelegramMethod[Any]], status: int, description: str) -> None:
        """The next request of type ``method`` gets this Bot API error."""
        self._failures.append((method, status, description))

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        self.requests.append(method)
        if isinstance(method, SendMessage):
            self._sent.set()
            if self.hold_sends is not None:
                await self.hold_sends.wait()
        for failure in list(self._failures):
            if isinstance(method, failure[0]):
                self._failures.remove(failure)
                content = self.json_dumps(
                    {"ok": False, "error_code": failure[1], "description": failure[2]}
                )
                self.check_response(bot, method, failure[1], content)
        return self._success(bot, method)

    def _success(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, SendMessage):
            result: Any = {
                "message_id": next(self._message_ids),
                "date": int(datetime.now(UTC).timestamp()),
                "chat": {"id": int(method.chat_id), "type": "private"},
                "text": method.text,
            }
        else:
            result = True
        content = self.json_dumps({"ok": True, "result": result})
        return self.check_response(bot, method, 200, content).result

    async def close(self) -> None:
        pass

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 (aiogram's signature)
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def wait_for_sends(self, count: int) -> None:
        """Until ``count`` sendMessage requests have been made (held or not)."""
        while len(self.of(SendMessage)) < count:
            self._sent.clear()
            await self._sent.wait()

    def of(self, method: type[TelegramMethod[Any]]) -> list[Any]:
        """The requests of one type, in order."""
        return [request for request in self.requests if isinstance(request, method)]


_ids = itertools.count(1)


class TelegramChat:
    """One citizen's private chat: builds updates and feeds them to the dispatcher."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, chat_id: int = 500) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.chat = Chat(id=chat_id, type="private")
        self.user = User(id=chat_id, is_bot=False, first_name="Citizen", language_code="en")

    def message(self, text: str) -> Update:
        return Update(
            update_id=next(_ids),
            message=Message(
                message_id=next(_ids),
                date=datetime.now(UTC),
                chat=self.chat,
                from_user=self.user,
                text=text,
            ),
        )

    def press(self, data: str, message_id: int) -> Update:
        shown = Message(
            message_id=message_id, date=datetime.now(UTC), chat=self.chat, text="(question)"
        )
        return Update(
            update_id=next(_ids),
            callback_query=CallbackQuery(
                id=str(next(_ids)),
                from_user=self.user,
                chat_instance="instance",
                message=shown,
                data=data,
            ),
        )

    async def send(self, text: str) -> None:
        await self.dispatcher.feed_update(self.bot, self.message(text))

    async def tap(self, data: str, message_id: int) -> None:
        await self.dispatcher.feed_update(self.bot, self.press(data, message_id))


def button_data(request: SendMessage | EditMessageText, label: str) -> str:
    """The callback data of the button labelled ``label`` on a sent or edited message."""
    markup = request.reply_markup
    assert markup is not None, "the message has no buttons"
    for row in markup.inline_keyboard:  # type: ignore[union-attr]
        for button in row:
            if button.text == label:
                return str(button.callback_data)
    raise AssertionError(f"no button {label!r}")


@pytest.fixture
def session() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def bot(session: RecordingSession) -> Bot:
    return Bot(TOKEN, session=session)


def make_dispatcher(database: Database, guard: FloodGuard | None = None) -> Dispatcher:
    """The dispatcher as the service builds it, on the test database."""
    store = StoreConfig(
        secret_key=b"test-secret", telegram=TelegramSettings(staff_chat_id="-100700")
    )
    service = ConversationService(
        SqlUnits(database.sessions, store), Translator.load(), staff_texts=StaffTexts()
    )
    return build_dispatcher(service, guard or FloodGuard(rate=1000.0, burst=1000))


@pytest.fixture
def dispatcher(database: Database) -> Dispatcher:
    return make_dispatcher(database)
