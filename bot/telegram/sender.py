"""The outbox's Telegram sender: text messages, or a file as a document."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import FSInputFile

from bot.outbox.ports import DeliveryRefused, OutgoingMessage, RetryLater
from bot.telegram.render import TELEGRAM_TEXT_LIMIT

CAPTION_LIMIT = 1024


class TelegramSender:
    """Sends outbox rows with ``channel=telegram``; ``address`` is the chat id."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, message: OutgoingMessage) -> None:
        """Send; map Telegram's answers to retry-later (429) and final (blocked, gone) failures."""
        chat_id = int(message.address) if message.address.lstrip("-").isdigit() else message.address
        document = (message.payload or {}).get("document_path")
        try:
            if document:
                path = Path(str(document))
                if not await asyncio.to_thread(path.is_file):
                    raise DeliveryRefused(f"document {path.name} does not exist")
                await self._bot.send_document(
                    chat_id, FSInputFile(path), caption=message.text[:CAPTION_LIMIT] or None
                )
            else:
                await self._bot.send_message(chat_id, message.text[:TELEGRAM_TEXT_LIMIT])
        except TelegramRetryAfter as exc:
            raise RetryLater(float(exc.retry_after)) from exc
        except (TelegramForbiddenError, TelegramNotFound, TelegramUnauthorizedError) as exc:
            raise DeliveryRefused(exc.message) from exc
        except TelegramBadRequest as exc:  # chat not found, text empty …: retrying cannot help
            raise DeliveryRefused(exc.message) from exc
