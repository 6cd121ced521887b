"""`pikir import feedback`, `pikir aggregate`, `pikir export aggregates` as an operator runs them.

The commands are thin; the flow runs as real processes on SQLite here, and the same use cases run
in-process on both databases in the other figures tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from tests.service.test_cli import run


@pytest.fixture
def cli_url(database, database_url: str) -> str:
    """A migrated, emptied database for a CLI run."""
    return database_url


HEADER = "source_id,office,service,date,rating,politeness,waiting,language,text\n"


def historic_csv(tmp_path: Path) -> Path:
    lines = [HEADER]
    for index in range(24):
        rating = 5 if index % 3 else 2
        lines.append(
            f"s{index},AST-01,id_card,2016-05-{index % 28 + 1:02d},{rating},"
            f"{'true' if index % 4 else 'false'},,ru,\n"
        )
    lines.append("bad1,NOPE-99,id_card,2016-05-02,4,,,ru,\n")  # line 26: unknown office
    lines.append("bad2,AST-01,id_card,2016-13-40,4,,,ru,\n")  # line 27: bad date
    lines.append("bad3,AST-01,,2016-05-02,9,,,ru,\n")  # line 28: rating out of range
    lines.append("bad4,AST-01,,2016-05-02,4,maybe,,ru,\n")  # line 29: bad criterion
    path = tmp_path / "historic.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("backend", ["sqlite"])
def test_import_aggregate_and_export(cli_url: str, tmp_path: Path) -> None:
    source = historic_csv(tmp_path)
    first = run(["import", "feedback", str(source)], cli_url, tmp_path)
    assert first.returncode == 1  # some lines were rejected
    assert "24 added" in first.stdout
    for line in ("line 26: unknown office", "line 27: date", "line 28: rating", "line 29:"):
        assert line in first.stderr, first.stderr
    again = run(["import", "feedback", str(source)], cli_url, tmp_path)
    assert "0 added, 24 already imported" in again.stdout

    refreshed = run(["aggregate", "--month", "2016-05"], cli_url, tmp_path)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "2016-05" in refreshed.stdout

    exported = run(
        ["export", "aggregates", "--month", "2016-05", "--format", "json"], cli_url, tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    records = json.loads(exported.stdout)
    country = records[0]
    assert country["level"] == "country" and country["responses"] == 24
    assert country["csat"] == 16 / 24  # ratings 5 on two rows of three

    out = tmp_path / "figures.xlsx"
    xlsx = run(
        ["export", "aggregates", "--month", "2016-05", "--format", "xlsx", "--out", str(out)],
        cli_url,
        tmp_path,
    )
    assert xlsx.returncode == 0, xlsx.stderr
    book = openpyxl.load_workbook(out)
    assert "Индикаторы" in book.sheetnames


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    bad = run(["export", "aggregates", "--month", "2026-13"], url, tmp_path)
    assert bad.returncode == 2 and "--month" in bad.stderr
    bad = run(["export", "aggregates", "--month", "2026-01", "--format", "xlsx"], url, tmp_path)
    assert bad.returncode == 2 and "--out" in bad.stderr
