"""The two small additions to the core's Outcome the web chat relies on: language and erased."""

from __future__ import annotations

from bot.conversation import Command, Event, Incoming, Outcome, Press, Start, Translator
from storage.database import Database
from tests.webchat.conftest import chat_service


async def test_the_outcome_says_the_language_and_whether_data_was_erased(
    database: Database, translator: Translator
) -> None:
    service = chat_service(database, translator)
    chat = "a" * 64

    async def send(event: Event) -> Outcome:
        return await service.handle(Incoming("web", chat, chat, event, language_hint="ru"))

    first = await send(Start("AST-01"))
    assert first.language == "ru" and not first.erased
    buttons = [b.data for row in first.replies[-1].buttons for b in row]
    chosen = await send(Press(next(data for data in buttons if data.endswith("|l|kk"))))
    assert chosen.language == "kk" and not chosen.erased
    asked = await send(Command("erase"))
    erased = await send(Press(asked.replies[-1].buttons[0][0].data))
    assert erased.erased
    assert erased.replies[-1].text == translator.text("kk", "erase.done")
