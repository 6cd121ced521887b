"""Benchmark of the satisfaction figures on PostgreSQL (issue 7).

1,000,000 feedback rows over 12 months (with model tags on the quarter that has text, staff
corrections and cases) are generated set-based with ``INSERT … SELECT generate_series``. Then, in
the same run: a plain hand-written SQL GROUP BY of the same counts, the full rebuild of all
aggregates, the incremental refresh after one day of new feedback, and the dashboard page's
latency through a real HTTP server on 127.0.0.1.

    .venv/bin/python bench/figures_bench.py [--rows 1000000] [--keep]

Uses ``PIKIR_BENCH_POSTGRES_URL`` (default the local server) and a database ``pikir_bench``
that it creates and (without ``--keep``) drops.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from argon2 import PasswordHasher
from sqlalchemy import Row, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from admin.app import create_admin_app
from admin.config import PanelConfig
from admin.figures.indicators import FiguresConfig
from admin.figures.refresh import REFRESH_SETTINGS, WATERMARK, rebuild_all, refresh_changed
from admin.figures.sql import cells_with_median
from admin.reports import ReportDeps, setup_reports
from bench._common import run_on_server
from bot.settings import ReportSettings
from storage.database import Database
from storage.migrate import upgrade
from storage.models import MonthlyAggregate, StaffRole
from storage.reference_data import load_reference_data
from storage.uow import UnitOfWork

BENCH_PASSWORD = "bench analyst password 2026"

BASE = os.environ.get(
    "PIKIR_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
NAME = "pikir_bench"
# Twelve months: 2025-12 … 2026-11 in the agency's time zone. The bench runs on its own clock:
# the rebuild happens at the start of the last day, which then brings one day of new feedback
# (and the staff's corrections of the day before), and the incremental refresh runs at its end.
START = datetime(2025, 12, 1, tzinfo=ZoneInfo("Asia/Almaty"))
LAST_DAY = START + timedelta(days=364)
DAY_END = LAST_DAY + timedelta(days=1)

# Parameters: rows, start, days (the span the rows are spread over), prefix (of their refs).
GENERATE = [
    """
    INSERT INTO feedback (ref, channel, language, month, office_id, service_id, rating,
        crit_politeness, crit_waiting, crit_information, crit_result, crit_no_extra_payment,
        text, has_text, is_direct_report, consent_contact, created_at, updated_at)
    SELECT CAST(:prefix AS text) || lpad(g::text, 9, '0'),
        (ARRAY['telegram','telegram','web'])[1 + floor(random() * 3)::int],
        (ARRAY['kk','ru','ru','en'])[1 + floor(random() * 4)::int],
        to_char(ts AT TIME ZONE 'Asia/Almaty', 'YYYY-MM'),
        o.ids[1 + floor(random() * array_length(o.ids, 1))::int],
        CASE WHEN random() < 0.93 THEN s.ids[1 + floor(random() * array_length(s.ids, 1))::int] END,
        (ARRAY[1,2,3,4,4,5,5,5,5])[1 + floor(random() * 9)::int],
        CASE WHEN random() < 0.15 THEN NULL ELSE random() < 0.76 END,
        CASE WHEN random() < 0.15 THEN NULL ELSE random() < 0.62 END,
        CASE WHEN random() < 0.15 THEN NULL ELSE random() < 0.70 END,
        CASE WHEN random() < 0.15 THEN NULL ELSE random() < 0.80 END,
        CASE WHEN random() < 0.15 THEN NULL ELSE random() < 0.95 END,
        CASE WHEN has THEN 'a complaint in a few words' END, has,
        false, false, ts, ts
    FROM generate_series(1, CAST(:rows AS int)) AS g,
        LATERAL (SELECT CAST(:start AS timestamptz) + ((g - 1)::float8 / CAST(:rows AS int))
                            * CAST(:days AS int) * interval '1 day' AS ts,
                        random() < 0.25 AS has) AS t,
        (SELECT array_agg(id ORDER BY id) AS ids FROM offices) AS o,
        (SELECT array_agg(id ORDER BY id) AS ids FROM services) AS s
    """,
    """
    INSERT INTO tags (feedback_id, tag, source, present, probability, model_version, created_at)
    SELECT f.id, t.tag, 'model', random() < 0.18, random(), 'bench', f.created_at
    FROM feedback f CROSS JOIN unnest(ARRAY['corruption','hidden_service','rudeness',
        'paperwork_error','misinformation','delay']) AS t(tag)
    WHERE f.has_text AND f.ref LIKE CAST(:prefix AS text) || '%'
    """,
    """
    INSERT INTO tags (feedback_id, tag, source, present, created_at)
    SELECT f.id, 'rudeness', 'staff', random() < 0.5, f.created_at + interval '1 day'
    FROM feedback f
    WHERE f.has_text AND f.id % 20 = 0 AND f.ref LIKE CAST(:prefix AS text) || '%'
    """,
    """
    INSERT INTO cases (feedback_id, status, priority, region_code, opened_at, due_at,
        first_action_at, answered_at, closed_at, version, created_at, updated_at)
    SELECT f.id,
        (ARRAY['new','in_review','answered','resolved','resolved','rejected'])
            [1 + floor(random() * 6)::int],
        2, o.region_code, f.created_at, f.created_at + interval '72 hours',
        CASE WHEN random() < 0.8 THEN f.created_at + random() * interval '60 hours' END,
        CASE WHEN random() < 0.5 THEN f.created_at + random() * interval '90 hours' END,
        NULL, 1, f.created_at, f.created_at
    FROM feedback f JOIN offices o ON o.id = f.office_id
    WHERE (f.rating <= 2 OR (f.has_text AND f.id % 3 = 0))
        AND f.ref LIKE CAST(:prefix AS text) || '%'
    """,
]

# The same counts as the stored aggregates, written by hand: the yardstick for the rebuild.
PLAIN_GROUP_BY = """
WITH ranked AS (
    SELECT t.feedback_id, t.tag, t.present,
           row_number() OVER (PARTITION BY t.feedback_id, t.tag
                              ORDER BY (t.source = 'staff') DESC, t.created_at DESC, t.id DESC)
               AS rank
    FROM tags t
), eff AS (
    SELECT feedback_id,
        max((tag = 'corruption' AND present)::int) AS corruption,
        max((tag = 'hidden_service' AND present)::int) AS hidden_service,
        max((tag = 'rudeness' AND present)::int) AS rudeness,
        max((tag = 'paperwork_error' AND present)::int) AS paperwork_error,
        max((tag = 'misinformation' AND present)::int) AS misinformation,
        max((tag = 'delay' AND present)::int) AS delay,
        max(present::int) AS any_tag
    FROM ranked WHERE rank = 1 GROUP BY feedback_id
)
SELECT f.month, coalesce(o.region_code, '') AS region_code, coalesce(o.code, '') AS office_code,
    coalesce(s.code, '') AS service_code, f.channel, f.language,
    count(*), count(f.rating), coalesce(sum(f.rating), 0),
    count(*) FILTER (WHERE f.rating = 1), count(*) FILTER (WHERE f.rating = 2),
    count(*) FILTER (WHERE f.rating = 3), count(*) FILTER (WHERE f.rating = 4),
    count(*) FILTER (WHERE f.rating = 5),
    count(f.crit_politeness), count(*) FILTER (WHERE f.crit_politeness),
    count(f.crit_waiting), count(*) FILTER (WHERE f.crit_waiting),
    count(f.crit_information), count(*) FILTER (WHERE f.crit_information),
    count(f.crit_result), count(*) FILTER (WHERE f.crit_result),
    count(f.crit_no_extra_payment), count(*) FILTER (WHERE f.crit_no_extra_payment),
    count(*) FILTER (WHERE f.has_text), coalesce(sum(e.any_tag), 0),
    coalesce(sum(e.rudeness), 0), coalesce(sum(e.paperwork_error), 0),
    coalesce(sum(e.hidden_service), 0), coalesce(sum(e.corruption), 0),
    coalesce(sum(e.delay), 0), coalesce(sum(e.misinformation), 0),
    count(c.id), count(c.answered_at), count(*) FILTER (WHERE c.status = 'resolved'),
    count(c.first_action_at),
    coalesce(sum(extract(epoch FROM c.first_action_at - c.opened_at)), 0),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.first_action_at - c.opened_at))
