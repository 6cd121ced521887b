"""The short-lived cache of queue counts (pure: no database)."""

from __future__ import annotations

from datetime import timedelta

from admin.counts_cache import MAX_ENTRIES, CountsCache
from storage.models import CaseStatus
from storage.repositories.cases import QueueCounts
from tests.admin.conftest import FakeClock


def _counts(new: int) -> QueueCounts:
    return QueueCounts({status: 0 for status in CaseStatus} | {CaseStatus.NEW: new}, 0)


async def test_counts_are_kept_for_the_ttl_then_recomputed() -> None:
    clock = FakeClock()
    cache = CountsCache(timedelta(seconds=15), clock)
    computed = []

    async def compute() -> QueueCounts:
        computed.append(1)
        return _counts(len(computed))

    assert (await cache.get("k", compute)).per_status[CaseStatus.NEW] == 1
    clock.advance(seconds=14)
    assert (await cache.get("k", compute)).per_status[CaseStatus.NEW] == 1
    clock.advance(seconds=2)
    assert (await cache.get("k", compute)).per_status[CaseStatus.NEW] == 2
    cache.clear()
    assert (await cache.get("k", compute)).per_status[CaseStatus.NEW] == 3
    assert (await cache.get("other", compute)).per_status[CaseStatus.NEW] == 4


async def test_the_cache_stays_bounded() -> None:
    cache = CountsCache(timedelta(seconds=15), FakeClock())

    async def compute() -> QueueCounts:
        return _counts(0)

    for key in range(MAX_ENTRIES + 50):
        await cache.get(key, compute)
    assert len(cache._entries) == MAX_ENTRIES
    assert 0 not in cache._entries and MAX_ENTRIES + 49 in cache._entries
