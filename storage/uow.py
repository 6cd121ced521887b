"""The unit of work: one session and its repositories for one event.

Repositories add, change and query; only the unit of work commits. Leaving the ``async with``
block without :meth:`UnitOfWork.commit` rolls everything back.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories.aggregates import AggregateRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.cases import CaseRepository
from storage.repositories.conversations import ConversationRepository
from storage.repositories.feedback import FeedbackRepository
from storage.repositories.heartbeats import HeartbeatRepository
from storage.repositories.jobs import JobRunRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.reference import ReferenceRepository
from storage.repositories.staff import StaffRepository
from storage.repositories.web_chat import WebChatRepository


class UnitOfWork:
    """``async with UnitOfWork(db.sessions) as uow: ...; await uow.commit()``."""

    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.reference = ReferenceRepository(self.session)
        self.feedback = FeedbackRepository(self.session)
        self.cases = CaseRepository(self.session)
        self.conversations = ConversationRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.staff = StaffRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.web_chat = WebChatRepository(self.session)
        self.aggregates = AggregateRepository(self.session)
        self.job_runs = JobRunRepository(self.session)
        self.heartbeats = HeartbeatRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back what was not committed and detaches loaded objects without
        # expiring them, so callers may still read what they loaded.
        await self.session.close()

    async def commit(self) -> None:
        """Make everything done in this unit of work durable."""
        await self.session.commit()

    async def rollback(self) -> None:
        """Undo everything not yet committed."""
        await self.session.rollback()
