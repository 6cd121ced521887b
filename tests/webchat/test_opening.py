"""What a web chat page finds when it opens, and when it may upload a photo: the web adapter on
the core's in-memory history double (no database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.conversation import ChatMessage, ConversationService, ConversationUnit, Step, Translator
from bot.web.conversations import WebConversations
from bot.web.hub import ChatHub
from tests.conversation.doubles import MemoryChatHistory

CHAT = "c" * 64
QUESTION = [[{"label": "5", "data": "v2|R|5"}]]


@asynccontextmanager
async def no_events() -> AsyncIterator[ConversationUnit]:
    """Opening a page handles no event, so it never opens a unit."""
    raise AssertionError("a page opening must not run the conversation")
    yield  # pragma: no cover


@pytest.fixture
def history() -> MemoryChatHistory:
    return MemoryChatHistory()


@pytest.fixture
def conversations(history: MemoryChatHistory, translator: Translator) -> WebConversations:
    return WebConversations(ConversationService(no_events, translator), history, ChatHub())


async def test_a_new_browser_starts_a_conversation(conversations: WebConversations) -> None:
    opened = await conversations.open(CHAT, office=None)
    assert opened.needs_start and opened.messages == [] and opened.language is None


async def test_a_reload_shows_the_history_in_the_language_last_spoken(
    conversations: WebConversations, history: MemoryChatHistory
) -> None:
    await history.add_messages(
        CHAT,
        [
            ChatMessage("bot", "Сәлем", language="kk"),
            ChatMessage("citizen", "AST-01"),
            ChatMessage("bot", "Бағалаңыз", QUESTION, language="kk"),
        ],
    )
    history.steps[CHAT] = Step.RATING.value
    opened = await conversations.open(CHAT, office=None)
    assert not opened.needs_start and opened.language == "kk"
    assert [(m["from"], m["text"]) for m in opened.messages] == [
        ("bot", "Сәлем"),
        ("citizen", "AST-01"),
        ("bot", "Бағалаңыз"),
    ]
    assert opened.messages[-1]["buttons"] == QUESTION
    # An office's QR code in the middle of a feedback does not restart it...
    assert not (await conversations.open(CHAT, office="AST-02")).needs_start
    # ...but starts a new one once the conversation is idle.
    history.steps[CHAT] = Step.IDLE.value
    assert (await conversations.open(CHAT, office="AST-02")).needs_start


@pytest.mark.parametrize(
    ("step", "accepted"),
    [
        (None, False),
        (Step.IDLE, False),
        (Step.RATING, False),
        (Step.TEXT, True),
        (Step.PHOTO, True),
    ],
)
async def test_a_photo_is_taken_only_where_the_flow_keeps_one(
    conversations: WebConversations, history: MemoryChatHistory, step: Step | None, accepted: bool
) -> None:
    if step is not None:
        history.steps[CHAT] = step.value
    assert await conversations.accepts_photo(CHAT) is accepted
