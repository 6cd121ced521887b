"""The staff panel's configuration for tests: a fixed key, the test's data directory, and any
part of the settings changed by the test (every other value is the settings' default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from admin.config import PanelConfig

TEST_SECRET_KEY = b"k" * 32


def panel_config(data_dir: Path, **changes: Any) -> PanelConfig:
    """A panel configuration with the test key; ``changes`` are :class:`PanelConfig` fields."""
    return PanelConfig(secret_key=TEST_SECRET_KEY, data_dir=data_dir, **changes)
