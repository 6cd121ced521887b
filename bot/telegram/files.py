"""A photo Telegram keeps, fetched by its file id when a staff member opens it.

A citizen's Telegram photo is stored as the bot's file id, which stays valid for the bot:
any worker with the token fetches the picture through ``getFile`` and the file download,
so nothing is kept on disk and no worker has to be the one that received it.
"""

from __future__ import annotations

import aiohttp
import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

log = structlog.get_logger(__name__)

# The Bot API serves files up to 20 MB; a larger one is refused before it is downloaded.
DOWNLOAD_LIMIT = 20 * 1024 * 1024
DOWNLOAD_TIMEOUT_SECONDS = 30


class TelegramFiles:
    """Fetches files by the bot's file ids."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def fetch(self, file_id: str) -> bytes | None:
        """The file's bytes; None if Telegram does not know the id or cannot be reached."""
        try:
            described = await self._bot.get_file(file_id)
            if described.file_path is None or (described.file_size or 0) > DOWNLOAD_LIMIT:
                return None
            content = await self._bot.download_file(
                described.file_path, timeout=DOWNLOAD_TIMEOUT_SECONDS
            )
        except (TimeoutError, TelegramAPIError, aiohttp.ClientError) as exc:
            log.warning("telegram.file_unavailable", error=str(exc))
            return None
        return None if content is None else content.read()
