"""The conversation's snapshot of the register: kept for its time to live, dropped on demand.

A panel edit commits and then tells the cache; a snapshot that was being read at that moment
may hold the old names, so it must not be kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.persistence.reference_cache import ReferenceCache
from storage.database import Database
from storage.models import ServiceCategory
from storage.repositories.reference import ReferenceRepository
from storage.uow import UnitOfWork


class Clock:
    """Seconds that move only when the test says."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _office_name(database: Database, cache: ReferenceCache, code: str) -> str:
    async with UnitOfWork(database.sessions) as uow:
        snapshot = await cache.get(uow.reference)
    return snapshot.office_codes[code].name("en")


async def _rename(database: Database, code: str, name: str) -> None:
    async with UnitOfWork(database.sessions) as uow:
        office = await uow.reference.office_by_code(code)
        assert office is not None
        office.name_en = name
        await uow.commit()


async def test_the_snapshot_is_kept_for_its_time_to_live(database: Database) -> None:
    clock = Clock()
    cache = ReferenceCache(ttl=60.0, clock=clock)
    first = await _office_name(database, cache, "AST-01")
    await _rename(database, "AST-01", "Renamed behind the cache")

    clock.now = 59.0
    assert await _office_name(database, cache, "AST-01") == first
    clock.now = 60.0
    assert await _office_name(database, cache, "AST-01") == "Renamed behind the cache"


async def test_an_edit_during_a_load_is_seen_by_the_next_read(database: Database) -> None:
    cache = ReferenceCache(ttl=3600.0)

    class EditedWhileRead(ReferenceRepository):
        """The panel's edit commits and invalidates the cache once the offices have been read."""

        async def categories(self) -> Sequence[ServiceCategory]:
            await _rename(database, "AST-01", "Renamed during the load")
            cache.invalidate()
            return await super().categories()

    async with UnitOfWork(database.sessions) as uow:
        await cache.get(EditedWhileRead(uow.reference.session))
    assert await _office_name(database, cache, "AST-01") == "Renamed during the load"
