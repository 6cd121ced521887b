"""Migrating from a short-lived child process, so the long-lived service never loads Alembic.

Alembic and its template engine stay in a process's memory once imported (about 10 MB); the
service needs them for a second at start. ``upgrade_in_child`` runs ``python -m
storage.migrate_process`` and hands it the database URL on its standard input, never on the
command line, where other users of the machine could read it.
"""

from __future__ import annotations

import asyncio
import sys

from storage.database import Database

_STDERR_TAIL = 2000


class MigrationFailed(RuntimeError):
    """The schema could not be brought up to date; the message says why."""


async def upgrade_in_child(database: Database) -> str:
    """Bring ``database`` to the newest schema in a child process; raise if it fails.

    Returns the head revision the child migrated to (what ``/readyz`` expects to find).
    """
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "storage.migrate_process",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    output, errors = await child.communicate(database.url.encode() + b"\n")
    if child.returncode != 0:
        reason = errors.decode(errors="replace").strip()[-_STDERR_TAIL:]
        raise MigrationFailed(f"migrating {database.safe_url} failed: {reason}")
    return output.decode().strip().splitlines()[-1]


async def _upgrade(url: str) -> str:
    from storage.migrate import revisions, upgrade

    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()
    return revisions()[-1]


def main() -> None:
    """Migrate the database whose URL is the first line of standard input; print the head."""
    url = sys.stdin.readline().strip()
    if not url:
        sys.exit("no database URL on standard input")
    try:
        print(asyncio.run(_upgrade(url)))
    except Exception as exc:  # reported to the parent in one line, without a traceback
        sys.exit(f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