FROM feedback f
LEFT JOIN offices o ON o.id = f.office_id
LEFT JOIN services s ON s.id = f.service_id
LEFT JOIN cases c ON c.feedback_id = f.id
LEFT JOIN eff e ON e.feedback_id = f.id
GROUP BY 1, 2, 3, 4, 5, 6
"""


async def generate(
    database: Database, rows: int, start: datetime, days: int, prefix: str, seed: float
) -> None:
    """Insert ``rows`` feedback spread over ``days`` from ``start``, with tags and cases."""
    params = {"rows": rows, "start": start, "days": days, "prefix": prefix}
    async with database.engine.begin() as conn:
        await conn.execute(text("SELECT setseed(:seed)"), {"seed": seed})
        for statement in GENERATE:
            await conn.execute(text(statement), params)


async def vacuum(database: Database) -> None:
    """``VACUUM ANALYZE`` between bulk steps, as autovacuum would on a running server.

    Without it the figures would measure the bench's own churn: a rebuild leaves 200,000 dead
    cells behind, and a server with autovacuum off (a test server, say) never clears them.
    """
    async with database.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE"))


async def month_matches_recomputation(database: Database, month: str) -> bool:
    """Whether the stored cells of ``month`` equal a recomputation of the whole month.

    Sums of seconds are floats, added up in another order by another plan: those are compared
    to a relative 1e-9, everything else exactly.
    """
    statement, names = cells_with_median([month], "postgresql")
    stored_columns = [getattr(MonthlyAggregate, name) for name in names]
    async with database.engine.connect() as conn:
        fresh = (await conn.execute(statement)).all()
        stored = (
            await conn.execute(select(*stored_columns).where(MonthlyAggregate.month == month))
        ).all()

    def keyed(rows: Sequence[Row[Any]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        return {tuple(row[:6]): tuple(row) for row in rows}

    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-9)
        return a == b

    fresh_cells, stored_cells = keyed(fresh), keyed(stored)
    return fresh_cells.keys() == stored_cells.keys() and all(
        all(map(same, fresh_cells[key], stored_cells[key])) for key in fresh_cells
    )


def timed(samples: list[float]) -> str:
    runs = ", ".join(f"{s:.3f}" for s in samples)
    return f"median {statistics.median(samples):.3f} s (runs: {runs})"


async def page_latency(database: Database, month: str, requests: int) -> dict[str, float]:
    app = web.Application()
    with tempfile.TemporaryDirectory() as tmp:
        panel = PanelConfig(secret_key=b"bench" * 8, data_dir=Path(tmp))
        return await _measure_pages(app, database, panel, month, requests)


async def _measure_pages(
    app: web.Application, database: Database, panel: PanelConfig, month: str, requests: int
) -> dict[str, float]:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    admin = create_admin_app(database, panel, hasher=hasher)
    config = FiguresConfig(ReportSettings(ethics_targets={2026: 0.78}))
    async with UnitOfWork(database.sessions) as uow:
        if await uow.staff.by_login("bench-analyst") is None:
            uow.staff.add(
                login="bench-analyst",
                password_hash=hasher.hash(BENCH_PASSWORD),
                role=StaffRole.ANALYST,
            )
            await uow.commit()
    setup_reports(admin, ReportDeps(database=database, figures=config, reports_dir=Path("/tmp")))
    app.add_subapp("/admin", admin)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/admin/reports?month={month}"
    times = []
    uncached = []
    # unsafe=True: the session cookie comes from an IP address (127.0.0.1), which aiohttp's
    # cookie jar otherwise refuses.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        # Through the panel's login form, as the M&E officer would (a session cookie after).
        async with session.get(f"http://127.0.0.1:{port}/admin/login") as response:
            csrf = re.search(r'name="csrf" value="([^"]+)"', await response.text())
        assert csrf is not None
        form = {"login": "bench-analyst", "password": BENCH_PASSWORD, "csrf": csrf.group(1)}
        async with session.post(
            f"http://127.0.0.1:{port}/admin/login", data=form, allow_redirects=False
        ) as response:
            assert response.status == 303, await response.text()
        # Every month's page and every quarter's once, before anything is cached: each one
        # builds its report and draws its charts, as the first view after a refresh does.
        for period, back in itertools.product(("month", "quarter"), range(1, 12)):
            other = f"http://127.0.0.1:{port}/admin/reports?month=2026-{back:02d}&period={period}"
            start = time.perf_counter()
            async with session.get(other) as response:
                assert response.status == 200
                await response.read()
            uncached.append(time.perf_counter() - start)
        start = time.perf_counter()
        async with session.get(url) as response:
            assert response.status == 200, await response.text()
            await response.read()
        cold = time.perf_counter() - start
        for _ in range(requests):
            start = time.perf_counter()
            async with session.get(url) as response:
                await response.read()
            times.append(time.perf_counter() - start)
    await runner.cleanup()
    times.sort()
    uncached.sort()
    return {
        "uncached_median": uncached[len(uncached) // 2],
        "uncached_p95": uncached[int(len(uncached) * 0.95) - 1],
        "uncached_max": uncached[-1],
        "cold": cold,
        "p50": times[len(times) // 2],
        "p95": times[int(len(times) * 0.95) - 1],
    }


async def main(rows: int, keep: bool, repeat: int) -> None:
    await run_on_server(BASE, f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
    await run_on_server(BASE, f'CREATE DATABASE "{NAME}"')
    url = make_url(BASE).set(database=NAME).render_as_string(hide_password=False)
    database = Database(url)
    try:
        await upgrade(database)
        async with UnitOfWork(database.sessions) as uow:
            await load_reference_data(uow)
            await uow.commit()
        start = time.perf_counter()
        await generate(database, rows, START, 364, "PK-B", 0.42)
        await vacuum(database)
        print(f"generated {rows} feedback rows in {time.perf_counter() - start:.1f} s")
        async with database.engine.connect() as conn:
            counts = (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM feedback), (SELECT count(*) FROM tags), "
                        "(SELECT count(*) FROM cases)"
                    )
                )
            ).one()
        print(f"rows: feedback {counts[0]}, tags {counts[1]}, cases {counts[2]}")

        async with database.engine.connect() as conn:
            width = len((await conn.execute(text(f"{PLAIN_GROUP_BY} LIMIT 0"))).keys())
        # Named columns: several of the plain query's are both called "count".
        plain_table = "plain_cells ({})".format(", ".join(f"c{i}" for i in range(width)))
        plain, plain_logged, rebuild = [], [], []
        for _ in range(repeat):
            # Timed as the rebuild is: on the server, the result kept there, in a transaction
            # with the rebuild's own settings (work_mem, jit). Into a temporary table (no WAL)
            # and, like the rebuild's insert, into an ordinary WAL-logged table (rolled back).
            for kind, times in (("TEMP TABLE", plain), ("TABLE", plain_logged)):
                async with database.engine.connect() as conn:
                    await conn.begin()
                    for setting in REFRESH_SETTINGS:
                        await conn.execute(text(setting))
                    start = time.perf_counter()
                    await conn.execute(text(f"CREATE {kind} {plain_table} AS {PLAIN_GROUP_BY}"))
                    times.append(time.perf_counter() - start)
                    cells = await conn.scalar(text("SELECT count(*) FROM plain_cells"))
                    await conn.rollback()
            async with UnitOfWork(database.sessions) as uow:
                start = time.perf_counter()
                built = await rebuild_all(uow.session, now=datetime.now(UTC))
                await uow.commit()
                rebuild.append(time.perf_counter() - start)
            await vacuum(database)
        print(f"plain SQL GROUP BY into a temporary table ({cells} cells): {timed(plain)}")
        print(f"plain SQL GROUP BY into a logged table: {timed(plain_logged)}")
        print(f"full rebuild ({built.cells} cells, {len(built.months)} months): {timed(rebuild)}")
        print(
            f"rebuild / plain into a temporary table = "
            f"{statistics.median(rebuild) / statistics.median(plain):.2f}; "
            f"rebuild / plain into a logged table = "
            f"{statistics.median(rebuild) / statistics.median(plain_logged):.2f}"
        )

        day_rows = rows // 364
        incremental = []
        for _ in range(repeat):
            # The aggregates are current at the start of the last day; the day's rows (the same
            # each time: same seed, so the same cells) arrive after that.
            async with database.engine.begin() as conn:
                await conn.execute(text("DELETE FROM feedback WHERE ref LIKE 'PK-D%'"))
                await conn.execute(
                    text("UPDATE aggregate_watermarks SET seen_until = :at WHERE name = :name"),
                    {"at": LAST_DAY, "name": WATERMARK},
                )
            await generate(database, day_rows, LAST_DAY, 1, "PK-D", 0.17)
            await vacuum(database)
            async with UnitOfWork(database.sessions) as uow:
                start = time.perf_counter()
                changed = await refresh_changed(uow.session, now=DAY_END)
                await uow.commit()
                incremental.append(time.perf_counter() - start)
        same = await month_matches_recomputation(database, changed.months[-1])
        print(
            f"incremental refresh after one day ({day_rows} new rows; months "
            f"{', '.join(changed.months)}, {changed.cells} cells recomputed): "
            f"{timed(incremental)}; equals a full recomputation of the month: {same}"
        )
        latency = await page_latency(database, "2026-10", 200)
        print(
            "dashboard /admin/reports?month=2026-10: first request "
            f"{latency['cold'] * 1000:.0f} ms, then p50 {latency['p50'] * 1000:.0f} ms, "
            f"p95 {latency['p95'] * 1000:.0f} ms (200 requests); uncached pages (11 months and "
            f"11 quarters): median {latency['uncached_median'] * 1000:.0f} ms, "
            f"p95 {latency['uncached_p95'] * 1000:.0f} ms, "
            f"max {latency['uncached_max'] * 1000:.0f} ms"
        )
        load = os.getloadavg()[0]
        print(f"load average (1 min) at the end: {load:.2f} on {os.cpu_count()} cores")
    finally:
        await database.dispose()
        if not keep:
            await run_on_server(BASE, f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.keep, args.repeat))
