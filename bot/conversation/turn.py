"""One event's working context: the state being changed and the replies being collected."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.conversation import callbacks
from bot.conversation.callbacks import Action
from bot.conversation.events import Incoming, language_from_hint
from bot.conversation.i18n import Translator
from bot.conversation.ports import ConversationUnit
from bot.conversation.replies import Button, Outcome, Reply
from bot.conversation.state import Draft, Step

FALLBACK_LANGUAGE = "ru"
MAX_LABEL_CHARS = 60


@dataclass(frozen=True)
class Limits:
    """Bounds on what a citizen can send and how lists are shown."""

    max_text: int = 2000
    max_photo_bytes: int = 10 * 1024 * 1024
    max_photos: int = 3
    page_size: int = 8
    search_min: int = 2
    search_max: int = 64
    search_results: int = 8


@dataclass
class Turn:
    """The state of one conversation while one event is handled.

    ``version`` is the version the state will be saved with; buttons rendered now carry it.
    """

    unit: ConversationUnit
    incoming: Incoming
    translator: Translator
    respondent_id: int | None
    respondent_language: str | None
    step: Step
    draft: Draft
    stored_version: int
    pressed: bool = False
    stale: bool = False
    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    submitted_ref: str | None = None
    erased: bool = False

    @property
    def version(self) -> int:
        """The version the state will have once this event is saved."""
        return self.stored_version + 1

    @property
    def lang(self) -> str:
        """The language to talk in: chosen, remembered, reported by the channel, or Russian."""
        return (
            self.draft.language
            or self.respondent_language
            or language_from_hint(self.incoming.language_hint)
            or FALLBACK_LANGUAGE
        )

    def t(self, message_id: str, **params: object) -> str:
        """A text in the conversation's language."""
        return self.translator.text(self.lang, message_id, **params)

    def button(self, label: str, action: Action, argument: str = "") -> Button:
        """A button whose press comes back as ``action``/``argument`` for this version."""
        if len(label) > MAX_LABEL_CHARS:
            label = label[: MAX_LABEL_CHARS - 1].rstrip() + "…"
        return Button(label, callbacks.encode(self.version, action, argument))

    def say(
        self,
        text: str,
        buttons: tuple[tuple[Button, ...], ...] = (),
        *,
        expects_text: bool = False,
    ) -> None:
        """Add a reply; the first reply to a current button press replaces that message."""
        edit = self.pressed and not self.stale and not self.replies
        self.replies.append(Reply(text, buttons, expects_text=expects_text, edit=edit))

    def outcome(self) -> Outcome:
        """What the adapter shows for this event."""
        return Outcome(
            replies=list(self.replies),
            notice=self.notice,
            submitted_ref=self.submitted_ref,
            language=self.lang,
            erased=self.erased,
        )
