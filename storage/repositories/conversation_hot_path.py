"""The per-event conversation statements, run on the session's own driver connection.

Every Telegram update and web chat step claims its delivery, loads and locks its conversation
and saves the new state. Through the ORM that cost more CPU than the database work itself
(statement compilation, cache keys, loading rows into objects), so these statements go
straight to the driver (asyncpg or aiosqlite) of the connection the unit of work's session
already holds: they run in the same transaction as everything else the event does, which
SQLAlchemy commits or rolls back as usual.

On PostgreSQL the claim and the locking load are one statement (a data-modifying CTE); SQLite
has no data-modifying CTEs and no row locks (a writer holds the whole database), so there they
are two statements on the same connection. aiosqlite runs each call in its own thread and every
call is a hand-over to that thread and back (often dearer than the statement itself), so on
SQLite each method here is one call that runs its statements and reads their results there.

On PostgreSQL the last save of a unit of work can travel with the transaction's COMMIT, in one
round trip (``save_if_version(..., with_commit=True)``): asyncpg sends a statement with
parameters on its own, so the save's values go into the text of a two-statement message, and
SQLAlchemy's commit that follows finds the transaction already ended.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.types import utcnow

_PG_LOCK = (
    "SELECT c.id, c.step, c.data, c.version, c.respondent_id, r.language "
    "FROM conversations AS c LEFT JOIN respondents AS r ON r.id = c.respondent_id "
    "WHERE c.channel = $1 AND c.chat_key = $2 FOR UPDATE OF c"
)
# The claim's row and the locked conversation in one round trip; ``claimed`` is false when
# the delivery was recorded before (a redelivery).
_PG_CLAIM_AND_LOCK = (
    "WITH claim AS ("
    " INSERT INTO processed_updates (channel, update_key, created_at) VALUES ($1, $2, $3)"
    " ON CONFLICT DO NOTHING RETURNING 1"
    "), conversation AS ("
    "SELECT c.id, c.step, c.data, c.version, c.respondent_id, r.language "
    "FROM conversations AS c LEFT JOIN respondents AS r ON r.id = c.respondent_id "
    "WHERE c.channel = $1 AND c.chat_key = $4 FOR UPDATE OF c"
    ") SELECT EXISTS (SELECT 1 FROM claim) AS claimed, conversation.* "
    "FROM (SELECT 1) AS one LEFT JOIN conversation ON true"
)
_PG_CLAIM = (
    "INSERT INTO processed_updates (channel, update_key, created_at) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING"
)
_PG_SAVE = (
    "UPDATE conversations SET step = $1, data = $2::json, respondent_id = $3, "
    "version = $4 + 1, updated_at = $5 WHERE id = $6 AND version = $4"
)
_PG_INSERT = (
    "INSERT INTO conversations "
    "(channel, chat_key, step, data, version, respondent_id, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4::json, $5, $6, $7, $7) ON CONFLICT (channel, chat_key) DO NOTHING"
)

# Dollar quoting: the text between two tags is taken literally, whatever it holds (a value
# holding the tag itself is saved the ordinary way). A save that finds another version divides
# by zero: the error aborts the transaction, so the COMMIT after it is not run.
_QUOTE_TAG = "$pikir$"
_PG_SAVE_AND_COMMIT = (
    "WITH saved AS (UPDATE conversations SET step = {step}, data = {data}::json, "
    "respondent_id = {respondent_id}, version = {expected} + 1, updated_at = {now} "
    "WHERE id = {conversation_id} AND version = {expected} RETURNING 1) "
    "SELECT 1 / count(*) FROM saved; COMMIT"
)
_DIVISION_BY_ZERO = "22012"

_LITE_LOCK = (
    "SELECT c.id, c.step, c.data, c.version, c.respondent_id, r.language "
    "FROM conversations AS c LEFT JOIN respondents AS r ON r.id = c.respondent_id "
    "WHERE c.channel = ? AND c.chat_key = ?"
)
_LITE_CLAIM = (
    "INSERT INTO processed_updates (channel, update_key, created_at) VALUES (?, ?, ?) "
    "ON CONFLICT DO NOTHING"
)
_LITE_SAVE = (
    "UPDATE conversations SET step = ?, data = ?, respondent_id = ?, version = ?, "
    "updated_at = ? WHERE id = ? AND version = ?"
)
_LITE_INSERT = (
    "INSERT INTO conversations "
    "(channel, chat_key, step, data, version, respondent_id, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, chat_key) DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class LockedConversation:
    """A conversation row as loaded (and locked, on PostgreSQL) for one event."""

    id: int
    step: str
    data: dict[str, Any]
    version: int
    respondent_id: int | None
    language: str | None


class ConversationHotPath:
    """Claim, load-and-lock and save of conversations on the session's driver connection."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._driver: Any = None
        self._adapted: Any = None
        self._postgres = False

    async def _connection(self) -> Any:
        """The driver connection under the session, inside the session's transaction."""
        if self._driver is None:
            connection = await self.session.connection()
            # Checked out just now: reading it does no I/O (get_raw_connection would hop
            # through a greenlet for the same attribute).
            sync = connection.sync_connection
            raw = sync.connection if sync is not None else await connection.get_raw_connection()
            self._postgres = connection.dialect.name == "postgresql"
            if self._postgres:
                # SQLAlchemy's asyncpg adapter sends BEGIN lazily, before its own first
                # statement; start it now so these statements join the transaction it commits.
                adapted: Any = raw.dbapi_connection
                if not adapted._started:
                    await adapted._start_transaction()
                self._adapted = adapted
            self._driver = raw.driver_connection
        return self._driver

    async def claim(self, channel: str, update_key: str) -> bool:
        """Record a delivery; False if it was recorded before."""
        driver = await self._connection()
        now = utcnow()
        if self._postgres:
            status = await driver.execute(_PG_CLAIM, channel, update_key, now)
            return bool(status == "INSERT 0 1")
        return bool(
            await driver._execute(
                _lite_changes, driver._conn, _LITE_CLAIM, (channel, update_key, _lite_time(now))
            )
        )

    async def lock(self, channel: str, chat_key: str) -> LockedConversation | None:
        """The chat's conversation with its respondent's language, locked until the end."""
        driver = await self._connection()
        if self._postgres:
            return _locked(await driver.fetchrow(_PG_LOCK, channel, chat_key))
        return _locked(
            await driver._execute(_lite_row, driver._conn, _LITE_LOCK, (channel, chat_key))
        )

    async def claim_and_lock(
        self, channel: str, update_key: str, chat_key: str
    ) -> tuple[bool, LockedConversation | None]:
        """:meth:`claim` and :meth:`lock` together: one statement on PostgreSQL."""
        driver = await self._connection()
        if not self._postgres:
            claimed, row = await driver._execute(
                _lite_claim_and_lock,
                driver._conn,
                (channel, update_key, _lite_time(utcnow())),
                (channel, chat_key),
            )
            return claimed, _locked(row)
        row = await driver.fetchrow(_PG_CLAIM_AND_LOCK, channel, update_key, utcnow(), chat_key)
        found = tuple(row)
        return bool(found[0]), _locked(found[1:]) if found[1] is not None else None

    async def save_if_version(
        self,
        conversation_id: int,
        expected_version: int,
        *,
        step: str,
        data: dict[str, Any],
        respondent_id: int | None,
        with_commit: bool = False,
    ) -> bool:
        """Store a new state only if nobody saved since ``expected_version`` was read.

        ``with_commit``: this is the transaction's last statement and the unit of work's commit
        follows when it returns True; on PostgreSQL the COMMIT then travels with the save
        (after everything the session held was flushed) and the commit costs no round trip.
        False leaves the transaction uncommitted (aborted on PostgreSQL), to be rolled back.
        """
        driver = await self._connection()
        encoded, now = _encode(data), utcnow()
        if not self._postgres:
            return await driver._execute(
                _lite_changes,
                driver._conn,
                _LITE_SAVE,
                (
                    step,
                    encoded,
                    respondent_id,
                    expected_version + 1,
                    _lite_time(now),
                    conversation_id,
                    expected_version,
                ),
            )
        if not with_commit or _QUOTE_TAG in encoded or _QUOTE_TAG in step:
            status = await driver.execute(
                _PG_SAVE, step, encoded, respondent_id, expected_version, now, conversation_id
            )
            return bool(status == "UPDATE 1")
        if self.session.new or self.session.dirty or self.session.deleted:
            await self.session.flush()
        script = _PG_SAVE_AND_COMMIT.format(
            step=_quoted(step),
            data=_quoted(encoded),
            respondent_id="NULL" if respondent_id is None else int(respondent_id),
            expected=int(expected_version),
            now=_quoted(now.isoformat()),
            conversation_id=int(conversation_id),
        )
        try:
            await driver.execute(script)
        except Exception as error:  # asyncpg's error classes: told apart by their SQLSTATE
            if getattr(error, "sqlstate", None) == _DIVISION_BY_ZERO:
                return False
            raise
        self._transaction_ended()
        return True

    def _transaction_ended(self) -> None:
        """Tell SQLAlchemy's adapter and asyncpg that the transaction they began is over.

        Without this the unit of work's commit would send a second COMMIT (a round trip, and a
        warning from PostgreSQL), and asyncpg would take the next BEGIN for a nested one.
        """
        adapted = self._adapted
        if self._driver._top_xact is adapted._transaction:
            self._driver._top_xact = None
        adapted._transaction = None
        adapted._started = False

    async def insert_new(
        self,
        channel: str,
        chat_key: str,
        *,
        step: str,
        data: dict[str, Any],
        version: int,
        respondent_id: int | None,
    ) -> bool:
        """Insert a chat's first conversation; False if another process inserted it first."""
        driver = await self._connection()
        encoded, now = _encode(data), utcnow()
        if self._postgres:
            status = await driver.execute(
                _PG_INSERT, channel, chat_key, step, encoded, version, respondent_id, now
            )
            return bool(status == "INSERT 0 1")
        stamp = _lite_time(now)
        return await driver._execute(
            _lite_changes,
            driver._conn,
            _LITE_INSERT,
            (channel, chat_key, step, encoded, version, respondent_id, stamp, stamp),
        )


