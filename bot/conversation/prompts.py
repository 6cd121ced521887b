"""The question of each step, rendered as a reply with its buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import NamedTuple

from bot.conversation.callbacks import Action, Answer
from bot.conversation.events import LANGUAGES
from bot.conversation.i18n import _
from bot.conversation.ports import Choice
from bot.conversation.replies import Button
from bot.conversation.state import CRITERIA, Step
from bot.conversation.turn import Limits, Turn

Rows = tuple[tuple[Button, ...], ...]


class Question(NamedTuple):
    """A step's question: its text, its buttons, and whether the step wants typed text."""

    text: str
    rows: Rows
    expects_text: bool


Render = Callable[[Turn], Awaitable[Question]]

CRITERION_QUESTIONS = {
    "politeness": _("criteria.politeness"),
    "waiting": _("criteria.waiting"),
    "information": _("criteria.information"),
    "result": _("criteria.result"),
    "no_extra_payment": _("criteria.extra_payment"),
}
# How much of a kept comment the text question quotes back.
PREVIEW = 300
STATUS_NAMES = {
    "received": _("status.received"),
    "new": _("status.new"),
    "in_review": _("status.in_review"),
    "answered": _("status.answered"),
    "resolved": _("status.resolved"),
    "rejected": _("status.rejected"),
}


