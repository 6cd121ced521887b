"""Benchmark of the staff panel with 1,000,000 feedback rows (200,000 cases) on PostgreSQL.

Fills a throwaway database with set-based SQL (INSERT … SELECT generate_series), starts
``pikir serve`` on a loopback port against it, logs in over HTTP and times the queue page, the
case page and filtered queues. Results go to stdout (a Markdown table for BENCHMARKS.md) and to
``bench/results/admin_panel.json``.

    uv run python bench/admin_panel.py                   # generate, then measure
    uv run python bench/admin_panel.py --reuse           # measure an already generated database
    uv run python bench/admin_panel.py --rows 100000     # a smaller run

PostgreSQL: ``PIKIR_BENCH_POSTGRES_URL`` (default the local server on 127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import asyncpg
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.reference_data import load_reference_data  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402

BASE_URL = os.environ.get(
    "PIKIR_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
DB_NAME = "pikir_bench_admin"
PASSWORD = "benchmark password 2026"
TAGS = ("corruption", "hidden_service", "rudeness", "paperwork_error", "misinformation", "delay")
SLA = {"corruption": 24, "hidden_service": 48, "low_rating": 120}
RESULTS = ROOT / "bench" / "results" / "admin_panel.json"


def _pg(url: str) -> dict[str, object]:
    parsed = make_url(url)
    return {
        "host": parsed.host,
        "port": parsed.port or 5432,
        "user": parsed.username,
        "password": parsed.password,
        "database": parsed.database,
    }


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(**_pg(BASE_URL))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _texts() -> list[tuple[str, str, str]]:
    """(text, language, ",labels,") of the hand-written messages in the classifier's data."""
    rows = []
    for path in sorted((ROOT / "classifier" / "data" / "messages").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                language = {"kk-ru": "kk"}.get(item["lang"], item["lang"])
                labels = "," + ",".join(sorted(item["labels"])) + "," if item["labels"] else ""
                rows.append(
                    (item["text"], language if language in ("kk", "ru", "en") else "ru", labels)
                )
    return rows


# Set-based generation: one statement per table. g is the feedback id; every 5th is flagged.
GENERATE = [
    # Plain rows so the statements below can pick by index.
    "CREATE TEMP TABLE office_ix AS"
    " SELECT row_number() OVER (ORDER BY id) - 1 AS i, id, region_code FROM offices",
    "CREATE TEMP TABLE service_ix AS"
    " SELECT row_number() OVER (ORDER BY id) - 1 AS i, id FROM services",
    "CREATE TEMP TABLE complaint_ix AS"
    " SELECT row_number() OVER (ORDER BY i) - 1 AS k, * FROM bench_texts WHERE labels <> ''",
    "CREATE TEMP TABLE praise_ix AS"
    " SELECT row_number() OVER (ORDER BY i) - 1 AS k, * FROM bench_texts WHERE labels = ''",
    # Which text each feedback gets: complaints for 90% of the flagged, praise or suggestions
    # for half of the others (hash joins, not a lookup per row).
    """
    CREATE TEMP TABLE bench_pick AS
    SELECT g AS fid, c.text, c.language, c.labels
    FROM generate_series(5, :rows, 5) AS g
    JOIN complaint_ix c ON c.k = (g / 5) % (SELECT count(*) FROM complaint_ix)
    WHERE (g / 5) % 10 <> 0
    UNION ALL
    SELECT g AS fid, p.text, p.language, p.labels
    FROM generate_series(1, :rows) AS g
    JOIN praise_ix p ON p.k = g % (SELECT count(*) FROM praise_ix)
    WHERE g % 5 <> 0 AND g % 10 < 5
    """,
    "CREATE INDEX ON bench_pick (fid)",
    "ANALYZE bench_pick",
    # The trigram index is built once after the load instead of row by row.
    "DROP INDEX IF EXISTS ix_feedback_case_text_trgm",
    """
    INSERT INTO feedback (id, ref, channel, language, month, office_id, service_id, rating,
        crit_politeness, crit_waiting, crit_information, crit_result, crit_no_extra_payment,
        text, has_text, is_direct_report, consent_contact, has_case, created_at, updated_at)
    SELECT base.g,
        'PK-' || upper(lpad(to_hex(base.g), 8, '0')),
        (ARRAY['telegram','telegram','web'])[1 + g % 3],
        coalesce(t.language, (ARRAY['ru','ru','kk','kk','en'])[1 + g % 5]),
        to_char(created AT TIME ZONE 'Asia/Almaty', 'YYYY-MM'),
        o.id, s.id,
        CASE WHEN flagged THEN 1 + (g / 5) % 2 ELSE 3 + g % 3 END,
        CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 4 <> 0) END,
        (g % 3 <> 0), (g % 5 <> 1), NULL, (g % 11 <> 0),
        t.text, t.text IS NOT NULL, flagged AND g % 97 = 0, g % 13 = 0, flagged,
        created, created
    FROM (
        SELECT g, g % 5 = 0 AS flagged,
               now() - make_interval(secs => (:rows - g) * 31.5) AS created
        FROM generate_series(1, :rows) AS g
    ) AS base
    JOIN office_ix o ON o.i = (base.g * 7) % (SELECT count(*) FROM office_ix)
    JOIN service_ix s ON s.i = (base.g * 13) % (SELECT count(*) FROM service_ix)
    LEFT JOIN bench_pick t ON t.fid = base.g
    """,
    "SELECT setval(pg_get_serial_sequence('feedback', 'id'), :rows)",
    # Every text has its model tags (six rows with probabilities), as the intake stores them.
    """
    INSERT INTO tags (feedback_id, tag, source, present, probability, model_version, created_at)
    SELECT f.id, tag, 'model', position(',' || tag || ',' IN coalesce(c.labels, '')) > 0,
        CASE WHEN position(',' || tag || ',' IN coalesce(c.labels, '')) > 0
             THEN 0.6 + (f.id % 40) / 100.0 ELSE (f.id % 30) / 100.0 END,
        'bench', f.created_at
    FROM feedback f
    LEFT JOIN complaint_ix c
        ON f.id % 5 = 0 AND c.k = (f.id / 5) % (SELECT count(*) FROM complaint_ix)
    CROSS JOIN unnest(ARRAY['corruption','hidden_service','rudeness','paperwork_error',
                            'misinformation','delay']) AS tag
    WHERE f.has_text
    """,
    # The cases: every 5th feedback; older ones mostly closed.
    """
    INSERT INTO cases (feedback_id, status, priority, region_code, office_id, service_id, channel,
        language, labels, opened_at, due_at, first_action_at, answered_at, closed_at, resolution,
        version, created_at, updated_at)
    SELECT f.id,
        CASE WHEN f.created_at > now() - interval '10 days'
                  THEN (ARRAY['new','new','in_review'])[1 + f.id % 3]
             WHEN f.created_at > now() - interval '30 days'
                  THEN (ARRAY['new','in_review','answered','resolved'])[1 + f.id % 4]
             ELSE (ARRAY['resolved','resolved','answered','rejected','resolved','in_review',
                         'resolved','answered','resolved','new'])[1 + (f.id / 5) % 10]
        END,
        p.priority, o.region_code, f.office_id, f.service_id, f.channel, f.language,
        coalesce(c.labels, ''), f.created_at,
        f.created_at + make_interval(hours => CASE p.priority WHEN 0 THEN 24 WHEN 1 THEN 48
                                                              WHEN 6 THEN 120 ELSE 72 END),
        CASE WHEN f.created_at < now() - interval '10 days'
             THEN f.created_at + interval '5 hours' END,
        NULL, NULL, NULL, 1, f.created_at, f.created_at
    FROM feedback f
    JOIN offices o ON o.id = f.office_id
    LEFT JOIN complaint_ix c
        ON f.has_text AND c.k = (f.id / 5) % (SELECT count(*) FROM complaint_ix)
    CROSS JOIN LATERAL (
        SELECT CASE
            WHEN f.is_direct_report OR c.labels LIKE '%,corruption,%' THEN 0
            WHEN c.labels LIKE '%,hidden\\_service,%' THEN 1
            WHEN c.labels LIKE '%,rudeness,%' THEN 2
            WHEN c.labels LIKE '%,paperwork\\_error,%' THEN 3
            WHEN c.labels LIKE '%,misinformation,%' THEN 4
            WHEN c.labels LIKE '%,delay,%' THEN 5
            ELSE 6 END AS priority
    ) AS p
    WHERE f.id % 5 = 0
    """,
    # Some history on closed cases, so the case page has something to show.
    """
    INSERT INTO case_events (case_id, actor_id, kind, body, details, created_at)
    SELECT id, NULL, 'status', NULL,
        json_build_object('before', json_build_object('status', 'new'),
                          'after', json_build_object('status', status)),
        opened_at + interval '5 hours'
    FROM cases WHERE status <> 'new'
    """,
    "CREATE INDEX ix_feedback_case_text_trgm ON feedback USING gin (text gin_trgm_ops)"
    " WHERE has_case",
    "ANALYZE",
]


async def generate(url: str, rows: int) -> None:
    """A fresh database with ``rows`` feedback rows and a case for every fifth."""
    await _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{DB_NAME}"')
    database = Database(url)
    await upgrade(database)
    async with UnitOfWork(database.sessions) as uow:
        await load_reference_data(uow)
        hasher = PasswordHasher()
        for login, role, regions in (
            ("bench-admin", "admin", []),
            ("bench-reviewer", "reviewer", ["astana", "almaty"]),
            ("bench-anticorruption", "anticorruption", []),
        ):
            from storage.models import StaffRole

            uow.staff.add(
                login=login,
                password_hash=hasher.hash(PASSWORD),
                role=StaffRole(role),
                regions=regions,
            )
        await uow.commit()
    await database.dispose()
    conn = await asyncpg.connect(**(_pg(url)))
    try:
        await conn.execute(
            "CREATE TABLE bench_texts (i int PRIMARY KEY, text text, language text, labels text)"
        )
        await conn.executemany(
            "INSERT INTO bench_texts VALUES ($1, $2, $3, $4)",
            [(i, text, language, labels) for i, (text, language, labels) in enumerate(_texts())],
        )
        for statement in GENERATE:
            started = time.perf_counter()
            await conn.execute(statement.replace(":rows", str(rows)))
            first = " ".join(statement.split())[:70]
            print(f"  {time.perf_counter() - started:7.1f} s  {first}", flush=True)
        await conn.execute("DROP TABLE bench_texts")
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM feedback) AS feedback,"
            " (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM tags) AS tags"
        )
        print(f"  generated: {dict(counts)}", flush=True)
    finally:
        await conn.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    """``pikir serve`` against the benchmark database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIKIR_")}
    env |= {
        "PIKIR_DATABASE__URL": url,
        "PIKIR_HTTP__PORT": str(port),
        "PIKIR_HTTP__PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PIKIR_SCHEDULER__ENABLED": "false",
        "PIKIR_LOG_LEVEL": "WARNING",
        "PIKIR_DATA_DIR": str(data_dir),
        "PIKIR_SECURITY__SECRET_KEY": "benchmark-secret-key-0123456789",
    }
    pikir = ROOT / ".venv" / "bin" / "pikir"
    return subprocess.Popen([str(pikir), "serve"], env=env, cwd=ROOT)


async def wait_ready(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("pikir serve did not become ready")


async def login(base: str, login_name: str) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(base + "/admin/login") as response:
        token = re.search(r'name="csrf" value="([^"]+)"', await response.text())
    assert token is not None
    async with session.post(
        base + "/admin/login",
        data={"login": login_name, "password": PASSWORD, "csrf": token.group(1)},
        allow_redirects=False,
    ) as response:
        assert response.status == 303, await response.text()
    return session


async def timed(session: aiohttp.ClientSession, url: str) -> tuple[float, str]:
    started = time.perf_counter()
    async with session.get(url) as response:
        body = await response.text()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return elapsed, body


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 1),
        "p95": round(statistics.quantiles(ordered, n=100)[94], 1),
        "max": round(ordered[-1], 1),
    }


async def measure(base: str, url: str, rounds: int) -> dict[str, dict[str, float]]:
    rng = random.Random(2017)
    admin = await login(base, "bench-admin")
    reviewer = await login(base, "bench-reviewer")
    anticorruption = await login(base, "bench-anticorruption")
    conn = await asyncpg.connect(**_pg(url))
    try:
        case_ids = [
            row["id"]
            for row in await conn.fetch("SELECT id FROM cases ORDER BY random() LIMIT $1", rounds)
        ]
        offices = [row["code"] for row in await conn.fetch("SELECT code FROM offices")]
        services = [row["code"] for row in await conn.fetch("SELECT code FROM services")]
    finally:
        await conn.close()
    words = ["взятку", "очередь", "грубо", "паспорт", "кезек", "bribe", "справку", "талон", "пара"]
    statuses = ["open", "all", "new", "resolved", "overdue"]
    results: dict[str, list[float]] = {}

    async def run(name: str, make: Callable[[], Awaitable[float]]) -> None:
        for _ in range(5):  # warm-up
            await make()
        results[name] = [await make() for _ in range(rounds)]

    async def first_page() -> float:
        return (await timed(admin, base + "/admin/queue"))[0]

    deep_urls: list[str] = []
    url_now = base + "/admin/queue?status=all"
    for _ in range(60):  # walk 60 pages deep, remembering each page's address
        _, body = await timed(admin, url_now)
        deep_urls.append(url_now)
        found = re.search(r'<a href="([^"]+)" rel="next">', body)
        if not found:
            break
        url_now = base + found.group(1).replace("&amp;", "&")

    async def deep_page() -> float:
        return (await timed(admin, rng.choice(deep_urls)))[0]

    async def reviewer_queue() -> float:
        return (await timed(reviewer, base + "/admin/queue"))[0]

    async def anticorruption_queue() -> float:
        return (await timed(anticorruption, base + "/admin/queue"))[0]

    async def case_page() -> float:
        return (await timed(admin, f"{base}/admin/cases/{rng.choice(case_ids)}"))[0]

    kinds = [
        "tag",
        "office",
        "service",
        "region",
        "channel+language",
        "period",
        "search",
        "combined",
    ]
    by_kind: dict[str, list[float]] = {kind: [] for kind in kinds}

    def filtered_url(*, unseen: bool = False) -> tuple[str, str]:
        params: dict[str, str] = {"status": rng.choice(statuses)}
        kind = rng.choice(kinds)
        if kind == "tag":
            params["tag"] = rng.choice(TAGS)
        elif kind == "office":
            params["office"] = rng.choice(offices)
        elif kind == "service":
            params["service"] = rng.choice(services)
        elif kind == "region":
            params["region"] = rng.choice(["astana", "almaty", "shymkent", "abai", "mangystau"])
        elif kind == "channel+language":
            params["channel"] = rng.choice(["telegram", "web", "import"])
            params["language"] = rng.choice(["kk", "ru", "en"])
        elif kind == "period":
            params["from"], params["to"] = "2026-02-01", "2026-02-28"
        elif kind == "search":
            params["q"] = rng.choice(words)
        else:
            params |= {
                "tag": rng.choice(TAGS),
                "office": rng.choice(offices),
                "q": rng.choice(words),
            }
        if unseen:
            # A start date no request used before: the counts cannot come from the cache.
            unseen_days.append(0)
            start = date(2025, 1, 1) + timedelta(days=len(unseen_days))
            params["from"] = start.isoformat()
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return kind, f"{base}/admin/queue?{query}"

    unseen_days: list[int] = []

    async def filtered_queue() -> float:
        return (await timed(admin, filtered_url()[1]))[0]

    async def unseen_filtered_queue() -> float:
        kind, url = filtered_url(unseen=True)
        elapsed = (await timed(admin, url))[0]
        by_kind[kind].append(elapsed)
        return elapsed

    await run("queue page (first page, admin)", first_page)
    await run("queue page (deep pages, up to 60)", deep_page)
    await run("queue page (reviewer, 2 regions)", reviewer_queue)
    await run("queue page (anti-corruption)", anticorruption_queue)
    await run("case page", case_page)
    await run("filtered queue (mixed filters)", filtered_queue)
    await run("filtered queue (each filter new, counts computed)", unseen_filtered_queue)
    for kind, samples in by_kind.items():
        if len(samples) >= 5:
            results[f"  … of which {kind}"] = samples
    for session in (admin, reviewer, anticorruption):
        await session.close()
    return {name: summary(samples) for name, samples in results.items()}


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="skip generation")
    args = parser.parse_args()
    url = make_url(BASE_URL).set(database=DB_NAME).render_as_string(hide_password=False)
    if not args.reuse:
        print(f"generating {args.rows} feedback rows …", flush=True)
        started = time.perf_counter()
        await generate(url, args.rows)
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        server = start_server(url, port, Path(data_dir))
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_ready(base)
            load_before = os.getloadavg()[0]
            results = await measure(base, url, args.rounds)
            load_after = os.getloadavg()[0]
        finally:
            server.terminate()
            server.wait(timeout=30)
    RESULTS.parent.mkdir(exist_ok=True)
    load = {"before": round(load_before, 2), "after": round(load_after, 2)}
    RESULTS.write_text(
        json.dumps({"rows": args.rows, "load_average_1min": load, "results": results}, indent=2)
    )
    print(f"\nload average (1 min) before/after the measurement: {load} on {os.cpu_count()} CPUs")
    print("\n| page | requests | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|")
    for name, figures in results.items():
        print(
            f"| {name} | {figures['n']} | {figures['p50']} | {figures['p95']} | {figures['max']} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
