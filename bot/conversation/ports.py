"""The ports the core needs, as protocols: persistence (one unit of work per event), a chat's
history (for a channel that keeps one, the web chat) and tagging.

Implementations live outside the core (``bot.persistence``, ``bot.tagging``); tests may use any
object with these methods.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class StateConflict(Exception):
    """Another process saved the same conversation in between; the event is handled again."""


@dataclass(frozen=True)
class RespondentInfo:
    """The pseudonymous citizen behind a chat."""

    id: int
    language: str | None


@dataclass
class StoredState:
    """A conversation as stored: ``version`` increases by one on every save.

    ``respondent`` is the citizen the conversation is linked to, when the store can tell it
    along with the state (it saves looking them up by their channel id on every event).
    """

    step: str
    data: dict[str, Any]
    version: int
    respondent: RespondentInfo | None = None


@dataclass(frozen=True)
class Choice:
    """An entry of a list the citizen picks from: its key and its name in their language."""

    key: str
    label: str


@dataclass(frozen=True)
class OfficeInfo:
    """An office known by code or id, with its name in the requested language."""

    id: int
    code: str
    region_code: str
    name: str


@dataclass(frozen=True)
class TagResult:
    """The tagger's answer for one text."""

    scores: Mapping[str, float]
    labels: frozenset[str]
    model_version: str


@dataclass(frozen=True)
class PhotoRef:
    """A photo to keep with the feedback."""

    file_ref: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Submission:
    """A finished feedback, ready to be recorded."""

    channel: str
    language: str
    respondent_id: int
    reply_address: str | None
    office_id: int | None
    region_code: str | None
    service_id: int | None
    rating: int | None
    criteria: Mapping[str, bool | None]
    text: str | None
    is_direct_report: bool
    consent_contact: bool
    tags: TagResult | None
    photos: Sequence[PhotoRef] = field(default_factory=tuple)


@dataclass(frozen=True)
class Recorded:
    """What recording a feedback produced: its reference and, if flagged, its case id."""

    ref: str
    case_id: int | None


@dataclass(frozen=True)
class CaseState:
    """What ``/status`` shows: the state of a feedback's case, never its text."""

    ref: str
    status: str  # "received" when not flagged, else the case status
    has_answer: bool


@dataclass(frozen=True)
class ChatMessage:
    """A message of a chat's history, as the chat shows it.

    ``author`` is ``citizen``, ``bot`` or ``staff``; ``buttons`` are rows of
    ``{"label": ..., "data": ...}``; ``id`` and ``chat_key`` are known once it is stored.
    """

    author: str
    text: str
    buttons: list[Any] | None = None
    expects_text: bool = False
    language: str | None = None
    id: int = 0
    chat_key: str = ""


@dataclass(frozen=True)
class ChatOpening:
    """What a chat's page needs when it opens: its history and the conversation's step."""

    messages: Sequence[ChatMessage]
    step: str | None  # None when the chat has no conversation yet


class ChatHistory(Protocol):
    """A chat's history inside an event's unit of work: written with the event or not at all."""

    async def add_messages(self, chat_key: str, messages: Sequence[ChatMessage]) -> list[int]:
        """Append ``messages`` to the chat's history, in order; their ids."""
        ...

    async def latest_buttons(self, chat_key: str) -> list[Any] | None:
        """The buttons of the chat's most recent message from the conversation, if any."""
        ...

    async def erase_history(self, chat_key: str) -> int:
        """Forget the chat's history (the citizen erased their data); how many messages."""
        ...


