"""The per-event statements on the driver connection: one transaction, same rows, both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC

from sqlalchemy import func, select

from storage.database import Database
from storage.models import Channel, Conversation, Language, ProcessedUpdate, Respondent
from storage.repositories.conversation_hot_path import ConversationHotPath
from storage.uow import UnitOfWork


async def _count(database: Database, model: type) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _server_notices(uow: UnitOfWork) -> list[str]:
    """The messages PostgreSQL sends the unit's connection from now on (none on SQLite)."""
    notices: list[str] = []
    connection = await uow.session.connection()
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        raw.driver_connection.add_log_listener(lambda _c, message: notices.append(str(message)))
    return notices


async def test_the_statements_roll_back_with_the_unit_of_work(database: Database) -> None:
    async with UnitOfWork(database.sessions) as uow:
        rows = ConversationHotPath(uow.session)
        assert await rows.claim("telegram", "1")
        assert await rows.insert_new(
            "telegram", "c1", step="idle", data={}, version=1, respondent_id=None
        )
    assert await _count(database, ProcessedUpdate) == 0
    assert await _count(database, Conversation) == 0


async def test_a_conversation_round_trips_with_the_orm(database: Database) -> None:
    async with UnitOfWork(database.sessions) as uow:
        respondent = Respondent(channel=Channel.TELEGRAM, subject_hash="h", language=Language.KK)
        uow.conversations.add_respondent(respondent)
        await uow.session.flush()
        rows = ConversationHotPath(uow.session)
        claimed, found = await rows.claim_and_lock("telegram", "7", "chat")
        assert claimed and found is None
        data = {"office": 3, "text": "Қызмет «жаман» </b>", "nested": {"a": [1, None]}}
        assert await rows.insert_new(
            "telegram", "chat", step="rating", data=data, version=1, respondent_id=respondent.id
        )
        assert not await rows.insert_new(
            "telegram", "chat", step="x", data={}, version=1, respondent_id=None
        )
        await uow.commit()
    async with UnitOfWork(database.sessions) as uow:
        rows = ConversationHotPath(uow.session)
        claimed, found = await rows.claim_and_lock("telegram", "7", "chat")
        assert not claimed  # a redelivery
        claimed, found = await rows.claim_and_lock("telegram", "8", "chat")
        assert claimed and found is not None
        assert (found.step, found.data, found.version) == ("rating", data, 1)
        assert found.language == "kk" and found.respondent_id is not None
        assert not await rows.save_if_version(
            found.id, 0, step="stale", data={}, respondent_id=None
        )
        assert await rows.save_if_version(
            found.id, 1, step="text", data={"n": 1}, respondent_id=found.respondent_id
        )
        await uow.commit()
    async with database.sessions() as session:
        conversation = await session.scalar(select(Conversation))
    assert conversation is not None
    assert (conversation.step, conversation.data, conversation.version) == ("text", {"n": 1}, 2)
    assert (
        conversation.updated_at.tzinfo is UTC and conversation.updated_at >= conversation.created_at
    )
    assert await _count(database, ProcessedUpdate) == 2


async def test_the_load_locks_the_conversation_until_the_unit_ends(database: Database) -> None:
    if database.dialect != "postgresql":
        return  # SQLite has no row locks: one writer holds the whole database instead
    async with UnitOfWork(database.sessions) as uow:
        await ConversationHotPath(uow.session).insert_new(
            "web", "chat", step="idle", data={}, version=1, respondent_id=None
        )
        await uow.commit()
    order: list[str] = []

    async def second() -> None:
        async with UnitOfWork(database.sessions) as uow:
            found = await ConversationHotPath(uow.session).lock("web", "chat")
            order.append(f"second saw version {found.version if found else None}")

    async with UnitOfWork(database.sessions) as uow:
        rows = ConversationHotPath(uow.session)
        found = await rows.lock("web", "chat")
        assert found is not None
        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        order.append("first saves")
        assert await rows.save_if_version(found.id, 1, step="x", data={}, respondent_id=None)
        await uow.commit()
    await waiting
    assert order == ["first saves", "second saw version 2"]


async def test_a_save_with_its_commit_takes_the_whole_unit_along(database: Database) -> None:
    async with UnitOfWork(database.sessions) as uow:
        await ConversationHotPath(uow.session).insert_new(
            "telegram", "chat", step="idle", data={}, version=1, respondent_id=None
        )
        await uow.commit()
    data = {"text": "it's \\ $1 $$ «ok»", "n": [1, None]}
    async with UnitOfWork(database.sessions) as uow:
        # Not flushed yet: the save's commit must take it along.
        uow.conversations.add_respondent(Respondent(channel=Channel.WEB, subject_hash="s"))
        rows = ConversationHotPath(uow.session)
        claimed, found = await rows.claim_and_lock("telegram", "1", "chat")
        assert claimed and found is not None
        notices = await _server_notices(uow)
        assert await rows.save_if_version(
            found.id, 1, step="rating", data=data, respondent_id=None, with_commit=True
        )
        await uow.commit()
    # One COMMIT only: a second would draw "there is no transaction in progress".
    assert notices == []
    assert await _count(database, Respondent) == 1

    # The next units (on the pooled connection just handed back) are transactions again.
    async with UnitOfWork(database.sessions) as uow:
        rows = ConversationHotPath(uow.session)
        claimed, found = await rows.claim_and_lock("telegram", "2", "chat")
        assert claimed and found is not None and found.version == 2
        assert not await rows.save_if_version(
            found.id, 1, step="stale", data={}, respondent_id=None, with_commit=True
        )
    async with UnitOfWork(database.sessions) as uow:
        rows = ConversationHotPath(uow.session)
        assert await rows.claim("telegram", "3")
    assert await _count(database, ProcessedUpdate) == 1  # updates 2 and 3 were rolled back
    async with database.sessions() as session:
        conversation = await session.scalar(select(Conversation))
    assert conversation is not None
    assert (conversation.step, conversation.data, conversation.version) == ("rating", data, 2)

    # A value holding the quoting tag is saved the ordinary way, to the same effect.
    tagged = {"text": "$pikir$'); DROP TABLE conversations; --"}
    async with UnitOfWork(database.sessions) as uow:
        rows = ConversationHotPath(uow.session)
        claimed, found = await rows.claim_and_lock("telegram", "4", "chat")
        assert found is not None
        assert await rows.save_if_version(
            found.id, 2, step="text", data=tagged, respondent_id=None, with_commit=True
        )
        await uow.commit()
    async with database.sessions() as session:
        conversation = await session.scalar(select(Conversation))
    assert conversation is not None
    assert (conversation.data, conversation.version) == (tagged, 3)
