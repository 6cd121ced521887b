"""What the staff panel needs to know about its installation, handed in by the composition root."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from vocabulary import DEFAULT_SLA_HOURS, DEFAULT_TIMEZONE


@dataclass(frozen=True)
class PanelConfig:
    """Settings of the staff panel; the composition root builds it from ``Settings``."""

    secret_key: bytes
    public_url: str = "http://127.0.0.1:8080"
    bot_username: str | None = None
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    # The lockout (admin.lockout): free failures per login and address, the first delay after
    # them (doubling), the longest delay and account-wide lock, the account-wide bar.
    login_max_failures: int = 5
    login_first_delay: timedelta = timedelta(seconds=30)
    login_lockout: timedelta = timedelta(minutes=15)
    login_max_failures_per_account: int = 50
    # Where an administrator account's lockout is reported (Telegram), if anywhere.
    staff_chat_id: str | None = None
    sla_hours: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_SLA_HOURS))
    timezone: str = DEFAULT_TIMEZONE
    # Stored photos are named relative to the data directory ("uploads/web/…"); only files
    # under its uploads/ are ever served.
    data_dir: Path = Path("var")
    page_size: int = 50
    counts_ttl: timedelta = timedelta(seconds=15)

    @property
    def secure_cookies(self) -> bool:
        """Send the session cookie over HTTPS only when the panel is served over HTTPS."""
        return self.public_url.startswith("https://")

    @property
    def uploads_dir(self) -> Path:
        """Where stored photos may be."""
        return self.data_dir / "uploads"
