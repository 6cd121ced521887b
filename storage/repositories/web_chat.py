"""The history of web chats: what each browser's conversation has shown so far."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Language, WebAuthor, WebMessage
from storage.repositories.driver_connection import driver_connection

_PG_ADD_ALL = (
    "INSERT INTO web_messages (chat_key, author, text, buttons, expects_text, language, "
    "created_at) SELECT m.chat_key, m.author, m.text, m.buttons::json, m.expects_text, "
    "m.language, m.created_at FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
    "$5::bool[], $6::text[], $7::timestamptz[]) WITH ORDINALITY "
    "AS m(chat_key, author, text, buttons, expects_text, language, created_at, position) "
    "ORDER BY m.position RETURNING id"
)


def _json(value: Any) -> str:
    """A JSON column's text; ``None`` is the JSON ``null``, as SQLAlchemy stores it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class WebChatRepository:
    """Adds and reads the messages of web chats, keyed by the conversation's ``chat_key``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert messages (column values, the same keys in each) in one statement; their ids.

        Every web chat step adds its messages, so on PostgreSQL the statement goes straight to
        the driver: the rows as one array per column, ids returned in the rows' order.
        """
        if not rows:
            return []
        driver, postgres = await driver_connection(self.session)
        if postgres:
            inserted = await driver.fetch(
                _PG_ADD_ALL,
                [row["chat_key"] for row in rows],
                [row["author"].value for row in rows],
                [row["text"] for row in rows],
                [_json(row.get("buttons")) for row in rows],
                [bool(row.get("expects_text", False)) for row in rows],
                [row["language"].value if row.get("language") else None for row in rows],
                [row["created_at"] for row in rows],
            )
            # Ids come from the sequence in the rows' order (ORDER BY below), so ascending ids
            # are the rows in order, whatever other transactions insert meanwhile.
            return sorted(record[0] for record in inserted)
        result = await self.session.execute(
            insert(WebMessage).returning(WebMessage.id, sort_by_parameter_order=True),
            list(rows),
        )
        return list(result.scalars())

    async def history(self, chat_key: str, limit: int) -> Sequence[WebMessage]:
        """The chat's last ``limit`` messages, oldest first."""
        newest = (
            await self.session.scalars(
                select(WebMessage)
                .where(WebMessage.chat_key == chat_key)
                .order_by(WebMessage.id.desc())
                .limit(limit)
            )
        ).all()
        return list(reversed(newest))

    async def latest_from_bot(self, chat_key: str) -> WebMessage | None:
        """The chat's most recent question or answer from the conversation."""
        return await self.session.scalar(
            select(WebMessage)
            .where(WebMessage.chat_key == chat_key, WebMessage.author == WebAuthor.BOT)
            .order_by(WebMessage.id.desc())
            .limit(1)
        )

    async def language(self, chat_key: str) -> Language | None:
        """The language the chat last talked in, if it has talked at all."""
        return await self.session.scalar(
            select(WebMessage.language)
            .where(
                WebMessage.chat_key == chat_key,
                WebMessage.author == WebAuthor.BOT,
                WebMessage.language.is_not(None),
            )
            .order_by(WebMessage.id.desc())
            .limit(1)
        )

    async def add_staff_reply(
        self, chat_key: str, text: str, language: Language | None, outbox_id: int
    ) -> bool:
        """Add a staff reply delivered from the outbox; False if that row was delivered before."""
        message = WebMessage(
            chat_key=chat_key,
            author=WebAuthor.STAFF,
            text=text,
            language=language,
            outbox_id=outbox_id,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(message)
        except IntegrityError:
            return False
        return True

    async def staff_replies_since(
        self, since: datetime, chat_keys: Collection[str], limit: int = 500
    ) -> Sequence[WebMessage]:
        """Staff replies to these chats written after ``since``, oldest first."""
        if not chat_keys:
            return []
        return (
            await self.session.scalars(
                select(WebMessage)
                .where(
                    WebMessage.chat_key.in_(list(chat_keys)),
                    WebMessage.author == WebAuthor.STAFF,
                    WebMessage.created_at > since,
                )
                .order_by(WebMessage.id)
                .limit(limit)
            )
        ).all()

    async def erase_chat(self, chat_key: str) -> int:
        """Forget a chat's history (the citizen erased their data); how many messages."""
        result = await self.session.execute(
            delete(WebMessage).where(WebMessage.chat_key == chat_key)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete messages older than ``cutoff`` (retention); how many."""
        result = await self.session.execute(
            delete(WebMessage).where(WebMessage.created_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)
