"""Bounded lookup caches read a whole message at a time.

The normaliser's per-token facts and the n-gram counters' per-word columns depend only on the
token or word, and messages repeat them, so both are cached. Looking up a message's keys with
``map(cache.get, keys)`` is one C call, where a function cache costs a Python call per key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def cached_values(
    cache: dict[K, V], keys: list[K], compute: Callable[[K], V], limit: int
) -> list[V]:
    """``cache[key]`` for each of ``keys``, computing and keeping the missing ones.

    A cache holding ``limit`` entries is emptied before the next is added: a bound against a
    flood of junk that costs nothing per hit, where tracking recency would.
    """
    found: list[V | None] = list(map(cache.get, keys))
    if None in found:
        for i, value in enumerate(found):
            if value is None:
                key = keys[i]
                value = cache.get(key)  # the key may have come earlier in this message
                if value is None:
                    if len(cache) >= limit:
                        cache.clear()
                    value = cache[key] = compute(key)
                found[i] = value
    return found  # type: ignore[return-value]  # no None is left
