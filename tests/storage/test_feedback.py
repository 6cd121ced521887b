"""Recording feedback: triage, timestamps, references, redelivery guard — on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.bootstrap import has_feedback
from storage.database import Database
from storage.intake import FeedbackDraft, TagScores, build_feedback, due_time, month_of, triage
from storage.models import CaseStatus, Channel, Feedback, Language
from storage.repositories.conversation_hot_path import ConversationHotPath
from storage.repositories.feedback import effective_tags, normalise_reference
from storage.uow import UnitOfWork


def test_triage_orders_by_severity() -> None:
    assert triage(frozenset(), 5, direct=True) == 0
    assert triage(frozenset({"delay", "corruption"}), 4, direct=False) == 0
    assert triage(frozenset({"delay", "hidden_service"}), 4, direct=False) == 1
    assert triage(frozenset({"delay"}), 5, direct=False) == 5
    # The online channels' failures flag a case too, least severe of the tags.
    assert triage(frozenset({"digital_service", "delay"}), 5, direct=False) == 5
    assert triage(frozenset({"digital_service"}), 5, direct=False) == 6
    assert triage(frozenset(), 2, direct=False) == 7
    assert triage(frozenset(), 3, direct=False) is None
    assert triage(frozenset(), None, direct=False) is None


def test_month_is_taken_in_the_agency_time_zone() -> None:
    # 20:30 UTC on 31 March is already 1 April in Astana (UTC+5).
    assert month_of(datetime(2026, 3, 31, 20, 30, tzinfo=UTC)) == "2026-04"
    assert month_of(datetime(2026, 3, 31, 18, 30, tzinfo=UTC)) == "2026-03"


def test_reference_numbers_forgive_typing() -> None:
    assert normalise_reference(" pk-7k3m 9qx2 ") == "PK-7K3M9QX2"
    assert normalise_reference("PKO1") == "PK-01"


async def _office_id(db: Database, code: str = "AST-01") -> int:
    async with UnitOfWork(db.sessions) as uow:
        office = await uow.reference.office_by_code(code)
        assert office is not None
        return office.id


async def test_flagged_feedback_gets_a_case_with_due_time(database: Database) -> None:
    created = datetime(2026, 5, 4, 10, 0, tzinfo=timezone(timedelta(hours=5)))
    draft = FeedbackDraft(
        channel=Channel.TELEGRAM,
        language=Language.KK,
        office_id=await _office_id(database),
        region_code="astana",
        rating=4,
        text="  шай-пұл сұрады  ",
        created_at=created,
        criteria={"politeness": True, "waiting": None},
    )
    tags = TagScores({"corruption": 0.93, "delay": 0.2}, frozenset({"corruption"}), "m1")
    async with UnitOfWork(database.sessions) as uow:
        feedback = build_feedback(draft, tags)
        uow.feedback.add(feedback)
        await uow.commit()
        ref = feedback.ref
    async with UnitOfWork(database.sessions) as uow:
        stored = await uow.feedback.by_ref(ref)
        assert stored is not None
        assert stored.text == "шай-пұл сұрады" and stored.has_text
        assert stored.crit_politeness is True and stored.crit_waiting is None
        assert stored.created_at == created and stored.created_at.tzinfo is not None
        assert stored.case is not None and stored.case.status == CaseStatus.NEW
        assert stored.case.priority == 0
        assert stored.case.due_at == due_time(created, 0)
        assert stored.case.due_at - created == timedelta(hours=24)
        current = effective_tags(stored.tags)
        assert current["corruption"]["present"] and not current["delay"]["present"]


async def test_praise_is_not_flagged(database: Database) -> None:
    draft = FeedbackDraft(channel=Channel.WEB, language=Language.EN, rating=5, text="great")
    async with UnitOfWork(database.sessions) as uow:
        feedback = build_feedback(draft, TagScores({"delay": 0.1}, frozenset(), "m1"))
        assert feedback.case is None
        uow.feedback.add(feedback)
        await uow.commit()


async def test_naive_timestamps_are_refused(database: Database) -> None:
    draft = FeedbackDraft(channel=Channel.WEB, language=Language.EN, rating=5)
    async with UnitOfWork(database.sessions) as uow:
        feedback = build_feedback(draft, None)
        feedback.created_at = datetime(2026, 1, 1)
        uow.feedback.add(feedback)
        with pytest.raises(Exception, match="naive datetime"):
            await uow.commit()


async def test_rating_out_of_range_is_rejected_by_the_database(database: Database) -> None:
    draft = FeedbackDraft(channel=Channel.WEB, language=Language.EN, rating=9)
    async with UnitOfWork(database.sessions) as uow:
        uow.feedback.add(build_feedback(draft, None))
        with pytest.raises(Exception, match=r"(?i)check|constraint"):
            await uow.commit()


async def test_an_update_is_claimed_once(database: Database) -> None:
    async with UnitOfWork(database.sessions) as uow:
        rows = ConversationHotPath(uow.session)
        assert await rows.claim("telegram", "42")
        assert not await rows.claim("telegram", "42")
        assert await rows.claim("web", "42")
        await uow.commit()
    async with UnitOfWork(database.sessions) as uow:
        assert not await ConversationHotPath(uow.session).claim("telegram", "42")


async def test_uncommitted_work_is_rolled_back(database: Database) -> None:
    async with UnitOfWork(database.sessions) as uow:
        uow.feedback.add(build_feedback(FeedbackDraft(Channel.WEB, Language.RU, rating=3), None))
    async with UnitOfWork(database.sessions) as uow:
        assert (await uow.session.scalars(select(Feedback))).all() == []


async def test_an_install_knows_whether_any_feedback_is_stored(database: Database) -> None:
    assert await has_feedback(database) is False
    async with UnitOfWork(database.sessions) as uow:
        uow.feedback.add(
            build_feedback(FeedbackDraft(channel=Channel.WEB, language=Language.RU, rating=5), None)
        )
        await uow.commit()
    assert await has_feedback(database) is True
