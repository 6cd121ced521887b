"""The web chat on a real database behind aiohttp's test server, driven like a browser would.

Each test server mounts the chat sub-app at ``/chat`` exactly as the composition root does; a
:class:`Browser` is one browser — an aiohttp test client with its own cookie jar — talking HTTP
and WebSocket to it over loopback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from ssl import SSLContext
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from bot.conversation import ConversationService, TagResult, Translator
from bot.persistence import SqlChatHistoryStore, SqlUnits
from bot.persistence.conversation_store import StoreConfig
from bot.web.app import build_runtime, create_chat_app
from bot.web.config import ChatOptions
from bot.web.runtime import ChatRuntime
from storage.database import Database

SECRET = b"webchat-test-secret"


class KeywordTagger:
    """Stands in for the classifier (trained elsewhere): bribes are corruption."""

    def tag(self, text: str) -> TagResult | None:
        corrupt = any(word in text.lower() for word in ("bribe", "взятк", "пара"))
        scores = {"corruption": 0.9 if corrupt else 0.05, "delay": 0.1}
        labels = frozenset(tag for tag, score in scores.items() if score >= 0.5)
        return TagResult(scores, labels, "test-keywords")


@pytest.fixture(scope="session")
def translator() -> Translator:
    """The real kk/ru/en catalogs."""
    return Translator.load()


def chat_service(
    database: Database, translator: Translator, data_dir: Path | None = None
) -> ConversationService:
    """The conversation core on ``database``, as the composition root builds it (photos are
    stored under ``data_dir``)."""
    store = StoreConfig(secret_key=SECRET, data_dir=data_dir)
    return ConversationService(
        SqlUnits(database.sessions, store), translator, KeywordTagger(), case_url="/admin/cases"
    )


@dataclasses.dataclass
class ChatServer:
    """A running web chat (aiohttp's TestServer): its parts, and browsers as test clients."""

    test_server: TestServer
    runtime: ChatRuntime
    database: Database
    options: ChatOptions
    translator: Translator
    clients: list[TestClient[web.Request, web.Application]]

    @property
    def url(self) -> URL:
        return self.test_server.make_url("")

    @property
    def origin(self) -> str:
        return f"{self.url.scheme}://{self.url.host}:{self.url.port}"

    def browser(self, accept_language: str = "en") -> Browser:
        """A new browser: an aiohttp test client with its own, empty cookie jar."""
        client: TestClient[web.Request, web.Application] = TestClient(
            self.test_server,
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            headers={"Accept-Language": accept_language},
        )
        self.clients.append(client)
        return Browser(client.session, self.url, self.origin)

    def t(self, language: str, message_id: str, **params: object) -> str:
        return self.translator.text(language, message_id, **params)


StartChat = Callable[..., Awaitable[ChatServer]]


@pytest.fixture
async def start_chat(
    database: Database, translator: Translator, tmp_path: Path
) -> AsyncIterator[StartChat]:
    """Start a chat server on the test database; keyword arguments override its options
    (``webchat=WebChatSettings(...)`` its limits and origins; ``ssl`` serves it over HTTPS)."""
    servers: list[ChatServer] = []

    async def start(*, ssl: SSLContext | None = None, **overrides: Any) -> ChatServer:
        defaults: dict[str, Any] = {
            "public_origin": "http://pikir.example",
            "data_dir": tmp_path,
            "max_concurrent_events": 10,
            "relay_interval": 0.1,
        }
        options = ChatOptions(secret_key=SECRET, **(defaults | overrides))
        runtime = build_runtime(
            chat_service(database, translator, tmp_path),
            SqlChatHistoryStore(database.sessions),
            options,
        )
        root = web.Application()
        root.add_subapp("/chat", create_chat_app(runtime))
        test_server = TestServer(root, host="127.0.0.1")
        await test_server.start_server(ssl=ssl)
        server = ChatServer(test_server, runtime, database, options, translator, [])
        servers.append(server)
        return server

    yield start
    for server in servers:
        for client in server.clients:
            await client.session.close()
        await server.test_server.close()


class Browser:
    """One browser: loads the page (getting its cookie) and talks over one WebSocket."""

    def __init__(self, session: aiohttp.ClientSession, base: URL, origin: str) -> None:
        self.session = session
        self.base = base
        self.origin = origin
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.messages: list[dict[str, Any]] = []

    async def load(self, query: str = "") -> aiohttp.ClientResponse:
        """GET the chat page (``query`` like ``?office=AST-01``)."""
        async with self.session.get(self.base.join(URL(f"/chat{query}"))) as response:
            await response.read()
            return response

    async def connect(self, origin: str | None = None) -> aiohttp.ClientWebSocketResponse:
        """Open the page's WebSocket with this page's (or another) Origin."""
        self.socket = await self.session.ws_connect(
            self.base.join(URL("/chat/ws")), origin=origin or self.origin
        )
        return self.socket

    async def send(self, frame: dict[str, Any]) -> None:
        """Send a frame as a browser's ``JSON.stringify`` would (UTF-8, not escaped)."""
        assert self.socket is not None
        await self.socket.send_str(json.dumps(frame, ensure_ascii=False))

    async def frame(self, wait: float = 10.0) -> dict[str, Any]:
        """The next frame from the server."""
        assert self.socket is not None
        message = await self.socket.receive(timeout=wait)
        assert message.type is aiohttp.WSMsgType.TEXT, (message.type, message.data)
        frame: dict[str, Any] = message.json()
        if frame.get("type") in ("history", "messages"):
            if frame.get("reset") or frame["type"] == "history":
                self.messages = []
            self.messages.extend(frame["messages"])
        return frame

    async def until(self, kind: str, wait: float = 10.0) -> dict[str, Any]:
        """Frames until one of ``kind`` arrives; that one."""
        while True:
            frame = await self.frame(wait)
            if frame["type"] == kind:
                return frame

    async def answered(self, count: int, wait: float = 30.0) -> list[dict[str, Any]]:
        """Frames until ``count`` of the texts this page sent were answered (an error frame
        answers one too); the error frames among them."""
        errors = []
        done = 0
        while done < count:
            frame = await self.frame(wait)
            if frame["type"] == "error":
                errors.append(frame)
                done += 1
            elif frame["type"] == "messages":
                done += sum(1 for m in frame["messages"] if m["from"] == "citizen")
        return errors

    async def open(
        self, office: str | None = None, lang: str | None = None, *, expect_start: bool = True
    ) -> dict[str, Any]:
        """Load the page, connect and send ``open``; the history frame.

        With ``expect_start`` it also waits for the conversation's first question.
        """
        await self.load(f"?office={office}" if office else "")
        await self.connect()
        await self.send({"type": "open", "office": office, "lang": lang})
        history = await self.until("history")
        if expect_start:
            await self.until("messages")
        return history

    @property
    def question(self) -> dict[str, Any]:
        """The latest message from the conversation."""
        return next(m for m in reversed(self.messages) if m["from"] == "bot")

    def labels(self) -> list[str]:
        return [b["label"] for row in self.question["buttons"] for b in row]

    def data_of(self, label: str) -> str:
        for row in self.question["buttons"]:
            for button in row:
                if button["label"] == label:
                    return str(button["data"])
        raise AssertionError(f"no button {label!r} in {self.labels()}")

    async def press(self, label: str) -> dict[str, Any]:
        await self.send({"type": "press", "data": self.data_of(label)})
        return await self.until("messages")

    async def press_earlier(self, label: str) -> dict[str, Any]:
        """Press a button on any message shown, the latest that has it (not only the question)."""
        for message in reversed(self.messages):
            for row in message.get("buttons") or ():
                for button in row:
                    if button["label"] == label:
                        await self.send({"type": "press", "data": button["data"]})
                        return await self.until("messages")
        raise AssertionError(f"no button {label!r} on any message")

    async def press_nth(self, index: int) -> dict[str, Any]:
        data = [b["data"] for row in self.question["buttons"] for b in row][index]
        await self.send({"type": "press", "data": data})
        return await self.until("messages")

    async def say(self, text: str) -> dict[str, Any]:
        await self.send({"type": "text", "text": text})
        return await self.until("messages")

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
            self.socket = None

    def cookie(self) -> str | None:
        for cookie in self.session.cookie_jar:
            if cookie.key == "pikir_chat":
                return cookie.value
        return None


async def wait_for(predicate: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    """Poll ``predicate`` until it holds."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
