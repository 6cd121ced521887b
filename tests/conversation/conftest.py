"""Driving the conversation core as a citizen would, on the real database store."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from admin.staff_texts import StaffTexts
from bot.conversation import (
    ConversationService,
    Event,
    Incoming,
    Outcome,
    Photo,
    Press,
    Reply,
    TagResult,
    Translator,
    parse_text,
)
from bot.persistence import SqlUnits
from bot.persistence.conversation_store import StoreConfig
from bot.settings import TelegramSettings
from storage.database import Database

STAFF_CHAT = "-1001234"
CASE_URL = "https://pikir.example/admin/cases"


class KeywordTagger:
    """Stands in for the classifier (built separately): tags bribes as corruption."""

    version = "test-keywords-1"

    def tag(self, text: str) -> TagResult | None:
        lowered = text.lower()
        corrupt = any(word in lowered for word in ("взятк", "bribe", "пара", "денег"))
        rude = any(word in lowered for word in ("хам", "rude", "дөрекі"))
        scores = {
            "corruption": 0.9 if corrupt else 0.05,
            "rudeness": 0.8 if rude else 0.1,
            "delay": 0.1,
        }
        labels = frozenset(tag for tag, score in scores.items() if score >= 0.5)
        return TagResult(scores, labels, self.version)


@pytest.fixture(scope="session")
def translator() -> Translator:
    """The real catalogs."""
    return Translator.load()


def make_service(
    database: Database, translator: Translator, staff_language: str = "ru"
) -> ConversationService:
    """A conversation service on ``database``, as the composition root builds it."""
    store = StoreConfig(
        secret_key=b"test-secret", telegram=TelegramSettings(staff_chat_id=STAFF_CHAT)
    )
    return ConversationService(
        SqlUnits(database.sessions, store),
        translator,
        KeywordTagger(),
        case_url=CASE_URL,
        staff_texts=StaffTexts(staff_language),
    )


@pytest.fixture
def service(database: Database, translator: Translator) -> ConversationService:
    """The conversation service on the test database."""
    return make_service(database, translator)


_updates = itertools.count(1)


class Citizen:
    """One citizen in one chat: sends events and remembers what they were shown."""

    def __init__(
        self,
        service: ConversationService,
        chat: str = "100",
        channel: str = "telegram",
        hint: str | None = None,
    ) -> None:
        self.service = service
        self.chat = chat
        self.channel = channel
        self.hint = hint
        self.outcomes: list[Outcome] = []

    async def send(self, event: Event, update_key: str | None = None) -> Outcome:
        key = update_key if update_key is not None else f"u{next(_updates)}"
        outcome = await self.service.handle(
            Incoming(self.channel, self.chat, f"user-{self.chat}", event, key, self.hint)
        )
        self.outcomes.append(outcome)
        return outcome

    async def say(self, text: str) -> Outcome:
        return await self.send(parse_text(text))

    async def photo(self, size: int = 2048, caption: str | None = None) -> Outcome:
        return await self.send(Photo("file-abc", size, "image/jpeg", caption))

    @property
    def last(self) -> Reply:
        """The latest reply shown."""
        for outcome in reversed(self.outcomes):
            if outcome.replies:
                return outcome.replies[-1]
        raise AssertionError("no reply yet")

    def buttons(self) -> list[tuple[str, str]]:
        """(label, data) of every button on the latest reply."""
        return [(b.label, b.data) for row in self.last.buttons for b in row]

    def data_of(self, label: str, reply: Reply | None = None) -> str:
        reply = reply or self.last
        for row in reply.buttons:
            for button in row:
                if button.label == label:
                    return button.data
        labels = [b.label for row in reply.buttons for b in row]
        raise AssertionError(f"no button {label!r} in {labels}")

    async def press(self, label: str) -> Outcome:
        return await self.send(Press(self.data_of(label)))

    async def press_nth(self, index: int) -> Outcome:
        return await self.send(Press(self.buttons()[index][1]))


def texts(outcome: Outcome) -> str:
    """All reply texts of an outcome, joined."""
    return "\n".join(reply.text for reply in outcome.replies)


def labels(rows: Sequence[Sequence[object]]) -> list[str]:
    return [b.label for row in rows for b in row]  # type: ignore[attr-defined]
