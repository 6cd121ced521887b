"""The ports of coordination: what the bot, the web chat and the outbox ask of it."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
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
    """The numbers every limit is built from (the same for memory and Redis)."""

    telegram_flood_per_second: float
    telegram_flood_burst: int
    web_flood_per_second: float
    web_flood_burst: int
    ip_per_second: float
    ip_burst: int
    new_chats_per_second: float
    new_chats_burst: int
    max_sockets_per_ip: int
    send_per_second: float
    send_per_chat_interval: float
    flood_cooldown: float = 10.0

    @classmethod
    def from_settings(
        cls, webchat: WebChatSettings, telegram: TelegramSettings | None = None
    ) -> LimitSettings:
        """Every limit of the web chat, the bot and the outbox from their settings (the bot's
        and the outbox's at their defaults when ``telegram`` is not given)."""
        telegram = telegram or TelegramSettings()
        return cls(
            telegram_flood_per_second=telegram.flood_per_second,
            telegram_flood_burst=telegram.flood_burst,
            web_flood_per_second=webchat.flood_per_second,
            web_flood_burst=webchat.flood_burst,
            ip_per_second=webchat.ip_per_second,
            ip_burst=webchat.ip_burst,
            new_chats_per_second=webchat.new_chats_per_minute / 60.0,
            new_chats_burst=webchat.new_chats_burst,
            max_sockets_per_ip=webchat.max_sockets_per_ip,
            send_per_second=telegram.rate_per_second,
            send_per_chat_interval=telegram.per_chat_interval,
        )
