"""Regions, offices, service categories and services: the reference data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Office, Region, Service, ServiceCategory


@dataclass(frozen=True)
class PickItem:
    """One entry of a pick list: a region, office or service by code, with its names."""

    code: str
    id: int | None
    name_kk: str
    name_ru: str
    name_en: str
    # The region an office lies in (a region's own code for a region; None for a service).
    region_code: str | None = None

    def name(self, language: str) -> str:
        """The name in ``language`` (kk, ru or en)."""
        return str(getattr(self, f"name_{language}", self.name_ru))


class ReferenceRepository:
    """Reads and upserts reference data."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def regions(self) -> Sequence[Region]:
        """All regions, ordered by code."""
        return (await self.session.scalars(select(Region).order_by(Region.code))).all()

    async def pick_list(self, model: type[Region | Office | Service]) -> list[PickItem]:
        """Code, id and names of every region, office or service, ordered by code.

        Plain rows for filter lists, cheaper than loading every object on each page view.
        """
        id_column = getattr(model, "id", None)
        region_column = getattr(model, "region_code", None)
        if model is Region:
            region_column = model.code
        query = select(
            model.code,
            id_column if id_column is not None else literal(None),
            model.name_kk,
            model.name_ru,
            model.name_en,
            region_column if region_column is not None else literal(None),
        ).order_by(model.code)
        return [PickItem(*row) for row in await self.session.execute(query)]

    async def region(self, code: str) -> Region | None:
        """One region by code."""
        return await self.session.get(Region, code)

    async def offices(
        self, region_code: str | None = None, *, active_only: bool = True
    ) -> Sequence[Office]:
        """Offices, optionally of one region, ordered by code."""
        query = select(Office).order_by(Office.code)
        if region_code is not None:
            query = query.where(Office.region_code == region_code)
        if active_only:
            query = query.where(Office.active.is_(True))
        return (await self.session.scalars(query)).all()

    async def office_by_code(self, code: str) -> Office | None:
        """The office with this code (case-insensitive), if any."""
        return await self.session.scalar(
            select(Office).where(func.upper(Office.code) == code.strip().upper())
        )

    async def office(self, office_id: int) -> Office | None:
        """One office by id."""
        return await self.session.get(Office, office_id)

    async def search_offices(self, needle: str, limit: int = 10) -> Sequence[Office]:
        """Active offices whose code or name in any language contains ``needle``."""
        pattern = f"%{_escape_like(needle.strip().lower())}%"
        query = (
            select(Office)
            .where(
                Office.active.is_(True),
                or_(
                    func.lower(Office.code).like(pattern, escape="\\"),
                    func.lower(Office.name_kk).like(pattern, escape="\\"),
                    func.lower(Office.name_ru).like(pattern, escape="\\"),
                    func.lower(Office.name_en).like(pattern, escape="\\"),
                    func.lower(Office.address).like(pattern, escape="\\"),
                ),
            )
            .order_by(Office.code)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def categories(self) -> Sequence[ServiceCategory]:
        """All service categories, ordered by code."""
        return (
            await self.session.scalars(select(ServiceCategory).order_by(ServiceCategory.code))
        ).all()

    async def services(
        self, category_code: str | None = None, *, active_only: bool = True
    ) -> Sequence[Service]:
        """Services, optionally of one category, ordered by code."""
        query = select(Service).order_by(Service.code)
        if category_code is not None:
            query = query.where(Service.category_code == category_code)
        if active_only:
            query = query.where(Service.active.is_(True))
        return (await self.session.scalars(query)).all()

    async def service(self, service_id: int) -> Service | None:
        """One service by id."""
        return await self.session.get(Service, service_id)

    async def upsert_region(self, code: str, names: dict[str, str]) -> None:
        """Insert or update a region."""
        region = await self.session.get(Region, code)
        if region is None:
            self.session.add(Region(code=code, **names))
        else:
            for key, value in names.items():
                setattr(region, key, value)

    async def upsert_category(self, code: str, names: dict[str, str]) -> None:
        """Insert or update a service category."""
        category = await self.session.get(ServiceCategory, code)
        if category is None:
            self.session.add(ServiceCategory(code=code, **names))
        else:
            for key, value in names.items():
                setattr(category, key, value)

    def put_office(self, office: Office | None, code: str, fields: dict[str, object]) -> bool:
        """Update ``office`` (already loaded), or add a new one when it is None; True if new."""
        if office is None:
            self.session.add(Office(code=code, **fields))
            return True
        _update(office, fields)
        return False

    def put_service(self, service: Service | None, code: str, fields: dict[str, object]) -> bool:
        """Update ``service`` (already loaded), or add a new one when it is None; True if new."""
        if service is None:
            self.session.add(Service(code=code, **fields))
            return True
        _update(service, fields)
        return False


def _update(row: object, fields: dict[str, object]) -> None:
    for key, value in fields.items():
        if getattr(row, key) != value:
            setattr(row, key, value)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
