"""What the scheduled jobs need, handed in by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from admin.figures.indicators import FiguresConfig
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


@dataclass(frozen=True)
class JobSchedules:
    """Crontab lines (agency time zone) and the misfire policy of the jobs."""

    aggregate: str = "*/15 * * * *"
    month_close: str = "30 0 1 * *"
    sla_reminders: str = "5 * * * *"
    weekly_digest: str = "0 9 * * mon"
    retrain: str = "0 3 * * sun"
    retention: str = "30 2 * * *"
    purge: str = "15 */6 * * *"
    misfire_grace_seconds: int = 3600
    month_close_misfire_grace_seconds: int = 3 * 24 * 3600
    coalesce: bool = True
    lease: timedelta = timedelta(hours=1)


@dataclass
class JobDeps:
    """Everything the jobs use; ``clock`` is injectable so tests control time."""

    database: Database
    figures: FiguresConfig
    data_dir: Path
    schedules: JobSchedules = field(default_factory=JobSchedules)
    staff_chat_id: str | None = None
    # The language of the staff chat's texts (reminders, digest): one of the panel's.
    staff_language: str = "ru"
    panel_url: str = "http://127.0.0.1:8080/admin"
    retention_days: int = 365
    refresh_overlap: timedelta = timedelta(minutes=10)
    report_language: str = "ru"
    retrainer: Retrainer | None = None
    # Told of each run this process made (job id, outcome): the metrics.
    on_run: Callable[[str, str], None] | None = None
    clock: Callable[[], datetime] = utcnow

    def local_time(self, now: datetime) -> datetime:
        """``now`` in the agency's time zone (months, weeks and days of run keys)."""
        return now.astimezone(ZoneInfo(self.figures.timezone))

    @property
    def reports_dir(self) -> Path:
        """Where the monthly packs are kept."""
        return self.data_dir / "reports"
