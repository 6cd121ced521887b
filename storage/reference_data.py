"""The reference data shipped in ``storage/reference/`` and the agency's CSV imports.

Rows are checked one by one: a bad row is reported with its line number and skipped, good rows
are written in the caller's unit of work, so an import is all-good-rows-or-nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator

from storage.uow import UnitOfWork

REFERENCE_DIR = Path(__file__).with_name("reference")
MAX_CSV_BYTES = 5 * 1024 * 1024
_TRUE = {"true", "1", "yes", "y", "да", "иә"}
_FALSE = {"false", "0", "no", "n", "нет", "жоқ"}


class _Names(BaseModel):
    name_kk: str = Field(min_length=1, max_length=300)
    name_ru: str = Field(min_length=1, max_length=300)
    name_en: str = Field(min_length=1, max_length=300)


class RegionRow(_Names):
    """A row of ``regions.csv``."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")


class CategoryRow(_Names):
    """A row of ``categories.csv``."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")


class OfficeRow(_Names):
    """A row of an offices CSV."""

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")
    region: str = Field(min_length=1, max_length=32)
    address: str = Field(default="", max_length=500)
    active: bool = True

    @field_validator("active", mode="before")
    @classmethod
    def _flag(cls, value: object) -> bool:
        return _parse_flag(value)

    def columns(self) -> dict[str, object]:
        """The office's columns (all but its code) as the ``offices`` table names them."""
        return self.model_dump(exclude={"code", "region"}) | {"region_code": self.region}


class ServiceRow(BaseModel):
    """A row of a services CSV."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    category: str = Field(min_length=1, max_length=32)
    name_kk: str = Field(min_length=1, max_length=500)
    name_ru: str = Field(min_length=1, max_length=500)
    name_en: str = Field(min_length=1, max_length=500)
    has_standard: bool = True

    @field_validator("has_standard", mode="before")
    @classmethod
    def _flag(cls, value: object) -> bool:
        return _parse_flag(value)

    def columns(self) -> dict[str, object]:
        """The service's columns (all but its code) as the ``services`` table names them."""
        return self.model_dump(exclude={"code", "category"}) | {"category_code": self.category}


def _parse_flag(value: object) -> bool:
    return parse_optional_flag(value) or False  # an empty cell is "no"


def parse_optional_flag(value: object) -> bool | None:
    """A CSV cell's yes/no in Kazakh, Russian or English; None for an empty cell."""
    text = str(value if value is not None else "").strip().lower()
    if text == "":
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected true, false or empty, got {value!r}")


@dataclass
class ImportReport:
    """What an import did: rows added and updated, and the rejected lines with reasons."""

    added: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no line was rejected."""
        return not self.errors


class CsvFormatError(ValueError):
    """The file as a whole is not a usable CSV (wrong header, too big, not UTF-8)."""


def read_csv_rows(data: bytes, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """Parse CSV bytes into (line number, row) pairs after checking size, encoding and header."""
    if len(data) > MAX_CSV_BYTES:
        raise CsvFormatError(f"file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFormatError(f"file is not UTF-8 (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    if missing:
        raise CsvFormatError(f"line 1: missing column(s): {', '.join(missing)}")
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        cleaned = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if any(cleaned.values()):
            rows.append((reader.line_num, cleaned))
    return rows


def describe_errors(exc: ValidationError) -> str:
    """A CSV line's validation errors in one line: ``field: message; …``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


async def import_offices(
    uow: UnitOfWork, data: bytes, *, update_existing: bool = True
) -> ImportReport:
    """Insert or update offices from CSV bytes (columns of ``offices.csv``).

    With ``update_existing=False`` offices already known are left as they are.
    """
    report = ImportReport()
    rows = read_csv_rows(data, OfficeRow.model_fields)
    known_regions = {r.code for r in await uow.reference.regions()}
    # One query for all known offices instead of one per line (imports run at every start).
    existing = {o.code.upper(): o for o in await uow.reference.offices(active_only=False)}
    seen: set[str] = set()
    for line, raw in rows:
        try:
            row = OfficeRow.model_validate(raw)
        except ValidationError as exc:
            report.errors.append(f"line {line}: {describe_errors(exc)}")
            continue
        if row.region not in known_regions:
            report.errors.append(f"line {line}: unknown region {row.region!r}")
            continue
        if row.code.upper() in seen:
            report.errors.append(f"line {line}: office {row.code} appears twice")
            continue
        seen.add(row.code.upper())
        current = existing.get(row.code.upper())
        if current is not None and not update_existing:
            continue
        if uow.reference.put_office(current, row.code.upper(), row.columns()):
            report.added += 1
        else:
            report.updated += 1
    return report


async def import_services(
    uow: UnitOfWork, data: bytes, *, update_existing: bool = True
) -> ImportReport:
    """Insert or update services from CSV bytes (columns of ``services.csv``).

    With ``update_existing=False`` services already known are left as they are.
    """
    report = ImportReport()
    rows = read_csv_rows(data, ServiceRow.model_fields)
    known = {c.code for c in await uow.reference.categories()}
    existing = {s.code: s for s in await uow.reference.services(active_only=False)}
    seen: set[str] = set()
    for line, raw in rows:
        try:
            row = ServiceRow.model_validate(raw)
        except ValidationError as exc:
            report.errors.append(f"line {line}: {describe_errors(exc)}")
            continue
        if row.category not in known:
            report.errors.append(f"line {line}: unknown category {row.category!r}")
            continue
        if row.code in seen:
            report.errors.append(f"line {line}: service {row.code} appears twice")
            continue
        seen.add(row.code)
        current = existing.get(row.code)
        if current is not None and not update_existing:
            continue
        if uow.reference.put_service(current, row.code, row.columns()):
            report.added += 1
        else:
            report.updated += 1
    return report


async def load_reference_data(uow: UnitOfWork, directory: Path = REFERENCE_DIR) -> ImportReport:
    """Load the shipped regions, categories, offices and services; safe to run on every start.

    The shipped files must be clean: any rejected row raises, because it is a bug in the repo.
    Offices and services already in the database are not touched: administrators edit them in
    the panel, and a restart must not undo that.
    """
    for path, model in (
        (directory / "regions.csv", RegionRow),
        (directory / "categories.csv", CategoryRow),
    ):
        for _line, raw in read_csv_rows(path.read_bytes(), model.model_fields):
            row = model.model_validate(raw)
            names = row.model_dump(exclude={"code"})
            if model is RegionRow:
                await uow.reference.upsert_region(row.code, names)
            else:
                await uow.reference.upsert_category(row.code, names)
        await uow.session.flush()
    total = ImportReport()
    for path, importer in (
        (directory / "offices.csv", import_offices),
        (directory / "services.csv", import_services),
    ):
        report = await importer(uow, path.read_bytes(), update_existing=False)
        if report.errors:
            raise CsvFormatError(f"{path.name}: " + "; ".join(report.errors[:5]))
        total.added += report.added
        total.updated += report.updated
    return total
