"""The store remembers a delivery whose claim collided, for that event's retry only."""

from __future__ import annotations

from bot.persistence import SqlUnits
from bot.persistence.conversation_store import _COLLISIONS_KEPT, StoreConfig
from storage.database import Database


def test_a_collision_is_told_once_and_the_memory_is_bounded(database: Database) -> None:
    units = SqlUnits(database.sessions, StoreConfig(secret_key=b"test-secret"))
    units.note_collision("telegram", "42")
    assert not units.collided("web", "42")
    assert units.collided("telegram", "42")
    assert not units.collided("telegram", "42")  # forgotten once asked

    for key in range(_COLLISIONS_KEPT + 1):
        units.note_collision("telegram", str(key))
    assert not units.collided("telegram", "0")  # the oldest went first
    assert units.collided("telegram", str(_COLLISIONS_KEPT))
