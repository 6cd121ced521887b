"""An in-process snapshot of the reference data (regions, offices, services), refreshed often.

Every step of the conversation shows names from the register; reading them from the database
on each event would cost more than the rest of the event. The register changes rarely (admin
edits, CSV imports), so a snapshot at most ``ttl`` seconds old is used.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cachetools import TTLCache

from storage.repositories.reference import ReferenceRepository
from vocabulary import LANGUAGES


@dataclass(frozen=True)
class Named:
    """A reference row: its key, the names by language, and what a search matches against."""

    key: str
    names: dict[str, str]
    group: str = ""
    code: str = ""
    haystack: str = ""

    def name(self, language: str) -> str:
        """The name in ``language``."""
        return self.names[language]


@dataclass
class Snapshot:
    """The active reference data at one moment."""

    regions: list[Named] = field(default_factory=list)
    offices: dict[str, Named] = field(default_factory=dict)  # by id
    office_codes: dict[str, Named] = field(default_factory=dict)  # by upper-case code
    categories: list[Named] = field(default_factory=list)
    services: dict[str, Named] = field(default_factory=dict)  # by id

    def offices_of(self, region: str) -> list[Named]:
        """The region's offices, ordered by code."""
        return sorted((o for o in self.offices.values() if o.group == region), key=_by_code)

    def services_of(self, category: str) -> list[Named]:
        """The category's services, ordered by code."""
        return sorted((s for s in self.services.values() if s.group == category), key=_by_code)

    def search_offices(self, needle: str, limit: int) -> list[Named]:
        """Offices whose code, names or address contain ``needle`` (case-insensitive)."""
        folded = needle.strip().casefold()
        found = sorted((o for o in self.offices.values() if folded in o.haystack), key=_by_code)
        return found[:limit]


def _by_code(row: Named) -> str:
    return row.code


def _names(row: object) -> dict[str, str]:
    return {lang: str(getattr(row, f"name_{lang}")) for lang in LANGUAGES}


# The one key of the cache: it holds a single snapshot.
_SNAPSHOT = "snapshot"


class ReferenceCache:
    """Holds a :class:`Snapshot` for ``ttl`` seconds, reloading it through a repository."""

    def __init__(self, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._snapshot: TTLCache[str, Snapshot] = TTLCache(maxsize=1, ttl=ttl, timer=clock)
        self._lock = asyncio.Lock()
        # Bumped by invalidate(): a load that began before an edit must not be kept after it.
        self._generation = 0

    async def get(self, reference: ReferenceRepository) -> Snapshot:
        """The current snapshot, loaded with ``reference`` if missing or stale."""
        snapshot = self._snapshot.get(_SNAPSHOT)
        if snapshot is not None:
            return snapshot
        async with self._lock:
            snapshot = self._snapshot.get(_SNAPSHOT)
            if snapshot is None:
                generation = self._generation
                snapshot = await _load(reference)
                if generation == self._generation:
                    self._snapshot[_SNAPSHOT] = snapshot
        return snapshot

    def invalidate(self) -> None:
        """Forget the snapshot (after an import or a panel edit, for instance)."""
        self._snapshot.clear()
        self._generation += 1


async def _load(reference: ReferenceRepository) -> Snapshot:
    snapshot = Snapshot()
    snapshot.regions = [Named(r.code, _names(r), code=r.code) for r in await reference.regions()]
    for office in await reference.offices():
        names = _names(office)
        haystack = " ".join([office.code, *names.values(), office.address]).casefold()
        row = Named(str(office.id), names, office.region_code, office.code, haystack)
        snapshot.offices[row.key] = row
        snapshot.office_codes[office.code.upper()] = row
    snapshot.categories = [
        Named(c.code, _names(c), code=c.code) for c in await reference.categories()
    ]
    for service in await reference.services():
        row = Named(str(service.id), _names(service), service.category_code, service.code)
        snapshot.services[row.key] = row
    return snapshot
