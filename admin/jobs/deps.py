"""What the scheduled jobs need, handed in by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from admin.figures.indicators import FiguresConfig
from bot.settings import (
    HttpSettings,
    ReportSettings,
    RetentionSettings,
    SchedulerSettings,
    TelegramSettings,
)
from storage.database import Database
from storage.types import utcnow


@dataclass(frozen=True)
class CorrectedExample:
    """A staff-corrected feedback as a training example for the tagger."""

    id: str
    lang: str
    text: str
    labels: tuple[str, ...]


class Retrainer(Protocol):
    """The classifier's port: train a candidate from extra examples; returns what it decided."""

    def __call__(self, extra: Sequence[CorrectedExample], now: datetime) -> str: ...


@dataclass
class JobDeps:
    """Everything the jobs use; ``clock`` is injectable so tests control time."""

    database: Database
    data_dir: Path
    # The crontab lines (agency time zone), the misfire policy and the lease of a run.
    schedules: SchedulerSettings = field(default_factory=SchedulerSettings)
    # The staff chat and the language of its texts (reminders, digest).
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    # The public URL, to link the panel from the staff chat.
    http: HttpSettings = field(default_factory=HttpSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    # The figures' suppression, time zone and indicators, and the incremental refresh's overlap.
    reports: ReportSettings = field(default_factory=ReportSettings)
    # The language of the monthly pack: the agency's working language, not a setting.
    report_language: str = "ru"
    retrainer: Retrainer | None = None
    # Told of each run this process made (job id, outcome): the metrics.
    on_run: Callable[[str, str], None] | None = None
    clock: Callable[[], datetime] = utcnow

    @property
    def figures(self) -> FiguresConfig:
        """The figures' part of the report settings."""
        return FiguresConfig(self.reports)

    def local_time(self, now: datetime) -> datetime:
        """``now`` in the agency's time zone (months, weeks and days of run keys)."""
        return now.astimezone(ZoneInfo(self.figures.timezone))

    @property
    def panel_url(self) -> str:
        """The staff panel's address, for links in the staff chat."""
        return self.http.public_url.rstrip("/") + "/admin"

    @property
    def reports_dir(self) -> Path:
        """Where the monthly packs are kept."""
        return self.data_dir / "reports"
