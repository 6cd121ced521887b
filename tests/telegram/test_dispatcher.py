"""Telegram updates through the real Dispatcher, with the Bot API recorded at the transport:
the middlewares (flood, per-chat order), stale buttons and the edit fallback."""

from __future__ import annotations

import asyncio

from aiogram import Bot, Dispatcher
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
)
from sqlalchemy import func, select

from bot.conversation import FloodGuard, Translator
from storage.database import Database
from storage.models import Conversation
from tests.telegram.conftest import RecordingSession, TelegramChat, button_data, make_dispatcher

EN = Translator.load()


def t(key: str, **params: object) -> str:
    return EN.text("en", key, **params)


async def test_a_press_edits_the_pressed_message(
    dispatcher: Dispatcher, bot: Bot, session: RecordingSession
) -> None:
    chat = TelegramChat(dispatcher, bot)
    await chat.send("/start AST-01")
    question = session.of(SendMessage)[-1]
    assert question.text == t("category.ask")
    await chat.tap(button_data(question, t("button.other_service")), message_id=1000)
    [edit] = session.of(EditMessageText)
    assert edit.message_id == 1000 and edit.text == t("rating.ask")
    [answer] = session.of(AnswerCallbackQuery)
    assert answer.text is None  # no toast for a current button


async def test_a_stale_press_is_answered_its_keyboard_retired_and_the_question_sent_anew(
    dispatcher: Dispatcher, bot: Bot, session: RecordingSession
) -> None:
    chat = TelegramChat(dispatcher, bot)
    await chat.send("/start AST-01")
    old = session.of(SendMessage)[-1]
    await chat.tap(button_data(old, t("button.other_service")), message_id=1000)
    session.requests.clear()
    await chat.tap(button_data(old, t("button.other_service")), message_id=1000)  # again
    [answer] = session.of(AnswerCallbackQuery)
    assert answer.text == t("stale.notice")
    [retired] = session.of(EditMessageReplyMarkup)
    assert retired.message_id == 1000 and retired.reply_markup is None
    assert not session.of(EditMessageText)  # the old message is not reused
    assert session.of(SendMessage)[-1].text == t("rating.ask")  # where the citizen really is


async def test_an_edit_telegram_refuses_is_sent_as_a_new_message(
    dispatcher: Dispatcher, bot: Bot, session: RecordingSession
) -> None:
    chat = TelegramChat(dispatcher, bot)
    await chat.send("/start AST-01")
    question = session.of(SendMessage)[-1]
    session.fail_next(EditMessageText, 400, "Bad Request: message can't be edited")
    session.requests.clear()
    await chat.tap(button_data(question, t("button.other_service")), message_id=1000)
    [refused] = session.of(EditMessageText)
    [sent] = session.of(SendMessage)
    assert refused.text == sent.text == t("rating.ask")
    assert sent.reply_markup is not None  # with its buttons
    assert session.requests.index(refused) < session.requests.index(sent)


async def test_an_edit_that_would_change_nothing_sends_no_second_copy(
    dispatcher: Dispatcher, bot: Bot, session: RecordingSession
) -> None:
    chat = TelegramChat(dispatcher, bot)
    await chat.send("/start AST-01")
    question = session.of(SendMessage)[-1]
    # Telegram refuses an edit to the content the message already has: it shows the reply.
    session.fail_next(
        EditMessageText,
        400,
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message",
    )
    session.requests.clear()
    await chat.tap(button_data(question, t("button.other_service")), message_id=1000)
    [refused] = session.of(EditMessageText)
    assert refused.text == t("rating.ask")
    assert not session.of(SendMessage)


async def test_a_flooding_chat_gets_one_notice_then_silence_and_no_rows(
    database: Database, bot: Bot, session: RecordingSession
) -> None:
    now = [0.0]
    guard = FloodGuard(rate=0.001, burst=2, clock=lambda: now[0], cooldown=60.0)
    dispatcher = make_dispatcher(database, guard)
    chat = TelegramChat(dispatcher, bot)
    for _ in range(6):
        await chat.send("/help")
    replies = [request.text for request in session.of(SendMessage)]
    assert replies.count(t("flood.notice")) == 1
    assert len(replies) == 3  # two answered, one notice, the rest silent
    async with database.sessions() as db:
        version = await db.scalar(select(Conversation.version))
        assert await db.scalar(select(func.count()).select_from(Conversation)) == 1
    assert version == 2  # only the two allowed updates reached the conversation
    other = TelegramChat(dispatcher, bot, chat_id=501)
    await other.send("/help")  # another chat is not held back
    assert session.of(SendMessage)[-1].chat_id == 501


async def test_one_chats_updates_wait_for_each_other_but_not_for_other_chats(
    dispatcher: Dispatcher, bot: Bot, session: RecordingSession
) -> None:
    first = TelegramChat(dispatcher, bot, chat_id=600)
    other = TelegramChat(dispatcher, bot, chat_id=601)
    session.hold_sends = asyncio.Event()
    started = asyncio.create_task(first.send("/start AST-01"))
    await session.wait_for_sends(1)  # the first update is sending its reply, held
    queued = asyncio.create_task(first.send("/help"))
    elsewhere = asyncio.create_task(other.send("/help"))
    await session.wait_for_sends(2)  # the other chat got as far as its reply
    await asyncio.sleep(0.01)
    chats = [request.chat_id for request in session.of(SendMessage)]
    assert chats == [600, 601]  # the same chat's second update has not started
    session.hold_sends.set()
    await asyncio.gather(started, queued, elsewhere)
    texts = [request.text for request in session.of(SendMessage) if request.chat_id == 600]
    # The second update ran after the first had finished: help, then the question again.
    assert texts[-2:] == [t("help.text"), t("category.ask")]
    assert texts.index(t("category.ask")) < texts.index(t("help.text"))
