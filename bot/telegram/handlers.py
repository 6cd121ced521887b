"""The bot's router: every message and button press becomes one event for the core."""

from __future__ import annotations

import structlog
from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message, Update

from bot.conversation import (
    ConversationService,
    Event,
    Incoming,
    Outcome,
    Photo,
    Press,
    Text,
    language_from_hint,
    parse_text,
)
from bot.outage import outage_of
from bot.telegram.render import retire_keyboard, show

CHANNEL = "telegram"
log = structlog.get_logger("pikir.telegram")


def build_router(service: ConversationService) -> Router:
    """Handlers for private chats: text, commands, photos, anything else, button presses."""
    router = Router(name="citizen")
    router.message.filter(F.chat.type == "private")

    @router.message()
    async def on_message(
        message: Message, bot: Bot, event_update: Update, redelivered: bool = False
    ) -> None:
        incoming = _incoming(message, _event_of(message), event_update.update_id)
        outcome = await _handle(service, incoming, bot, message.chat.id, redelivered)
        if outcome is not None:
            await show(bot, message.chat.id, outcome, pressed_message_id=None)

    @router.callback_query()
    async def on_press(
        query: CallbackQuery, bot: Bot, event_update: Update, redelivered: bool = False
    ) -> None:
        message = query.message
        if message is None or query.data is None:
            await query.answer()
            return
        chat_id = message.chat.id
        incoming = Incoming(
            CHANNEL,
            str(chat_id),
            str(query.from_user.id),
            Press(query.data),
            update_key=str(event_update.update_id),
            language_hint=language_from_hint(query.from_user.language_code),
        )
        outcome = await _handle(service, incoming, bot, chat_id, redelivered)
        await query.answer(outcome.notice if outcome else None)
        if outcome is None:
            return
        if outcome.notice is not None and not any(r.edit for r in outcome.replies):
            await retire_keyboard(bot, chat_id, message.message_id)
        await show(bot, chat_id, outcome, pressed_message_id=message.message_id)

    return router


def _event_of(message: Message) -> Event:
    if message.photo:
        largest = message.photo[-1]
        return Photo(largest.file_id, largest.file_size or 0, "image/jpeg", message.caption)
    if message.text is not None:
        return parse_text(message.text)
    # Stickers, voice, files…: an empty text, which the core answers with the current question.
    return Text("")


def _incoming(message: Message, event: Event, update_id: int) -> Incoming:
    user = message.from_user
    return Incoming(
        CHANNEL,
        str(message.chat.id),
        str(user.id if user else message.chat.id),
        event,
        update_key=str(update_id),
        language_hint=language_from_hint(user.language_code if user else None),
    )


async def _handle(
    service: ConversationService, incoming: Incoming, bot: Bot, chat_id: int, redelivered: bool
) -> Outcome | None:
    """Run the core; on a failure apologise (the event's changes were rolled back). An outage
    of the database or Redis is raised instead when the update is ``redelivered`` once refused
    (a webhook's); a polled update is already confirmed, so the citizen is asked to retry."""
    try:
        outcome = await service.handle(incoming)
    except Exception as exc:
        if redelivered and outage_of(exc) is not None:
            raise  # the webhook refuses the update and Telegram delivers it again
        log.exception("telegram.handle_failed")
        language = incoming.language_hint or "ru"
        await bot.send_message(chat_id, service.text(language, "error.retry"))
        return None
    return outcome
