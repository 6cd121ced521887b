"""The outbox's web sender: a staff reply goes into the chat's history and, live, to its pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.conversation import LANGUAGES
from bot.outbox import DeliveryRefused, OutgoingMessage
from bot.web.identity import looks_like_chat_key

# Stores a staff reply in a chat's history: (chat_key, text, language, outbox id) -> added.
StoreReply = Callable[[str, str, str | None, int], Awaitable[bool]]

FALLBACK_LANGUAGE = "ru"


class WebSender:
    """Delivers outbox rows with ``channel=web``; ``address`` is the chat's key.

    Delivery means "stored in the chat's history": an open page gets it from the live relay
    within a second, a closed one shows it on the next visit. A second delivery of the same
    row (the worker is at-least-once) adds nothing.
    """

    def __init__(
        self,
        store_reply: StoreReply,
        text: Callable[..., str],
        wake_relay: Callable[[], None],
    ) -> None:
        self._store_reply = store_reply
        self.text = text
        self._wake_relay = wake_relay

    async def send(self, message: OutgoingMessage) -> None:
        """Store the reply with a heading naming its feedback; refuse a malformed address."""
        if not looks_like_chat_key(message.address):
            raise DeliveryRefused("not a web chat address")
        payload = message.payload or {}
        language = str(payload.get("language") or FALLBACK_LANGUAGE)
        if language not in LANGUAGES:
            language = FALLBACK_LANGUAGE
        ref = payload.get("ref")
        heading = (
            self.text(language, "web.staff_reply", ref=str(ref)[:32])
            if ref
            else self.text(language, "web.staff_reply_noref")
        )
        await self._store_reply(
            message.address, f"{heading}\n\n{message.text}", language, message.id
        )
        self._wake_relay()
