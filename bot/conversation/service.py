"""The conversation service: one event in, what to show out, state kept in the database."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.conversation.events import Incoming
from bot.conversation.flow import Flow
from bot.conversation.i18n import Translator
from bot.conversation.ports import (
    ConversationUnit,
    EventObserver,
    StaffTextsPort,
    StateConflict,
    StoredState,
    TaggerPort,
    UnitFactory,
)
from bot.conversation.replies import Outcome
from bot.conversation.state import Draft, Step
from bot.conversation.turn import Limits, Turn

CONFLICT_RETRIES = 5

BeforeCommit = Callable[[ConversationUnit, Outcome], Awaitable[None]]
"""An adapter's own writes for an event, made in the core's unit of work just before it commits
(the web chat's history): one transaction per event instead of two."""


class ConversationService:
    """Handles citizens' events for any channel; see the package docstring for the contract."""

    def __init__(
        self,
        units: UnitFactory,
        translator: Translator,
        tagger: TaggerPort | None = None,
        *,
        case_url: str = "/admin/cases",
        limits: Limits | None = None,
        observer: EventObserver | None = None,
        staff_texts: StaffTextsPort | None = None,
    ) -> None:
        self._units = units
        self._observer = observer
        self.translator = translator
        self.limits = limits or Limits()
        self._flow = Flow(tagger, self.limits, case_url, staff_texts)

    async def handle(
        self, incoming: Incoming, *, before_commit: BeforeCommit | None = None
    ) -> Outcome:
        """Apply one event in one unit of work and return what to show.

        The state, the feedback (on submission) and the delivery record are committed before
        this returns, so a receipt is only ever shown for a stored feedback. A redelivered
        event (same ``update_key``) changes nothing and returns an outcome with
        ``duplicate=True`` that asks the current question again; ``before_commit`` is not
        called for it.
        """
        started = time.perf_counter()
        result = "failed"
        try:
            outcome = await self._handle_retrying(incoming, before_commit)
            result = "duplicate" if outcome.duplicate else "ok"
            return outcome
        finally:
            if self._observer is not None:
                elapsed = time.perf_counter() - started
                self._observer.event_handled(incoming.channel, result, elapsed)

    async def _handle_retrying(
        self, incoming: Incoming, before_commit: BeforeCommit | None
    ) -> Outcome:
        for attempt in range(CONFLICT_RETRIES):
            try:
                return await self._handle_once(incoming, before_commit)
            except StateConflict:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _handle_once(self, incoming: Incoming, before_commit: BeforeCommit | None) -> Outcome:
        async with self._units() as unit:
            channel, chat = incoming.channel, incoming.chat_key
            if incoming.update_key is not None and not await unit.claim_update(
                channel, incoming.update_key
            ):
                return await self._ask_again(unit, incoming)
            stored = await unit.load_state(channel, chat)
            respondent = (stored.respondent if stored else None) or await unit.respondent(
                channel, incoming.user_key
            )
            turn = Turn(
                unit=unit,
                incoming=incoming,
                translator=self.translator,
                respondent_id=respondent.id,
                respondent_language=respondent.language,
                step=_step(stored),
                draft=Draft.from_data(stored.data) if stored else Draft(),
                stored_version=stored.version if stored else 0,
            )
            await self._flow.handle(turn, incoming.event)
            await unit.save_state(
                channel,
                chat,
                StoredState(turn.step.value, turn.draft.to_data(), turn.version),
                turn.respondent_id,
            )
            outcome = turn.outcome()
            if before_commit is not None:
                await before_commit(unit, outcome)
            await unit.commit()
        return outcome

    async def _ask_again(self, unit: ConversationUnit, incoming: Incoming) -> Outcome:
        """A redelivered event changes nothing, but the current question is asked again.

        A channel delivers an event again when its first handling was not acknowledged: the
        worker may have died, or sending the replies failed, after the commit. Those replies
        may never have reached the citizen, who would then wait for a question that never
        comes; asking it again costs at most a repeated question.
        """
        stored = await unit.load_state(incoming.channel, incoming.chat_key)
        if stored is None:
            return Outcome(duplicate=True)
        turn = Turn(
            unit=unit,
            incoming=incoming,
            translator=self.translator,
            respondent_id=stored.respondent.id if stored.respondent else None,
            respondent_language=stored.respondent.language if stored.respondent else None,
            step=_step(stored),
            draft=Draft.from_data(stored.data),
            # Nothing is saved: the buttons shown must carry the version already stored.
            stored_version=stored.version - 1,
        )
        await self._flow.ask_again(turn)
        return replace(turn.outcome(), duplicate=True)

    def text(self, language: str, message_id: str, **params: object) -> str:
        """A citizen-facing text outside a conversation (an adapter's flood notice, errors)."""
        return self.translator.text(language, message_id, **params)


def _step(stored: StoredState | None) -> Step:
    if stored is None:
        return Step.IDLE
    try:
        return Step(stored.step)
    except ValueError:
        return Step.IDLE
