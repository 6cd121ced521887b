"""Fixtures of the several-workers tests: the Bot API emulator of the end-to-end tests."""

from tests.e2e.conftest import emulator

__all__ = ["emulator"]