# These run in aiosqlite's thread (through its ``_execute``, the hand-over its own methods use).


def _lite_changes(
    connection: sqlite3.Connection, statement: str, parameters: tuple[Any, ...]
) -> bool:
    """Whether the statement changed exactly one row."""
    return bool(connection.execute(statement, parameters).rowcount == 1)


def _lite_row(connection: sqlite3.Connection, statement: str, parameters: tuple[Any, ...]) -> Any:
    return connection.execute(statement, parameters).fetchone()


def _lite_claim_and_lock(
    connection: sqlite3.Connection, claim: tuple[Any, ...], lock: tuple[Any, ...]
) -> tuple[bool, Any]:
    return _lite_changes(connection, _LITE_CLAIM, claim), _lite_row(connection, _LITE_LOCK, lock)


def _locked(row: Any) -> LockedConversation | None:
    if row is None:
        return None
    conversation_id, step, data, version, respondent_id, language = row
    decoded = json.loads(data) if isinstance(data, str | bytes) else data
    return LockedConversation(
        conversation_id, step, dict(decoded or {}), version, respondent_id, language
    )


def _encode(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _quoted(value: str) -> str:
    return f"{_QUOTE_TAG}{value}{_QUOTE_TAG}"


def _lite_time(moment: datetime) -> str:
    """A UTC time as SQLAlchemy stores it on SQLite (naive UTC, microseconds)."""
    return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