class Prompter:
    """Renders the current step of a turn."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        # Every step has exactly one question; a new step is added here and in ``Step``.
        self._questions: Mapping[Step, Render] = {
            Step.IDLE: self._idle,
            Step.LANGUAGE: self._language,
            Step.REGION: self._region,
            Step.OFFICE: self._office,
            Step.CATEGORY: self._category,
            Step.SERVICE: self._service,
            Step.RATING: self._rating,
            Step.CRITERIA: self._criteria,
            Step.TEXT: self._text,
            Step.PHOTO: self._photo,
            Step.CONSENT: self._consent,
            Step.ERASE: self._erase,
        }
        unasked = set(Step) - set(self._questions)
        if unasked:
            raise LookupError(f"steps without a question: {sorted(unasked)}")

    async def prompt(self, turn: Turn, note: str | None = None) -> None:
        """Ask the question of ``turn.step`` (after an optional note)."""
        text, rows, expects_text = await self._questions[turn.step](turn)
        if note:
            text = f"{note}\n\n{text}"
        turn.say(text, rows, expects_text=expects_text)

    def _nav(self, turn: Turn) -> tuple[Button, ...]:
        back = turn.button(turn.t("button.back"), Action.BACK)
        cancel = turn.button(turn.t("button.cancel"), Action.CANCEL)
        return (back, cancel) if turn.draft.history else (cancel,)

    def _paged(
        self, turn: Turn, choices: Sequence[Choice], action: Action, page_action: Action
    ) -> list[tuple[Button, ...]]:
        size = self._limits.page_size
        pages = max(1, -(-len(choices) // size))
        page = min(max(turn.draft.page, 0), pages - 1)
        rows: list[tuple[Button, ...]] = [
            (turn.button(c.label, action, c.key),) for c in choices[page * size : (page + 1) * size]
        ]
        paging: list[Button] = []
        if page > 0:
            paging.append(turn.button(turn.t("button.prev"), page_action, str(page - 1)))
        if page < pages - 1:
            paging.append(turn.button(turn.t("button.next"), page_action, str(page + 1)))
        if paging:
            rows.append(tuple(paging))
        return rows

    async def _idle(self, turn: Turn) -> Question:
        return Question(
            turn.t("idle.hint"),
            ((turn.button(turn.t("button.again"), Action.START_AGAIN),),),
            False,
        )

    async def _language(self, turn: Turn) -> Question:
        row = tuple(
            turn.button(turn.t(f"language.name.{code}"), Action.LANGUAGE, code)
            for code in LANGUAGES
        )
        return Question(turn.t("language.ask"), (row,), False)

    async def _region(self, turn: Turn) -> Question:
        regions = await turn.unit.regions(turn.lang)
        buttons = [turn.button(r.label, Action.REGION, r.key) for r in regions]
        rows: list[tuple[Button, ...]] = [
            tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)
        ]
        if turn.draft.direct:
            rows.append((turn.button(turn.t("button.office_unknown"), Action.REGION, Answer.NONE),))
        rows.append(self._nav(turn))
        key = _("region.ask_direct") if turn.draft.direct else _("region.ask")
        return Question(turn.t(key), tuple(rows), True)

    async def _office(self, turn: Turn) -> Question:
        draft = turn.draft
        if draft.search:
            found = await turn.unit.search_offices(
                draft.search, turn.lang, self._limits.search_results
            )
            rows: list[tuple[Button, ...]] = [
                (turn.button(c.label, Action.OFFICE, c.key),) for c in found
            ]
            text = turn.t("office.results", needle=draft.search)
        else:
            offices = await turn.unit.offices(draft.region or "", turn.lang)
            rows = self._paged(turn, offices, Action.OFFICE, Action.OFFICE_PAGE)
            text = turn.t("office.ask")
        rows.append(self._nav(turn))
        return Question(text, tuple(rows), True)

    async def _category(self, turn: Turn) -> Question:
        categories = await turn.unit.categories(turn.lang)
        rows: list[tuple[Button, ...]] = [
            (turn.button(c.label, Action.CATEGORY, c.key),) for c in categories
        ]
        rows.append((turn.button(turn.t("button.other_service"), Action.CATEGORY, Answer.NONE),))
        rows.append(self._nav(turn))
        return Question(turn.t("category.ask"), tuple(rows), False)

    async def _service(self, turn: Turn) -> Question:
        services = await turn.unit.services(turn.draft.category or "", turn.lang)
        rows = self._paged(turn, services, Action.SERVICE, Action.SERVICE_PAGE)
        rows.append((turn.button(turn.t("button.other_service"), Action.SERVICE, Answer.NONE),))
        rows.append(self._nav(turn))
        return Question(turn.t("service.ask"), tuple(rows), False)

    async def _rating(self, turn: Turn) -> Question:
        row = tuple(turn.button(str(n), Action.RATING, str(n)) for n in range(1, 6))
        return Question(turn.t("rating.ask"), (row, self._nav(turn)), False)

    async def _criteria(self, turn: Turn) -> Question:
        index = min(max(turn.draft.criterion, 0), len(CRITERIA) - 1)
        question = turn.t(CRITERION_QUESTIONS[CRITERIA[index]])
        text = f"({index + 1}/{len(CRITERIA)}) {question}"
        row = (
            turn.button(turn.t("button.yes"), Action.CRITERION, Answer.YES),
            turn.button(turn.t("button.no"), Action.CRITERION, Answer.NO),
            turn.button(turn.t("button.skip"), Action.CRITERION, Answer.SKIP),
        )
        return Question(text, (row, self._nav(turn)), False)

    async def _text(self, turn: Turn) -> Question:
        draft = turn.draft
        rows: list[tuple[Button, ...]] = []
        if draft.direct:
            key = _("text.ask_direct")
        else:
            low = draft.rating is not None and draft.rating <= 2
            key = _("text.ask_low") if low else _("text.ask")
        text = turn.t(key, limit=self._limits.max_text)
        if draft.text:
            # What was typed at an earlier question is offered, not silently sent.
            preview = draft.text if len(draft.text) <= PREVIEW else draft.text[:PREVIEW] + "…"
            text = f"{text}\n\n{turn.t('text.offer_kept', text=preview)}"
            rows.append((turn.button(turn.t("button.keep_text"), Action.TEXT, Answer.KEEP),))
        if not draft.direct:
            rows.append((turn.button(turn.t("button.skip_text"), Action.TEXT, Answer.NONE),))
        rows.append(self._nav(turn))
        return Question(text, tuple(rows), True)

    async def _photo(self, turn: Turn) -> Question:
        rows = (
            (turn.button(turn.t("button.skip_photo"), Action.SKIP_PHOTO, Answer.NONE),),
            self._nav(turn),
        )
        return Question(turn.t("photo.ask"), rows, False)

    async def _consent(self, turn: Turn) -> Question:
        rows = (
            (turn.button(turn.t("button.consent_yes"), Action.CONSENT, Answer.YES),),
            (turn.button(turn.t("button.consent_no"), Action.CONSENT, Answer.NO),),
            self._nav(turn),
        )
        return Question(turn.t("consent.ask"), rows, False)

    async def _erase(self, turn: Turn) -> Question:
        row = (
            turn.button(turn.t("button.erase_yes"), Action.ERASE, Answer.YES),
            turn.button(turn.t("button.erase_no"), Action.ERASE, Answer.NO),
        )
        return Question(turn.t("erase.ask"), (row,), False)


def step_of(marker: str) -> tuple[Step, int]:
    """A history entry (``criteria#2``, ``region``) as a step and a criterion index."""
    name, _sep, index = marker.partition("#")
    try:
        step = Step(name)
    except ValueError:
        return Step.IDLE, 0
    return step, int(index) if index.isdigit() else 0
