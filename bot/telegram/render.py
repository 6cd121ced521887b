"""Showing the core's replies in Telegram: inline keyboards, editing the pressed message."""

from __future__ import annotations

import contextlib

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.conversation import Outcome, Reply

log = structlog.get_logger("pikir.telegram")
TELEGRAM_TEXT_LIMIT = 4096
# How the Bot API words its refusal of an edit that would change nothing.
NOT_MODIFIED = "message is not modified"


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's button rows as an inline keyboard (None when it has no buttons)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


async def show(bot: Bot, chat_id: int, outcome: Outcome, pressed_message_id: int | None) -> None:
    """Send the outcome's replies; a reply marked ``edit`` replaces the pressed message."""
    for reply in outcome.replies:
        text = reply.text[:TELEGRAM_TEXT_LIMIT]
        markup = keyboard(reply)
        if reply.edit and pressed_message_id is not None:
            try:
                await bot.edit_message_text(
                    text=text, chat_id=chat_id, message_id=pressed_message_id, reply_markup=markup
                )
                continue
            except TelegramBadRequest as exc:
                if NOT_MODIFIED in exc.message:
                    continue  # the message already shows exactly this reply
                # Too old to edit, or gone: send it anew.
                log.info("telegram.edit_fallback", reason=exc.message)
        await bot.send_message(chat_id, text, reply_markup=markup)


async def retire_keyboard(bot: Bot, chat_id: int, message_id: int) -> None:
    """Remove the buttons of an old message whose press was stale (best effort)."""
    with contextlib.suppress(TelegramBadRequest):
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
