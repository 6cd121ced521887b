"""Staff accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LoginThrottle, StaffRegion, StaffRole, StaffUser


class StaffRepository:
    """Finds and adds staff users."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_login(self, login: str) -> StaffUser | None:
        """The staff user with this login (case-insensitive), if any."""
        return await self.session.scalar(
            select(StaffUser).where(func.lower(StaffUser.login) == login.strip().lower())
        )

    async def by_id(self, staff_id: int) -> StaffUser | None:
        """The staff user with this id, if any."""
        return await self.session.get(StaffUser, staff_id)

    async def report_subscribers(self) -> list[StaffUser]:
        """Active staff who asked for the monthly report and have a Telegram chat."""
        query = (
            select(StaffUser)
            .where(
                StaffUser.active.is_(True),
                StaffUser.subscribed_reports.is_(True),
                StaffUser.telegram_chat_id.is_not(None),
            )
            .order_by(StaffUser.id)
        )
        return list((await self.session.scalars(query)).all())

    async def all(self) -> Sequence[StaffUser]:
        """Every staff account, ordered by login."""
        return (await self.session.scalars(select(StaffUser).order_by(StaffUser.login))).all()

    async def case_candidates(self, region_code: str | None) -> Sequence[StaffUser]:
        """Active staff who might work on a case of ``region_code``: administrators, the
        anti-corruption unit and that region's reviewers (the caller applies the finer rules)."""
        of_region = select(StaffRegion.staff_id).where(StaffRegion.region_code == region_code)
        query = (
            select(StaffUser)
            .where(
                StaffUser.active.is_(True),
                or_(
                    StaffUser.role.in_((StaffRole.ADMIN, StaffRole.ANTICORRUPTION)),
                    and_(StaffUser.role == StaffRole.REVIEWER, StaffUser.id.in_(of_region)),
                ),
            )
            .order_by(StaffUser.login)
        )
        return (await self.session.scalars(query)).all()

    def set_regions(self, user: StaffUser, region_codes: Sequence[str]) -> None:
        """Replace the regions of ``user``."""
        user.regions = [StaffRegion(region_code=code) for code in region_codes]

    async def throttle(self, key: str) -> LoginThrottle | None:
        """The failed-login counter under ``key``, if there is one."""
        return await self.session.get(LoginThrottle, key)

    async def count_failure(self, key: str, now: datetime, forget_before: datetime) -> int:
        """Add one failed login to the counter under ``key`` and return the new count.

        One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (both dialects have it), so failures
        at the same moment are each counted; a count whose last failure is older than
        ``forget_before`` starts again at one.
        """
        dialect = self.session.bind.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = LoginThrottle.__table__.c
        statement = (
            insert(LoginThrottle)
            .values(key=key, failures=1, last_failure_at=now)
            .on_conflict_do_update(
                index_elements=[table.key],
                set_={
                    "failures": case(
                        (table.last_failure_at < forget_before, 1), else_=table.failures + 1
                    ),
                    "last_failure_at": now,
                },
            )
            .returning(table.failures)
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def lock_throttle(self, key: str, until: datetime, *, reset: bool = False) -> None:
        """Lock what the counter under ``key`` counts until ``until`` (and start it again)."""
        values: dict[str, object] = {"locked_until": until}
        if reset:
            values["failures"] = 0
        await self.session.execute(
            update(LoginThrottle).where(LoginThrottle.key == key).values(**values)
        )

    async def forget_throttle(self, key: str) -> None:
        """Forget the counter under ``key`` (after a successful login)."""
        await self.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(failures=0, locked_until=None)
        )

    async def count(self) -> int:
        """How many staff accounts exist."""
        return int(await self.session.scalar(select(func.count()).select_from(StaffUser)) or 0)

    def add(
        self,
        *,
        login: str,
        password_hash: str,
        role: StaffRole,
        regions: list[str] | None = None,
        display_name: str = "",
        must_change_password: bool = False,
    ) -> StaffUser:
        """Add a staff user with the given regions."""
        user = StaffUser(
            login=login.strip().lower(),
            password_hash=password_hash,
            role=role,
            display_name=display_name or login,
            must_change_password=must_change_password,
            regions=[StaffRegion(region_code=code) for code in regions or []],
        )
        self.session.add(user)
        return user
