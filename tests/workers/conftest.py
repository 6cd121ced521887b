"""Fixtures of the several-workers tests: the Bot API emulator of the end-to-end tests, an empty
PostgreSQL database of the deployment tests and a Redis key prefix of their own."""

from tests.coordination.conftest import prefix
from tests.deploy.conftest import empty_postgres
from tests.e2e.conftest import emulator

__all__ = ["empty_postgres", "emulator", "prefix"]
