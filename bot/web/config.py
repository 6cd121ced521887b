"""What the web chat is configured with: its part of the settings, as it is, and what the
composition root resolves at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.conversation import Limits
from bot.settings import WebChatSettings

# Where photos are stored, relative to the data directory (retention finds and erases them).
UPLOAD_PREFIX = "uploads/web"


@dataclass(frozen=True)
class ChatOptions:
    """Limits, keys and addresses of the web chat.

    ``webchat`` holds the limits, the cookie's lifetime and the allowed origins (their defaults
    live in :mod:`bot.settings`). ``public_origin`` is where citizens reach the service
    (``https://pikir.example``); photos are stored under ``data_dir``.
    ``max_concurrent_events`` events are handled at once (the database pool's size); the rest
    wait their turn instead of for a database connection.
    """

    secret_key: bytes
    public_origin: str
    data_dir: Path
    max_concurrent_events: int
    webchat: WebChatSettings = field(default_factory=WebChatSettings)
    max_photo_bytes: int = Limits.max_photo_bytes
    history_limit: int = 200
    relay_interval: float = 1.0
    heartbeat_seconds: float = 30.0

    @property
    def uploads_dir(self) -> Path:
        """Where photos are stored."""
        return self.data_dir / UPLOAD_PREFIX

    @property
    def upload_prefix(self) -> str:
        """How a stored photo is named relative to the data directory."""
        return UPLOAD_PREFIX

    @property
    def secure_cookies(self) -> bool:
        """Cookies are ``Secure`` when the service is reached over HTTPS."""
        return self.public_origin.startswith("https://")
