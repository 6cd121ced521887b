"""The conversation core's unit of work on the database: one ``storage`` UnitOfWork per event.

The statements every event runs (claim, load-and-lock, save) go through
:class:`~storage.repositories.conversation_hot_path.ConversationHotPath` on the session's driver
connection; everything else through the repositories, in the same transaction. The core claims
a delivery before it names the chat, so the claim is held back and sent with the load, in one
statement: a redelivery found there is reported as a :class:`StateConflict`, and the core's
retry, told by :class:`SqlUnits` that the key collided, claims it alone and sees the duplicate.
Likewise the save of an existing conversation is held back to the commit and sent with it (one
round trip on PostgreSQL); a version found changed there is a :class:`StateConflict` as well,
raised by the unit's commit instead of its save, and the core retries the event the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cachetools import LRUCache
from pydantic import BaseModel
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation.ports import (
    CaseState,
    Choice,
    OfficeInfo,
    Recorded,
    RespondentInfo,
    StateConflict,
    StoredState,
    Submission,
    TagResult,
)
from bot.persistence.chat_history import SqlChatHistory
from bot.persistence.reference_cache import Named, ReferenceCache, Snapshot
from bot.settings import ReportSettings, SlaSettings, TelegramSettings, sla_hours
from storage.files import remove_stored
from storage.intake import (
    AttachmentDraft,
    FeedbackDraft,
    TagScores,
    build_feedback,
)
from storage.models import Case, Channel, Language
from storage.repositories.conversation_hot_path import ConversationHotPath, LockedConversation
from storage.uow import UnitOfWork

# Collided deliveries remembered for their retry; more than are ever in flight at once.
_COLLISIONS_KEPT = 4096


def pseudonym(secret_key: bytes, channel: str, user_key: str) -> str:
    """The keyed hash that stands for a channel's user id; the id itself is never stored."""
    return hmac.new(secret_key, f"{channel}:{user_key}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class StoreConfig:
    """What the store needs: the key of the pseudonyms and its parts of the settings as they
    are (:mod:`bot.settings`, where every default lives)."""

    secret_key: bytes
    # The staff chat, where a flagged feedback's alert goes.
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    # The agency's time zone, for a case's due time.
    reports: ReportSettings = field(default_factory=ReportSettings)
    sla: BaseModel = field(default_factory=SlaSettings)
    # Where stored photos live (their locations are relative to it); None keeps files on erase.
    data_dir: Path | None = None

    @property
    def staff_chat_id(self) -> str | None:
        """The staff chat, if there is one."""
        return self.telegram.staff_chat_id

    @property
    def timezone(self) -> str:
        """The agency's time zone."""
        return self.reports.timezone

    @property
    def sla_hours(self) -> Mapping[str, int]:
        """Hours until a case is overdue, by tag (and ``low_rating``)."""
        return sla_hours(self.sla)


class SqlUnits:
    """The :class:`~bot.conversation.ports.UnitFactory` on a database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: StoreConfig,
        reference: ReferenceCache | None = None,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self.reference = reference or ReferenceCache()
        # Deliveries whose claim collided inside a load: their retry claims on its own.
        self._collided: LRUCache[tuple[str, str], bool] = LRUCache(maxsize=_COLLISIONS_KEPT)

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[SqlConversationUnit]:
        async with UnitOfWork(self._sessions) as uow:
            yield SqlConversationUnit(uow, self._config, self.reference, self)

    def note_collision(self, channel: str, update_key: str) -> None:
        """Remember that this delivery was found claimed, for the event's retry."""
        self._collided[(channel, update_key)] = True

    def collided(self, channel: str, update_key: str) -> bool:
        """Whether this delivery's claim collided before (forgotten once asked)."""
        return self._collided.pop((channel, update_key), False)


class SqlConversationUnit:
    """Implements :class:`~bot.conversation.ports.ConversationUnit` with the repositories."""

    def __init__(
        self,
        uow: UnitOfWork,
        config: StoreConfig,
        reference: ReferenceCache,
        units: SqlUnits | None = None,
    ) -> None:
        self._uow = uow
        self._config = config
        self._reference = reference
        self._units = units
        self._rows = ConversationHotPath(uow.session)
        self._history = SqlChatHistory(uow.web_chat)
        self._conversation: LockedConversation | None = None
        # A claim not sent yet: it goes with the load, in the same statement.
        self._pending_claim: tuple[str, str] | None = None
        # The conversation's new state, saved together with the commit.
        self._pending_save: tuple[str, int, StoredState, int | None] | None = None
        # Photos of an erasure, removed from disk only once the erasure is committed.
        self._files_to_remove: list[str] = []

    @property
    def chat_history(self) -> SqlChatHistory:
        """The chats' histories in this unit's transaction (the web chat keeps one)."""
        return self._history

    async def _snapshot(self) -> Snapshot:
        return await self._reference.get(self._uow.reference)

    async def claim_update(self, channel: str, update_key: str) -> bool:
        key = (Channel(channel).value, update_key[:64])
        if self._units is not None and self._units.collided(*key):
            return await self._rows.claim(*key)
        self._pending_claim = key
        return True

    async def _send_pending_claim(self) -> None:
        """Send a claim no load took along; a redelivery is a conflict (see the module)."""
        if self._pending_claim is not None:
            claimed = await self._rows.claim(*self._pending_claim)
            self._after_claim(claimed)

    def _after_claim(self, claimed: bool) -> None:
        key, self._pending_claim = self._pending_claim, None
        if not claimed and key is not None:
            if self._units is not None:
                self._units.note_collision(*key)
            raise StateConflict(key[1])

    async def load_state(self, channel: str, chat_key: str) -> StoredState | None:
        channel = Channel(channel).value
        if self._pending_claim is not None and self._pending_claim[0] == channel:
            claimed, found = await self._rows.claim_and_lock(
                channel, self._pending_claim[1], chat_key
            )
            self._after_claim(claimed)
        else:
            await self._send_pending_claim()
            found = await self._rows.lock(channel, chat_key)
        self._conversation = found
        if found is None:
            return None
        respondent = (
            RespondentInfo(found.respondent_id, found.language)
            if found.respondent_id is not None
            else None
        )
        return StoredState(found.step, found.data, found.version, respondent)

    async def save_state(
        self, channel: str, chat_key: str, state: StoredState, respondent_id: int | None
    ) -> None:
        await self._send_pending_claim()
        if self._conversation is None:
            inserted = await self._rows.insert_new(
                Channel(channel).value,
                chat_key,
                step=state.step,
                data=state.data,
                version=state.version,
                respondent_id=respondent_id,
            )
            if not inserted:
                raise StateConflict(chat_key)
            return
        # Sent at the commit, with it (see ConversationHotPath.save_if_version).
        self._pending_save = (chat_key, self._conversation.id, state, respondent_id)

    async def respondent(self, channel: str, user_key: str) -> RespondentInfo:
        subject = pseudonym(self._config.secret_key, channel, user_key)
        respondent = await self._uow.conversations.get_or_add_respondent(Channel(channel), subject)
        language = respondent.language.value if respondent.language else None
        return RespondentInfo(respondent.id, language)

    async def set_language(self, respondent_id: int, language: str) -> None:
        respondent = await self._uow.conversations.respondent_by_id(respondent_id)
        if respondent is not None:
            respondent.language = Language(language)

    async def regions(self, language: str) -> Sequence[Choice]:
        return [Choice(r.key, r.name(language)) for r in (await self._snapshot()).regions]

    async def offices(self, region_code: str, language: str) -> Sequence[Choice]:
        offices = (await self._snapshot()).offices_of(region_code)
        return [Choice(o.key, o.name(language)) for o in offices]

    async def search_offices(self, needle: str, language: str, limit: int) -> Sequence[Choice]:
        found = (await self._snapshot()).search_offices(needle, limit)
        return [Choice(o.key, o.name(language)) for o in found]

    async def office_by_code(self, code: str, language: str) -> OfficeInfo | None:
        office = (await self._snapshot()).office_codes.get(code.strip().upper())
        return _office_info(office, language)

    async def office(self, office_id: int, language: str) -> OfficeInfo | None:
        return _office_info((await self._snapshot()).offices.get(str(office_id)), language)

    async def categories(self, language: str) -> Sequence[Choice]:
        return [Choice(c.key, c.name(language)) for c in (await self._snapshot()).categories]

    async def services(self, category_code: str, language: str) -> Sequence[Choice]:
        services = (await self._snapshot()).services_of(category_code)
        return [Choice(s.key, s.name(language)) for s in services]

    async def record(self, submission: Submission) -> Recorded:
        tags = submission.tags
        draft = FeedbackDraft(
            channel=Channel(submission.channel),
            language=Language(submission.language),
            office_id=submission.office_id,
            region_code=submission.region_code,
            service_id=await self._known_service(submission.service_id),
            rating=submission.rating,
            criteria=dict(submission.criteria),
            text=submission.text,
            is_direct_report=submission.is_direct_report,
            consent_contact=submission.consent_contact,
            respondent_id=submission.respondent_id,
            attachments=[
                AttachmentDraft(p.file_ref, p.content_type, p.size) for p in submission.photos
            ],
        )
        scores = as_tag_scores(tags) if tags is not None else None
        feedback = build_feedback(
            draft, scores, timezone=self._config.timezone, sla_hours=self._config.sla_hours
        )
        self._uow.feedback.add(feedback)
        if submission.reply_address is not None:
            respondent = await self._uow.conversations.respondent_by_id(submission.respondent_id)
            if respondent is not None:
                respondent.reply_address = submission.reply_address
        await self._uow.feedback.flush()
        # build_feedback sets ``case`` only when flagged; reading an unset one would lazy-load.
        case = inspect(feedback).attrs.case.loaded_value
        return Recorded(feedback.ref, case.id if isinstance(case, Case) else None)

    async def _known_service(self, service_id: int | None) -> int | None:
        if service_id is None or str(service_id) not in (await self._snapshot()).services:
            return None
        return service_id

    async def alert_staff(self, text: str, case_id: int | None, ref: str) -> None:
        if not self._config.staff_chat_id:
            return
        self._uow.outbox.enqueue(
            channel=Channel.TELEGRAM,
            address=self._config.staff_chat_id,
            kind="staff_alert",
            text=text,
            case_id=case_id,
            dedupe_key=f"staff_alert:{ref}",
        )

    async def case_state(self, ref: str) -> CaseState | None:
        feedback = await self._uow.feedback.by_ref(ref)
        if feedback is None:
            return None
        case = feedback.case
        if case is None:
            return CaseState(feedback.ref, "received", has_answer=False)
        return CaseState(feedback.ref, case.status.value, has_answer=case.answered_at is not None)

    async def erase_respondent(self, respondent_id: int) -> int:
        erasure = await self._uow.feedback.erase_respondent(respondent_id)
        await self._uow.conversations.delete_respondent(respondent_id)
        self._files_to_remove.extend(erasure.locations)
        return erasure.feedbacks

    async def commit(self) -> None:
        await self._send_pending_claim()
        if self._pending_save is not None:
            chat_key, conversation_id, state, respondent_id = self._pending_save
            self._pending_save = None
            saved = await self._rows.save_if_version(
                conversation_id,
                state.version - 1,
                step=state.step,
                data=state.data,
                respondent_id=respondent_id,
                with_commit=True,
            )
            if not saved:
                raise StateConflict(chat_key)
        await self._uow.commit()
        if self._files_to_remove and self._config.data_dir is not None:
            # A file left by a crash here is found by the retention job's sweep.
            await asyncio.to_thread(remove_stored, self._config.data_dir, self._files_to_remove)
        self._files_to_remove = []


def _office_info(office: Named | None, language: str) -> OfficeInfo | None:
    if office is None:
        return None
    return OfficeInfo(int(office.key), office.code, office.group, office.name(language))


def as_tag_scores(result: TagResult) -> TagScores:
    """The core's tagger answer in the form storage records it."""
    return TagScores(dict(result.scores), frozenset(result.labels), result.model_version)
