"""What the web chat is configured with; the composition root builds it from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChatOptions:
    """Limits, keys and addresses of the web chat.

    ``public_origin`` is where citizens reach the service (``https://pikir.example``);
    ``uploads_dir`` is where photos are stored, ``upload_prefix`` how a stored photo is named
    relative to the data directory (so retention can find and erase it).
    """

    secret_key: bytes
    public_origin: str
    uploads_dir: Path
    upload_prefix: str = "uploads/web"
    flood_per_second: float = 2.0
    flood_burst: int = 20
    ip_per_second: float = 20.0
    ip_burst: int = 200
    new_chats_per_minute: float = 30.0
    new_chats_burst: int = 60
    max_sockets_per_ip: int = 200
    max_frame_bytes: int = 32 * 1024
    max_photo_bytes: int = 10 * 1024 * 1024
    cookie_days: int = 180
    allowed_origins: tuple[str, ...] = ()
    embed_origins: tuple[str, ...] = ()
    history_limit: int = 200
    # Events handled at once; the rest wait their turn instead of for a database connection.
    max_concurrent_events: int = 10
    relay_interval: float = 1.0
    heartbeat_seconds: float = 30.0

    @property
    def secure_cookies(self) -> bool:
        """Cookies are ``Secure`` when the service is reached over HTTPS."""
        return self.public_origin.startswith("https://")
