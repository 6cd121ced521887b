"""Fixtures of the several-workers tests: the Bot API emulator of the end-to-end tests and a
Redis key prefix of their own."""

from tests.coordination.conftest import prefix
from tests.e2e.conftest import emulator

__all__ = ["emulator", "prefix"]
