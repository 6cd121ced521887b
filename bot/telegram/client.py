"""The aiogram Bot, pointed at Telegram or at another Bot API server."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer


def create_bot(token: str, api_url: str = "https://api.telegram.org") -> Bot:
    """A bot talking to ``api_url`` (a local Bot API server or the emulator in tests)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
    # No parse mode: the core's texts are plain, so nothing a citizen typed can become markup.
    return Bot(token=token, session=session)
