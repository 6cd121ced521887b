"""The ``pikir`` command line as an operator uses it: real processes, real databases."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

PIKIR = [sys.executable, "-m", "bot.main"]
ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], url: str, tmp_path: Path, stdin: str = "", **env: str):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIKIR_")}
    environment |= {
        "PIKIR_DATABASE__URL": url,
        "PIKIR_DATA_DIR": str(tmp_path / "var"),
        "PIKIR_LOG_LEVEL": "WARNING",
        **env,
    }
    return subprocess.run(
        PIKIR + args,
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=180,
    )


@pytest.fixture
def cli_url(database, database_url: str) -> str:
    """A migrated, emptied database for a CLI run (the fixture resets it around the test)."""
    return database_url


def test_help_on_every_command(tmp_path: Path) -> None:
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["migrate", "--help"],
        ["demo", "--help"],
        ["staff", "add", "--help"],
        ["import", "--help"],
        ["export", "feedback", "--help"],
        ["aggregate", "--help"],
        ["month", "close", "--help"],
        ["classifier", "--help"],
        ["classifier", "evaluate", "--help"],
    ):
        result = run(args, "sqlite+aiosqlite:///unused.db", tmp_path)
        assert result.returncode == 0, result.stderr
        assert "Usage:" in result.stdout


def test_classifier_predict_through_pikir(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "text": "Сотрудник нагрубил и накричал на меня"},
        {"id": "b", "text": ""},
    ]
    stdin = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    result = run(["classifier", "predict"], "sqlite+aiosqlite:///unused.db", tmp_path, stdin)
    assert result.returncode == 1
    assert 'line 2: "text" must be a non-empty string' in result.stderr
    [rude] = (json.loads(line) for line in result.stdout.splitlines())
    assert rude["id"] == "a" and rude["labels"] == ["rudeness"]


def test_staff_add_reads_password_from_stdin(cli_url: str, tmp_path: Path) -> None:
    ok = run(
        [
            "staff",
            "add",
            "--login",
            "aigerim",
            "--role",
            "reviewer",
            "--region",
            "astana",
            "--region",
            "almaty",
        ],
        cli_url,
        tmp_path,
        stdin="correct horse battery\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "correct horse" not in ok.stdout + ok.stderr
    again = run(
        ["staff", "add", "--login", "AIGERIM", "--role", "analyst"],
        cli_url,
        tmp_path,
        stdin="another long password\n",
    )
    assert again.returncode == 2 and "This login is taken" in again.stderr
    short = run(
        ["staff", "add", "--login", "bolat", "--role", "analyst"],
        cli_url,
        tmp_path,
        stdin="short\n",
    )
    assert short.returncode == 2 and "at least" in short.stderr
    region = run(
        ["staff", "add", "--login", "dana", "--role", "reviewer", "--region", "mars"],
        cli_url,
        tmp_path,
        stdin="long enough password\n",
    )
    assert region.returncode == 2 and "unknown region" in region.stderr


def test_import_reports_bad_lines_and_keeps_good_ones(cli_url: str, tmp_path: Path) -> None:
    path = tmp_path / "offices.csv"
    path.write_text(
        "code,region,name_kk,name_ru,name_en,address,active\n"
        "KRG-09,karaganda,Жаңа,Новый,New,,true\n"
        "KRG-10,atlantis,Ж,Н,N,,true\n",
        encoding="utf-8",
    )
    result = run(["import", "offices", str(path)], cli_url, tmp_path)
    assert result.returncode == 1
    assert "line 3: unknown region 'atlantis'" in result.stderr
    assert "Traceback" not in result.stderr
    assert "1 added" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,useful\n1,2\n", encoding="utf-8")
    refused = run(["import", "offices", str(bad)], cli_url, tmp_path)
    assert refused.returncode == 2 and "nothing was imported" in refused.stderr


def test_demo_then_export(cli_url: str, tmp_path: Path) -> None:
    demo = run(["demo", "--months", "2", "--per-month", "40"], cli_url, tmp_path)
    assert demo.returncode == 0, demo.stderr
    months = set()
    exported = []
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Almaty"))
    for month in (now.strftime("%Y-%m"),):
        out = run(["export", "feedback", "--month", month, "--format", "json"], cli_url, tmp_path)
        assert out.returncode == 0, out.stderr
        rows = json.loads(out.stdout)
        exported += rows
        months |= {r["month"] for r in rows}
        assert all("text" not in r for r in rows)
        assert {
            "ref",
            "created_at",
            "channel",
            "language",
            "office",
            "service",
            "rating",
            "politeness",
            "waiting",
            "tags",
            "status",
        } <= set(rows[0])
        assert {r["channel"] for r in rows} <= {"telegram", "web", "import"}
        as_csv = run(
            ["export", "feedback", "--month", month, "--format", "csv", "--with-text"],
            cli_url,
            tmp_path,
        )
        table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
        assert len(table) == len(rows) and "text" in table[0]
    assert exported and months <= {now.strftime("%Y-%m")}
    bad = run(["export", "feedback", "--month", "2026-13"], cli_url, tmp_path)
    assert bad.returncode == 2 and "YYYY-MM" not in bad.stderr and "2026-03" in bad.stderr

    # The demo left the figures refreshed and the past month closed: its pack exists.
    previous = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert "closed 1 past month(s)" in demo.stdout
    pack = tmp_path / "var" / "reports" / f"pikir-{previous}.xlsx"
    assert pack.is_file() and pack.with_suffix(".txt").is_file()
    figures = run(
        ["export", "aggregates", "--month", previous, "--format", "json"], cli_url, tmp_path
    )
    assert figures.returncode == 0, figures.stderr
    (country,) = [r for r in json.loads(figures.stdout) if r["level"] == "country"]
    assert country["responses"] == 40


def test_month_close_is_idempotent_and_refuses_a_month_not_over(
    cli_url: str, tmp_path: Path
) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Almaty"))
    previous = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    pack = tmp_path / "var" / "reports" / f"pikir-{previous}.xlsx"
    first = run(["month", "close", "--month", previous], cli_url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"{previous} closed: pikir-{previous}.xlsx; sent to 0 staff" in first.stdout
    again = run(["month", "close", "--month", previous, "--resend"], cli_url, tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"{previous} closed: pikir-{previous}.xlsx" in again.stdout and pack.is_file()
    current = run(["month", "close", "--month", now.strftime("%Y-%m")], cli_url, tmp_path)
    assert current.returncode == 2 and "not over yet" in current.stderr
    bad = run(["month", "close", "--month", "2026-13"], cli_url, tmp_path)
    assert bad.returncode == 2 and "2026-03" in bad.stderr


def test_bad_setting_is_one_clear_line(tmp_path: Path) -> None:
    result = run(["migrate"], "sqlite+aiosqlite:///x.db", tmp_path, PIKIR_HTTP__PORT="http")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("pikir: bad setting PIKIR_HTTP__PORT")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+asyncpg://nobody:hunter2@127.0.0.1:{port}/none"
    result = run(["migrate"], url, tmp_path)
    assert result.returncode == 1
    assert "not reachable" in result.stderr and "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr


def test_the_first_command_on_a_new_database_tells_the_first_admins_password(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    first = run(["migrate"], url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("First admin account created: login 'admin'") == 1
    again = run(["migrate"], url, tmp_path)
    assert again.returncode == 0 and "First admin" not in again.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_readyz_and_stops_on_sigterm(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIKIR_")}
    environment |= {
        "PIKIR_DATABASE__URL": database_url,
        "PIKIR_HTTP__PORT": str(port),
        "PIKIR_DATA_DIR": str(tmp_path / "var"),
    }
    process = subprocess.Popen(
        [*PIKIR, "serve"],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
                    assert resp.status == 200
                    body = json.loads(resp.read())
            except OSError:
                time.sleep(0.3)
        assert body == {"status": "ready", "database": "ok", "schema": "ok"}
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
