"""What the core gives the web chat: the outcome's language and erasure, and a hook that writes
the chat's history in the core's own transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.conversation import (
    ChatMessage,
    Command,
    ConversationUnit,
    Event,
    Incoming,
    Outcome,
    Press,
    Start,
    Translator,
)
from storage.database import Database
from storage.models import Channel, Respondent
from storage.uow import UnitOfWork
from tests.webchat.conftest import chat_service


async def test_the_outcome_says_the_language_and_whether_data_was_erased(
    database: Database, translator: Translator
) -> None:
    service = chat_service(database, translator)
    chat = "a" * 64

    async def send(event: Event) -> Outcome:
        return await service.handle(Incoming("web", chat, chat, event, language_hint="ru"))

    first = await send(Start("AST-01"))
    assert first.language == "ru" and not first.erased
    # The device's language is taken; the welcome offers the others.
    buttons = [b.data for row in first.replies[0].buttons for b in row]
    chosen = await send(Press(next(data for data in buttons if data.endswith("|L|kk"))))
    assert chosen.language == "kk" and not chosen.erased
    asked = await send(Command("erase"))
    erased = await send(Press(asked.replies[-1].buttons[0][0].data))
    assert erased.erased
    assert erased.replies[-1].text == translator.text("kk", "erase.done")


async def test_before_commit_writes_land_with_the_state_or_not_at_all(
    database: Database, translator: Translator
) -> None:
    service = chat_service(database, translator)
    seen: list[Outcome] = []

    async def keep(unit: ConversationUnit, outcome: Outcome) -> None:
        seen.append(outcome)
        await unit.chat_history.add_messages("kept", [ChatMessage("citizen", "one")])

    async def fail(unit: ConversationUnit, outcome: Outcome) -> None:
        await unit.chat_history.add_messages("lost", [ChatMessage("citizen", "two")])
        raise RuntimeError("the adapter failed before the commit")

    kept = await service.handle(
        Incoming("web", "kept", "kept", Start("AST-01")), before_commit=keep
    )
    assert seen == [kept] and kept.replies
    await service.handle(Incoming("web", "lost", "lost", Start("AST-01")))
    async with UnitOfWork(database.sessions) as uow:
        before = await uow.conversations.get(Channel.WEB, "lost")
    assert before is not None
    language = kept.replies[-1].buttons[0][0].data
    with pytest.raises(RuntimeError):
        await service.handle(Incoming("web", "lost", "lost", Press(language)), before_commit=fail)

    # A first event that fails leaves nothing either: its conversation and respondent rows
    # are written in savepoints, which must not commit on their own (SQLite's driver would).
    with pytest.raises(RuntimeError):
        await service.handle(Incoming("web", "new", "new", Start("AST-01")), before_commit=fail)

    async with UnitOfWork(database.sessions) as uow:
        assert [m.text for m in await uow.web_chat.history("kept", 10)] == ["one"]
        assert await uow.web_chat.history("lost", 10) == []
        after = await uow.conversations.get(Channel.WEB, "lost")
        assert await uow.conversations.get(Channel.WEB, "new") is None
        assert await uow.web_chat.history("new", 10) == []
        respondents = await uow.session.scalar(select(func.count()).select_from(Respondent))
    assert after is not None and (after.step, after.version) == (before.step, before.version)
    assert respondents == 2  # "kept" and "lost"
