"""Who may talk to the chat, and how fast: origin check, client address, rate limits."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from bot.conversation import Verdict
from bot.coordination import FloodLimiter, KeyedBuckets, SocketCounter
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
    allowed = {
        origin_of(options.public_origin),
        *(o.lower() for o in options.webchat.allowed_origins),
    }
    if origin in allowed:
        return True
    return urlsplit(origin).netloc == request.host.lower()


def client_address(request: web.Request) -> str:
    """The client's address (behind a trusted proxy, the service's middleware has set it)."""
    return request.remote or "unknown"


class RateGuards:
    """The per-conversation and per-address limits (this process's, or shared in Redis)."""

    def __init__(
        self,
        chats: FloodLimiter,
        addresses: KeyedBuckets,
        new_chats: KeyedBuckets,
        sockets: SocketCounter,
    ) -> None:
        self.chats = chats
        self.addresses = addresses
        self.new_chats = new_chats
        self._sockets = sockets

    async def event(self, chat_key: str, address: str) -> Verdict:
        """Whether one more event from this chat and address may go on."""
        verdict = await self.chats.check(chat_key)
        if verdict is not Verdict.ALLOW:
            return verdict
        return Verdict.ALLOW if await self.addresses.take(address) else Verdict.NOTICE

    async def new_chat(self, address: str) -> bool:
        """Whether this address may start one more conversation now."""
        return await self.new_chats.take(address)

    async def open_socket(self, address: str) -> bool:
        """Count a socket of this address; False (and not counted) when it has too many."""
        return await self._sockets.open(address)

    async def close_socket(self, address: str) -> None:
        """Uncount a socket opened with :meth:`open_socket`."""
        await self._sockets.close(address)