class ChatHistoryStore(Protocol):
    """A chat channel's history outside an event, each call its own short transaction."""

    async def opening(self, chat_key: str, limit: int) -> ChatOpening:
        """The chat's last ``limit`` messages, oldest first, and its conversation's step."""
        ...

    async def step(self, chat_key: str) -> str | None:
        """The step the chat's conversation is at (None when it has none)."""
        ...

    async def language(self, chat_key: str) -> str | None:
        """The language the chat last talked in, if it has talked at all."""
        ...

    async def add_staff_reply(
        self, chat_key: str, text: str, language: str | None, outbox_id: int
    ) -> bool:
        """Add a staff reply delivered from the outbox; False if that row was added before."""
        ...

    async def staff_replies_since(
        self, since: datetime, chat_keys: Collection[str]
    ) -> Sequence[ChatMessage]:
        """Staff replies to these chats written after ``since``, oldest first."""
        ...

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete messages older than ``cutoff`` (retention); how many."""
        ...


class ConversationUnit(Protocol):
    """Everything one event may read or change; nothing is durable until :meth:`commit`."""

    async def claim_update(self, channel: str, update_key: str) -> bool:
        """Record the delivery; False if it was handled before."""
        ...

    async def load_state(self, channel: str, chat_key: str) -> StoredState | None:
        """The chat's conversation (locked until the unit ends, where the database can)."""
        ...

    async def save_state(
        self, channel: str, chat_key: str, state: StoredState, respondent_id: int | None
    ) -> None:
        """Store ``state``, whose version is one more than the loaded one (or 1 if new).

        Raises :class:`StateConflict` if someone else saved in between.
        """
        ...

    async def respondent(self, channel: str, user_key: str) -> RespondentInfo:
        """The respondent of this channel user, created on first contact."""
        ...

    async def set_language(self, respondent_id: int, language: str) -> None:
        """Remember the respondent's language for the next visit."""
        ...

    async def regions(self, language: str) -> Sequence[Choice]:
        """All regions."""
        ...

    async def offices(self, region_code: str, language: str) -> Sequence[Choice]:
        """The active offices of a region (key = office id)."""
        ...

    async def search_offices(self, needle: str, language: str, limit: int) -> Sequence[Choice]:
        """Active offices whose code, name or address contains ``needle`` (key = office id)."""
        ...

    async def office_by_code(self, code: str, language: str) -> OfficeInfo | None:
        """The active office with this QR code, if any."""
        ...

    async def office(self, office_id: int, language: str) -> OfficeInfo | None:
        """The active office with this id, if any."""
        ...

    async def categories(self, language: str) -> Sequence[Choice]:
        """The service categories (key = category code)."""
        ...

    async def services(self, category_code: str, language: str) -> Sequence[Choice]:
        """The active services of a category (key = service id)."""
        ...

    async def record(self, submission: Submission) -> Recorded:
        """Add the feedback (with tags, photos, case); its id and ref are known on return."""
        ...

    async def alert_staff(self, text: str, case_id: int | None, ref: str) -> None:
        """Queue an alert to the staff chat (a no-op when no staff chat is configured)."""
        ...

    async def case_state(self, ref: str) -> CaseState | None:
        """The state of the feedback with this reference, if it exists."""
        ...

    async def erase_respondent(self, respondent_id: int) -> int:
        """Delete the respondent's texts, photos and the link to them; how many feedbacks."""
        ...

    @property
    def chat_history(self) -> ChatHistory:
        """The chats' histories, written in this unit's transaction."""
        ...

    async def commit(self) -> None:
        """Make the event's changes durable."""
        ...


class UnitFactory(Protocol):
    """Opens one :class:`ConversationUnit` per event: ``async with units() as unit: ...``."""

    def __call__(self) -> AbstractAsyncContextManager[ConversationUnit]: ...


class EventObserver(Protocol):
    """Told of every handled event (metrics); must not fail or block."""

    def event_handled(self, channel: str, result: str, seconds: float) -> None:
        """``result``: ``ok``, ``duplicate`` or ``failed``; ``seconds`` from start to commit."""
        ...


class TaggerPort(Protocol):
    """Tags a complaint's text with the classifier's labels."""

    def tag(self, text: str) -> TagResult | None:
        """The tags of ``text``, or None when no classifier is available."""
        ...


class StaffTextsPort(Protocol):
    """The staff chat's texts, from the staff's catalog (outside the core), in its language."""

    language: str

    def alert(self, *, direct: bool, ref: str, office: str, tags: str, link: str) -> str:
        """The alert on a corruption report (``direct``) or a complaint tagged as corruption."""
        ...
