"""The append-only audit log of staff actions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, StaffUser


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
