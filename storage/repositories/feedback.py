"""Feedback rows, their tags and attachments, and the cases opened for them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Attachment, Feedback, Tag, TagSource
from storage.types import utcnow
from vocabulary import effective as rule

# Crockford's alphabet without look-alikes (no I, L, O, U) so a reference can be read aloud.
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    """A fresh random reference number such as ``PK-7K3M9QX2``."""
    return "PK-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))


def normalise_reference(raw: str) -> str:
    """Turn what a citizen typed (any case, spaces, O for 0) into the stored form."""
    cleaned = "".join(ch for ch in raw.upper() if ch.isalnum())
    cleaned = cleaned.removeprefix("PK")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    return "PK-" + cleaned


@dataclass(frozen=True)
class Erasure:
    """What erasing a respondent touched: feedbacks, and the photos' stored locations."""

    feedbacks: int
    locations: list[str]


class FeedbackRepository:
    """Adds feedback and reads it back."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, feedback: Feedback) -> None:
        """Start tracking a new feedback (with its tags, attachments and case)."""
        self.session.add(feedback)

    async def flush(self) -> None:
        """Send pending inserts so generated ids are known, without committing."""
        await self.session.flush()

    async def any_stored(self) -> bool:
        """True once any feedback is stored."""
        return await self.session.scalar(select(Feedback.id).limit(1)) is not None

    async def by_ref(self, ref: str) -> Feedback | None:
        """The feedback with this reference number, with its case loaded."""
        return await self.session.scalar(
            select(Feedback)
            .options(selectinload(Feedback.case), selectinload(Feedback.tags))
            .where(Feedback.ref == normalise_reference(ref))
        )

    async def stream_month(self, month: str, *, batch_size: int = 1000) -> AsyncIterator[Feedback]:
        """Every feedback of a month in id order, with office, service, tags and case loaded."""
        last_id = 0
        while True:
            query: Select[tuple[Feedback]] = (
                select(Feedback)
                .options(
                    selectinload(Feedback.office),
                    selectinload(Feedback.service),
                    selectinload(Feedback.tags),
                    selectinload(Feedback.case),
                )
                .where(Feedback.month == month, Feedback.id > last_id)
                .order_by(Feedback.id)
                .limit(batch_size)
            )
            rows = (await self.session.scalars(query)).all()
            if not rows:
                return
            for row in rows:
                yield row
            last_id = rows[-1].id

    async def erase_respondent(self, respondent_id: int) -> Erasure:
        """Erase a respondent's free text and attachments and unlink their feedback.

        Ratings, criteria, tags and cases stay, so the aggregates keep their numbers
        (``has_text`` still says a text was given). Returns how many feedbacks were touched and
        where their photos were, so the caller removes the files once this is committed.
        """
        now = utcnow()
        ids = (
            await self.session.scalars(
                select(Feedback.id).where(Feedback.respondent_id == respondent_id)
            )
        ).all()
        if not ids:
            return Erasure(0, [])
        locations = (
            await self.session.scalars(
                select(Attachment.location).where(
                    Attachment.feedback_id.in_(ids),
                    Attachment.erased_at.is_(None),
                    Attachment.location.is_not(None),
                )
            )
        ).all()
        await self.session.execute(
            update(Attachment)
            .where(Attachment.feedback_id.in_(ids), Attachment.erased_at.is_(None))
            .values(location=None, erased_at=now)
        )
        await self.session.execute(
            update(Feedback)
            .where(Feedback.id.in_(ids))
            .values(text=None, text_erased_at=now, respondent_id=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return Erasure(len(ids), [location for location in locations if location])

    async def erase_content(self, feedback_id: int) -> Erasure:
        """Erase one feedback's free text and photos (an administrator's deletion); the
        ratings, tags and case stay, so the figures keep their numbers."""
        now = utcnow()
        locations = (
            await self.session.scalars(
                select(Attachment.location).where(
                    Attachment.feedback_id == feedback_id,
                    Attachment.erased_at.is_(None),
                    Attachment.location.is_not(None),
                )
            )
        ).all()
        await self.session.execute(
            update(Attachment)
            .where(Attachment.feedback_id == feedback_id, Attachment.erased_at.is_(None))
            .values(location=None, erased_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(
            update(Feedback)
            .where(Feedback.id == feedback_id)
            .values(text=None, text_erased_at=now, updated_at=Feedback.updated_at)
            .execution_options(synchronize_session=False)
        )
        return Erasure(int(getattr(result, "rowcount", 0) or 0), [loc for loc in locations if loc])

    async def erase_old_texts(self, cutoff: datetime, now: datetime, *, limit: int) -> int:
        """Erase the free text of up to ``limit`` feedbacks created before ``cutoff``; how many.

        ``updated_at`` is kept: erasing text changes no figure, so no month needs a refresh.
        """
        ids = (
            await self.session.scalars(
                select(Feedback.id)
                .where(Feedback.created_at < cutoff, Feedback.text.is_not(None))
                .limit(limit)
            )
        ).all()
        if ids:
            await self.session.execute(
                update(Feedback)
                .where(Feedback.id.in_(ids))
                .values(text=None, text_erased_at=now, updated_at=Feedback.updated_at)
                .execution_options(synchronize_session=False)
            )
        return len(ids)

    async def erase_old_attachments(
        self, cutoff: datetime, now: datetime, *, limit: int
    ) -> list[str | None]:
        """Erase up to ``limit`` attachments created before ``cutoff``; where their files were
        (one entry per attachment), so the caller removes them once this is committed."""
        rows = (
            await self.session.execute(
                select(Attachment.id, Attachment.location)
                .where(Attachment.created_at < cutoff, Attachment.erased_at.is_(None))
                .limit(limit)
            )
        ).all()
        if rows:
            await self.session.execute(
                update(Attachment)
                .where(Attachment.id.in_([row.id for row in rows]))
                .values(location=None, erased_at=now)
                .execution_options(synchronize_session=False)
            )
        return [row.location for row in rows]

    async def live_attachment_locations(self) -> list[str]:
        """Where the photos of every attachment not yet erased are stored."""
        return [
            location
            for location in await self.session.scalars(
                select(Attachment.location).where(
                    Attachment.erased_at.is_(None), Attachment.location.is_not(None)
                )
            )
            if location
        ]

    async def known_source_ids(self, source_ids: Sequence[str]) -> set[str]:
        """Which of ``source_ids`` are already stored."""
        known: set[str] = set()
        # In chunks: both drivers limit the number of bound parameters of one statement.
        for start in range(0, len(source_ids), 1000):
            chunk = source_ids[start : start + 1000]
            query = select(Feedback.source_id).where(Feedback.source_id.in_(chunk))
            known.update(value for value in (await self.session.scalars(query)).all() if value)
        return known

    async def staff_corrected(self, *, limit: int) -> Sequence[Feedback]:
        """Up to ``limit`` feedbacks with text that staff re-tagged, in id order, tags loaded."""
        corrected = select(Tag.feedback_id).where(Tag.source == TagSource.STAFF).distinct()
        return (
            await self.session.scalars(
                select(Feedback)
                .options(selectinload(Feedback.tags))
                .where(Feedback.id.in_(corrected), Feedback.text.is_not(None))
                .order_by(Feedback.id)
                .limit(limit)
            )
        ).all()


def effective_tags(tags: Sequence[Tag]) -> dict[str, dict[str, Any]]:
    """The tags that count for a feedback (:func:`vocabulary.effective_tags`'s rule).

    Returns ``{tag: {"present": bool, "probability": float | None, "source": str}}``.
    """
    return {name: tag.as_dict() for name, tag in rule.effective_tags(tags).items()}
