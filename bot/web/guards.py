"""Who may talk to the chat, and how fast: origin check, client address, rate limits."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

from aiohttp import web

from bot.conversation import FloodGuard, TokenBuckets, Verdict
from bot.web.config import ChatOptions


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower case."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_allowed(request: web.Request, options: ChatOptions) -> bool:
    """Whether the request comes from a page of ours (a browser always sends ``Origin``).

    Allowed: the public URL's origin, the configured extra origins, and the origin the request
    itself was addressed to (same host), which is what a page served by this process has.
    """
    origin = request.headers.get("Origin", "").strip().lower()
    if not origin or origin == "null":
        return False
    allowed = {origin_of(options.public_origin), *(o.lower() for o in options.allowed_origins)}
    if origin in allowed:
        return True
    return urlsplit(origin).netloc == request.host.lower()


def client_address(request: web.Request) -> str:
    """The client's address (behind a trusted proxy, the service's middleware has set it)."""
    return request.remote or "unknown"


class RateGuards:
    """The per-conversation and per-address limits, one instance per process."""

    def __init__(self, options: ChatOptions) -> None:
        self.chats = FloodGuard(options.flood_per_second, options.flood_burst)
        self.addresses = TokenBuckets(options.ip_per_second, options.ip_burst)
        self.new_chats = TokenBuckets(options.new_chats_per_minute / 60.0, options.new_chats_burst)
        self._max_sockets = options.max_sockets_per_ip
        self._sockets: Counter[str] = Counter()

    def event(self, chat_key: str, address: str) -> Verdict:
        """Whether one more event from this chat and address may go on."""
        verdict = self.chats.check(chat_key)
        if verdict is not Verdict.ALLOW:
            return verdict
        return Verdict.ALLOW if self.addresses.take(address) else Verdict.NOTICE

    def new_chat(self, address: str) -> bool:
        """Whether this address may start one more conversation now."""
        return self.new_chats.take(address)

    def open_socket(self, address: str) -> bool:
        """Count a socket of this address; False (and not counted) when it has too many."""
        if self._sockets[address] >= self._max_sockets:
            return False
        self._sockets[address] += 1
        return True

    def close_socket(self, address: str) -> None:
        """Uncount a socket opened with :meth:`open_socket`."""
        self._sockets[address] -= 1
        if self._sockets[address] <= 0:
            del self._sockets[address]
