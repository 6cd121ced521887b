"""The append-only audit log of staff actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, StaffUser


@dataclass(frozen=True)
class AuditFilter:
    """What an administrator narrowed the audit log to; empty fields do not filter."""

    actor_login: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditRepository:
    """Adds audit entries; the application never updates or deletes them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(
        self,
        action: str,
        *,
        actor: StaffUser | None = None,
        actor_login: str | None = None,
        target_type: str | None = None,
        target_id: str | int | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        ip: str | None = None,
    ) -> AuditEntry:
        """Add one entry describing ``action`` by ``actor`` on a target."""
        entry = AuditEntry(
            action=action,
            actor_id=actor.id if actor else None,
            actor_login=actor.login if actor else actor_login,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            before=before,
            after=after,
            ip=ip,
        )
        self.session.add(entry)
        return entry

    async def entries(
        self, wanted: AuditFilter, *, before_id: int | None = None, limit: int = 100
    ) -> Sequence[AuditEntry]:
        """Entries newest first, keyset-paged by id (``before_id`` excluded)."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        if wanted.actor_login:
            query = query.where(AuditEntry.actor_login == wanted.actor_login)
        if wanted.action:
            query = query.where(AuditEntry.action == wanted.action)
        if wanted.target_type:
            query = query.where(AuditEntry.target_type == wanted.target_type)
        if wanted.target_id:
            query = query.where(AuditEntry.target_id == wanted.target_id)
        if wanted.since is not None:
            query = query.where(AuditEntry.at >= wanted.since)
        if wanted.until is not None:
            query = query.where(AuditEntry.at < wanted.until)
        return (await self.session.scalars(query)).all()
