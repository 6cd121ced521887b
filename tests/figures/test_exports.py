"""Exports: JSON/CSV records and the XLSX read back with openpyxl match the report's numbers."""

from __future__ import annotations

import csv
import io
import json
import random

import openpyxl
import pytest

from admin.figures.exports import render
from admin.figures.indicators import FiguresConfig, default_indicators
from admin.figures.labels import label
from admin.figures.report import build_report, reference_names
from admin.figures.service import refresh
from storage.database import Database
from storage.uow import UnitOfWork
from tests.figures.factory import insert_specs, random_spec

CONFIG = FiguresConfig(min_cell=10, indicators=default_indicators(ethics_targets={2026: 0.78}))


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
    assert sum(r["responses"] for r in offices) == 260  # suppressed cells still count
    small = [r for r in offices if r["responses"] == 6]
    assert small and small[0]["suppressed"] is True and small[0]["csat"] is None
    assert all(set(r) >= {"region", "office", "tag_corruption"} for r in offices)

    rows = list(csv.DictReader(io.StringIO(render(report, "csv").decode())))
    assert len(rows) == len(records)
    assert float(rows[0]["csat"]) == pytest.approx(country.csat.value)

    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", "ru", names)))
    assert book.sheetnames == ["Страна", "Регион", "ЦОН", "Услуга", "Индикаторы"]
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
    assert sum(r[label("responses", "ru")] for r in office_rows) == 260
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
    assert records[0]["responses"] == 0 and records[0]["suppressed"] is True
    openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))


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
