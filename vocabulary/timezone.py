"""The agency's time zone: months, schedules and dates shown to staff follow it by default."""

from __future__ import annotations

DEFAULT_TIMEZONE = "Asia/Almaty"
