"""Loading the agency's past survey results so earlier figures sit in the same monthly series.

Columns: ``source_id,office,service,date,rating`` and optionally the criteria (``politeness``,
``waiting``, ``information``, ``result``, ``no_extra_payment`` as true/false/empty),
``language`` (kk/ru/en, default ru) and ``text``. A row whose ``source_id`` was imported before
is skipped, so importing the same file twice adds nothing. Historic rows open no cases: they
are figures, not work for today's staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError, field_validator

from storage.intake import FeedbackDraft, build_feedback
from storage.models import CRITERIA, Channel, Language
from storage.reference_data import (
    CsvFormatError,
    describe_errors,
    parse_optional_flag,
    read_csv_rows,
)
from storage.types import utcnow
from storage.uow import UnitOfWork

MAX_TEXT = 4000
REQUIRED = ("source_id", "office", "service", "date", "rating")

__all__ = ["CsvFormatError", "HistoricReport", "import_feedback"]


class HistoricRow(BaseModel):
    """One past survey answer."""

    source_id: str = Field(min_length=1, max_length=120)
    office: str = Field(min_length=1, max_length=32)
    service: str = Field(default="", max_length=64)
    date: date
    rating: int = Field(ge=1, le=5)
    language: Language = Language.RU
    text: str = Field(default="", max_length=MAX_TEXT)
    politeness: bool | None = None
    waiting: bool | None = None
    information: bool | None = None
    result: bool | None = None
    no_extra_payment: bool | None = None

    @field_validator(*CRITERIA, mode="before")
    @classmethod
    def _criterion(cls, value: object) -> bool | None:
        return parse_optional_flag(value)

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: object) -> object:
        return value or Language.RU


@dataclass
class HistoricReport:
    """What an import did."""

    added: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    months: set[str] = field(default_factory=set)


async def import_feedback(uow: UnitOfWork, data: bytes, *, timezone: str) -> HistoricReport:
    """Add the good rows of a historic CSV to the caller's unit of work; report the bad ones.

    Raises :class:`CsvFormatError` when the file as a whole is unusable.
    """
    report = HistoricReport()
    rows = read_csv_rows(data, REQUIRED)
    offices = {o.code.upper(): o for o in await uow.reference.offices(active_only=False)}
    services = {s.code: s for s in await uow.reference.services(active_only=False)}
    known = await _known_source_ids(uow, [raw.get("source_id", "") for _, raw in rows])
    zone = ZoneInfo(timezone)
    seen: set[str] = set()
    for line, raw in rows:
        try:
            row = HistoricRow.model_validate(raw)
        except ValidationError as exc:
            report.errors.append(f"line {line}: {describe_errors(exc)}")
            continue
        office = offices.get(row.office.upper())
        if office is None:
            report.errors.append(f"line {line}: unknown office {row.office!r}")
            continue
        service = services.get(row.service) if row.service else None
        if row.service and service is None:
            report.errors.append(f"line {line}: unknown service {row.service!r}")
            continue
        source_id = f"import:{row.source_id}"
        if source_id in known:
            report.skipped += 1
            continue
        if source_id in seen:
            report.errors.append(f"line {line}: source_id {row.source_id} appears twice")
            continue
        seen.add(source_id)
        # Noon local time: the visit's day, whatever the time zone.
        moment = datetime.combine(row.date, time(12), tzinfo=zone)
        feedback = build_feedback(
            FeedbackDraft(
                channel=Channel.IMPORT,
                language=row.language,
                office_id=office.id,
                region_code=office.region_code,
                service_id=service.id if service else None,
                rating=row.rating,
                criteria={name: getattr(row, name) for name in CRITERIA},
                text=row.text or None,
                source_id=source_id,
                created_at=moment,
                opens_case=False,
            ),
            None,
            timezone=timezone,
        )
        # Stamped now, not at the visit, so the incremental aggregate refresh sees the row.
        feedback.updated_at = utcnow()
        uow.feedback.add(feedback)
        report.added += 1
        report.months.add(feedback.month)
    return report


async def _known_source_ids(uow: UnitOfWork, raw_ids: list[str]) -> set[str]:
    wanted = [f"import:{value.strip()}" for value in raw_ids if value.strip()]
    return await uow.feedback.known_source_ids(wanted)
