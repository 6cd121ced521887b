"""Errors of the Telegram channel that the composition root reports (importing no aiogram)."""

from __future__ import annotations


class TelegramStartRefused(RuntimeError):
    """The bot must not start in this process; the message says why and which setting to use."""
