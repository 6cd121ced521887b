"""The citizen's conversation, once, for every channel (Telegram, the web chat).

The core imports no aiogram, aiohttp or SQLAlchemy (``lint-imports`` checks it); it talks to the
database and the classifier only through the ports in :mod:`bot.conversation.ports`.

Public API (stable; adapters use only these names)::

    service = ConversationService(units, Translator.load(), tagger, case_url=..., limits=Limits())
    outcome = await service.handle(Incoming(channel, chat_key, user_key, event,
                                            update_key=..., language_hint=...))

Events in (``bot.conversation.events``), for one ``(channel, chat_key)``:

* ``Start(office_code=None)`` — the chat was opened (``/start``, ``/start AST-01`` from a QR
  code's deep link, ``/chat?office=AST-01`` on the web). An unknown code gets a friendly note,
  then the normal flow.
* ``Text(text)`` — typed text (searches offices at the office steps; the complaint at the text
  step; at a step that expects a button it is kept as the draft comment, offered back at the
  text step; cut to ``Limits.max_text`` with a notice).
* ``Press(data)`` — a button press, with the button's ``data`` exactly as rendered.
* ``Command(name, args)`` — ``help``, ``status``, ``corruption``, ``language``, ``cancel``,
  ``back``, ``erase`` (aliases ``forget``, ``delete``); anything else is answered as unknown.
  ``parse_text("/status PK-1")`` turns a typed line into the right event.
* ``Photo(file_ref, size, content_type, caption)`` — a photo (a Telegram ``file_id`` or the
  path of a stored upload).

``update_key`` makes redelivery harmless: the second delivery changes nothing and returns
``Outcome(duplicate=True)`` asking the current question again (the first one's replies may
never have been sent).

Replies out (``bot.conversation.replies``): an ``Outcome`` with ``replies: list[Reply]`` in
order and an optional ``notice`` (a short toast for a press, e.g. "out of date"). Each ``Reply``
has ``text`` (plain text, never markup: a channel must escape it for HTML), ``buttons`` (rows of
``Button(label, data)``; ``data`` ≤ 64 bytes and carries the conversation's version, so presses
on old messages are detected and answered as stale, except the greeting's language offer and
the receipt's status button, which work on any message), ``expects_text`` (the step wants typed
text), and ``edit`` (replace the message whose button was pressed instead of sending a new one).
``Outcome.submitted_ref`` is the reference number when this event recorded a feedback; the
feedback is committed before ``handle`` returns.
``Outcome.language`` is the language the conversation talks in after the event;
``Outcome.erased`` is True when the citizen has just erased their data.

For a channel's own texts (a flood notice, an error apology): ``service.text(lang, id)``;
``FloodGuard`` is the per-chat rate limit an adapter applies before calling ``handle``.

A channel that keeps its chat's history (the web chat) writes it through the unit's
``chat_history`` (``ChatHistory``) in ``handle(..., before_commit=...)``, so the history holds
exactly the committed events; outside an event it reads and writes through a
``ChatHistoryStore``. ``PHOTO_STEPS`` are the steps where a photo is kept.
"""

from bot.conversation.events import (
    LANGUAGES,
    Command,
    Event,
    Incoming,
    Photo,
    Press,
    Start,
    Text,
    language_from_hint,
    parse_text,
)
from bot.conversation.flood import FloodGuard, TokenBuckets, Verdict
from bot.conversation.flow import PHOTO_STEPS
from bot.conversation.i18n import N_, Translator
from bot.conversation.ports import (
    CaseState,
    ChatHistory,
    ChatHistoryStore,
    ChatMessage,
    ChatOpening,
    Choice,
    ConversationUnit,
    EventObserver,
    OfficeInfo,
    PhotoRef,
    Recorded,
    RespondentInfo,
    StaffTextsPort,
    StateConflict,
    StoredState,
    Submission,
    TaggerPort,
    TagResult,
    UnitFactory,
)
from bot.conversation.replies import MAX_CALLBACK_BYTES, Button, Outcome, Reply
from bot.conversation.service import BeforeCommit, ConversationService
from bot.conversation.state import CRITERIA, Step
from bot.conversation.turn import Limits

__all__ = [
    "CRITERIA",
    "LANGUAGES",
    "MAX_CALLBACK_BYTES",
    "N_",
    "PHOTO_STEPS",
    "BeforeCommit",
    "Button",
    "CaseState",
    "ChatHistory",
    "ChatHistoryStore",
    "ChatMessage",
    "ChatOpening",
    "Choice",
    "Command",
    "ConversationService",
    "ConversationUnit",
    "Event",
    "EventObserver",
    "FloodGuard",
    "Incoming",
    "Limits",
    "OfficeInfo",
    "Outcome",
    "Photo",
    "PhotoRef",
    "Press",
    "Recorded",
    "Reply",
    "RespondentInfo",
    "StaffTextsPort",
    "Start",
    "StateConflict",
    "Step",
    "StoredState",
    "Submission",
    "TagResult",
    "TaggerPort",
    "Text",
    "TokenBuckets",
    "Translator",
    "UnitFactory",
    "Verdict",
    "language_from_hint",
    "parse_text",
]
