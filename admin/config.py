"""What the staff panel needs to know about its installation, handed in by the composition root.

The panel takes its parts of the settings as they are (:mod:`bot.settings`, where every default
lives) rather than copies of their fields; only the secret key, resolved at start-up, and the
panel's own constants are added here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel

from bot.settings import (
    HttpSettings,
    ReportSettings,
    SecuritySettings,
    SlaSettings,
    TelegramSettings,
    sla_hours,
)


@dataclass(frozen=True)
class PanelConfig:
    """Settings of the staff panel; the composition root builds it from ``Settings``."""

    secret_key: bytes
    # Stored photos are named relative to the data directory ("uploads/web/…"); only files
    # under its uploads/ are ever served.
    data_dir: Path
    # The public URL (office links, secure cookies).
    http: HttpSettings = field(default_factory=HttpSettings)
    # The bot's username (office links) and the staff chat, where an administrator account's
    # lockout is reported.
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    # Session lengths and the lockout (admin.lockout).
    security: SecuritySettings = field(default_factory=SecuritySettings)
    # The agency's time zone.
    reports: ReportSettings = field(default_factory=ReportSettings)
    sla: BaseModel = field(default_factory=SlaSettings)
    # The panel's own constants, not settings: rows per queue page, how long counts are kept.
    page_size: int = 50
    counts_ttl: timedelta = timedelta(seconds=15)

    @property
    def sla_hours(self) -> Mapping[str, int]:
        """Hours until a case is overdue, by tag (and ``low_rating``)."""
        return sla_hours(self.sla)

    @property
    def secure_cookies(self) -> bool:
        """Send the session cookie over HTTPS only when the panel is served over HTTPS."""
        return self.http.public_url.startswith("https://")

    @property
    def uploads_dir(self) -> Path:
        """Where stored photos may be."""
        return self.data_dir / "uploads"
