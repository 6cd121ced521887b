"""The ports of coordination: what the bot, the web chat and the outbox ask of it."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from bot.conversation import Verdict
from bot.outbox.ports import SendSlots
from bot.settings import TelegramSettings, WebChatSettings


class ChatLocks(Protocol):
    """One holder at a time per chat, across every worker sharing the backend."""

    def hold(self, chat: str, order: int | None = None) -> AbstractAsyncContextManager[None]:
        """Hold ``chat`` for the block; holders with a lower ``order`` (a Telegram update id)
        that arrive within the ordering window go first."""
        ...


class FloodLimiter(Protocol):
    """A per-chat flood guard: allow, one notice, then silence until quiet."""

    async def check(self, chat: str) -> Verdict:
        """Take one token for ``chat``; whether the event may go on."""
        ...


class KeyedBuckets(Protocol):
    """A plain token bucket per key (client addresses, new chats per address)."""

    async def take(self, key: str) -> bool:
        """Take one token for ``key``; False when there is none left."""
        ...


class SocketCounter(Protocol):
    """Open sockets per client address, with a ceiling."""

    async def open(self, address: str) -> bool:
        """Count a socket of ``address``; False (and not counted) when it has too many."""
        ...

    async def close(self, address: str) -> None:
        """Uncount a socket counted by :meth:`open`."""
        ...


@dataclass(frozen=True)
class Coordination:
    """Everything a process builds its locks and limits from: memory or one Redis."""

    name: str  # "memory" or "redis", for logs and metrics
    chat_locks: ChatLocks
    web_locks: ChatLocks
    telegram_flood: FloodLimiter
    web_flood: FloodLimiter
    web_addresses: KeyedBuckets
    web_new_chats: KeyedBuckets
    web_sockets: SocketCounter
    send_slots: SendSlots


@dataclass(frozen=True)
class LimitSettings:
    """The settings every limit is built from (the same for memory and Redis): the web chat's,
    and the bot's flood control and the outbox's send rates (:class:`TelegramSettings`, at their
    defaults where only the web chat runs)."""

    webchat: WebChatSettings
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    flood_cooldown: float = 10.0

    @property
    def new_chats_per_second(self) -> float:
        """New web chats a client address may open per second."""
        return self.webchat.new_chats_per_minute / 60.0
