"""Exports of a report: CSV and JSON (one record per roll-up cell) and the XLSX workbook
(a sheet per level and a sheet of indicators against their targets, headers in a language)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from admin.figures.labels import label
from admin.figures.report import LEVELS, Report, export_record
from storage.feedback_export import to_csv
from storage.spreadsheet import spreadsheet_text

FORMATS = ("csv", "xlsx", "json")
# What the workbook's last sheet explains: the two bases and the suppression mark.
NOTES = ("note_responses", "note_csat", "note_suppressed")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def records(report: Report) -> list[dict[str, Any]]:
    """Every roll-up cell of the report, country first, as flat export records."""
    return [
        export_record(row, report.config.indicators)
        for level in LEVELS
        for row in report.rows(level)
    ]


def columns(all_records: list[dict[str, Any]]) -> list[str]:
    """The union of the records' keys in first-seen order."""
    seen: dict[str, None] = {}
    for record in all_records:
        seen.update(dict.fromkeys(record))
    return list(seen)


def indicator_records(report: Report) -> list[dict[str, Any]]:
    """The indicators of the period against their baselines and targets."""
    out = []
    for result in report.indicators:
        hidden = result.status == "no_data"
        out.append(
            {
                "indicator": result.spec.key,
                "period": f"{report.months[0]}..{report.months[-1]}",
                "value": None if hidden else result.share.value,
                "low": None if hidden else result.share.low,
                "high": None if hidden else result.share.high,
                "baseline": result.spec.baseline,
                "target": result.target,
                "status": result.status,
            }
        )
    return out


def render(
    report: Report,
    fmt: str,
    language: str = "en",
    names: Mapping[str, str] | None = None,
    *,
    labelled: bool = False,
) -> bytes:
    """The report as ``csv``, ``json`` or ``xlsx`` bytes.

    A ``labelled`` CSV has its headers and level names in ``language`` (for people opening it
    in a spreadsheet); otherwise its headers are the keys of the JSON, for programs.
    """
    if fmt == "json":
        return json.dumps(records(report), ensure_ascii=False, indent=1).encode()
    if fmt == "csv":
        rows = records(report)
        keys = columns(rows)
        if labelled:
            named = [
                {
                    label(key, language): label(value, language) if key == "level" else value
                    for key, value in row.items()
                }
                for row in rows
            ]
            return to_csv(named, [label(key, language) for key in keys]).encode()
        return to_csv(rows, keys).encode()
    if fmt == "xlsx":
        return workbook(report, language, names or {})
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def workbook(report: Report, language: str, names: Mapping[str, str]) -> bytes:
    """The XLSX: one sheet per level, then the indicators; headers in ``language``."""
    import xlsxwriter  # only when someone downloads a workbook: it is not small

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    share = book.add_format({"num_format": "0.0%"})
    for level in LEVELS:
        rows = [export_record(row, report.config.indicators) for row in report.rows(level)]
        keys = columns(rows) or ["level", "responses"]
        if level != "country":
            position = keys.index("responses")
            keys = [*keys[:position], "name", *keys[position:]]
        sheet = book.add_worksheet(label(level if level != "country" else "country", language))
        sheet.freeze_panes(1, 0)
        for col, key in enumerate(keys):
            _write(sheet, 0, col, label(key, language), header)
        code_key = {"region": "region", "office": "office", "service": "service"}.get(level)
        for line, record in enumerate(rows, start=1):
            if code_key:
                record["name"] = names.get(f"{code_key}:{record.get(code_key)}", "")
            for col, key in enumerate(keys):
                value = record.get(key)
                if key == "level":
                    value = label(str(value), language)
                _write(sheet, line, col, value, share if _is_share(key) else None)
        sheet.set_column(0, len(keys) - 1, 14)
    sheet = book.add_worksheet(label("indicators", language))
    keys = ["indicator", "period", "value", "low", "high", "baseline", "target", "status"]
    for col, key in enumerate(keys):
        _write(sheet, 0, col, label(key, language), header)
    for line, record in enumerate(indicator_records(report), start=1):
        for col, key in enumerate(keys):
            value = record[key]
            if key == "indicator":
                value = label(f"indicator_{value}", language)
            elif key == "status":
                value = label(value, language)
            _write(sheet, line, col, value, share)
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, len(keys) - 1, 16)
    sheet = book.add_worksheet(label("notes", language))
    for line, key in enumerate(NOTES):
        sheet.write(line, 0, label(key, language).format(min=report.config.min_cell))
    sheet.set_column(0, 0, 120)
    book.close()
    return buffer.getvalue()


def _write(sheet: Any, row: int, col: int, value: object, number_format: Any = None) -> None:
    """One cell by its type; text is never a formula (:func:`spreadsheet_text`).

    ``number_format`` applies to a fractional number (a share) and to header text.
    """
    if value is None:
        sheet.write_blank(row, col, None)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, float):
        sheet.write_number(row, col, value, number_format)
    elif isinstance(value, int):
        sheet.write_number(row, col, value)
    else:
        text = ";".join(map(str, value)) if isinstance(value, list) else str(value)
        sheet.write_string(row, col, spreadsheet_text(text), number_format)


def _is_share(key: str) -> bool:
    return key not in {"mean_rating", "first_action_hours_mean"}
