"""Random sequences of events never break the conversation (hypothesis, real SQLite store)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.conversation import Command, Outcome, Photo, Press, Start, Step, Text, Translator
from bot.conversation.state import Draft
from storage.database import Database
from storage.migrate import upgrade
from storage.models import Conversation, Feedback
from storage.reference_data import load_reference_data
from storage.uow import UnitOfWork
from tests.conftest import reset_database
from tests.conversation.conftest import Citizen, make_service

COMMANDS = ["help", "status", "corruption", "language", "cancel", "back", "erase", "nope"]
texts = st.text(min_size=0, max_size=40) | st.sampled_from(["1", "5", "astana", "ye", "/start"])


@pytest.fixture(scope="module")
def prepared_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file for all examples; each example empties it first."""
    path = tmp_path_factory.mktemp("property") / "property.db"

    async def prepare() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade(database)
        async with UnitOfWork(database.sessions) as uow:
            await load_reference_data(uow)
            await uow.commit()
        await database.dispose()

    asyncio.run(prepare())
    return path


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_events_keep_the_invariants(data: st.DataObject, prepared_sqlite: Path) -> None:
    asyncio.run(_run(data, prepared_sqlite))


async def _run(data: st.DataObject, path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await reset_database(database)
        citizen = Citizen(make_service(database, Translator.load()))
        seen_buttons: list[str] = []
        receipts: list[str] = []
        started_since_receipt = True
        last_key = "0"
        for number in range(data.draw(st.integers(5, 35), label="length")):
            kind = data.draw(
                st.sampled_from(
                    ["start", "text", "command", "photo", "press", "press", "press", "old", "dup"]
                )
            )
            key = f"k{number}"
            if kind == "start":
                event = Start(data.draw(st.sampled_from([None, "AST-01", "bad", "ALA-01"])))
            elif kind == "text":
                event = Text(data.draw(texts))
            elif kind == "command":
                event = Command(data.draw(st.sampled_from(COMMANDS)), data.draw(texts))
            elif kind == "photo":
                event = Photo("f", data.draw(st.integers(-1, 20_000_000)), caption=None)
            elif kind == "press" and citizen.outcomes and citizen.last.buttons:
                event = Press(data.draw(st.sampled_from(citizen.buttons()))[1])
            elif kind == "old" and seen_buttons:
                event = Press(data.draw(st.sampled_from(seen_buttons)))
            elif kind == "dup":
                event, key = Text("again"), last_key
            else:
                event = Press(data.draw(st.text(max_size=70)))
            if isinstance(event, Start) or (
                isinstance(event, Command) and event.name == "corruption"
            ):
                started_since_receipt = True
            if isinstance(event, Press) and event.data.split("|")[1:2] == ["g"]:
                started_since_receipt = True
            outcome: Outcome = await citizen.send(event, update_key=key)
            last_key = key
            if outcome.duplicate:
                assert not outcome.submitted_ref and len(outcome.replies) <= 1  # the question
                continue
            assert outcome.replies, f"no answer to {event!r}"
            for reply in outcome.replies:
                assert reply.text.strip()
                for row in reply.buttons:
                    for button in row:
                        assert len(button.data.encode()) <= 64
                        seen_buttons.append(button.data)
            if outcome.submitted_ref:
                assert started_since_receipt, "two receipts for one conversation"
                started_since_receipt = False
                receipts.append(outcome.submitted_ref)
        async with database.sessions() as session:
            conversation = await session.scalar(select(Conversation))
            refs = list((await session.scalars(select(Feedback.ref))).all())
        assert sorted(refs) == sorted(receipts)
        assert conversation is not None
        assert Step(conversation.step) in Step
        assert Draft.from_data(conversation.data).to_data() == conversation.data
    finally:
        await database.dispose()
