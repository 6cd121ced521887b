"""The question of each step, rendered as a reply with its buttons."""

from __future__ import annotations

from collections.abc import Sequence

from bot.conversation.events import LANGUAGES
from bot.conversation.i18n import _
from bot.conversation.ports import Choice
from bot.conversation.replies import Button
from bot.conversation.state import CRITERIA, Step
from bot.conversation.turn import Limits, Turn

Rows = tuple[tuple[Button, ...], ...]

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

    async def prompt(self, turn: Turn, note: str | None = None) -> None:
        """Ask the question of ``turn.step`` (after an optional note)."""
        render = getattr(self, f"_{turn.step.value}")
        text, rows, expects_text = await render(turn)
        if note:
            text = f"{note}\n\n{text}"
        turn.say(text, rows, expects_text=expects_text)

    def _nav(self, turn: Turn) -> tuple[Button, ...]:
        back = turn.button(turn.t("button.back"), "b")
        cancel = turn.button(turn.t("button.cancel"), "x")
        return (back, cancel) if turn.draft.history else (cancel,)

    def _paged(
        self, turn: Turn, choices: Sequence[Choice], action: str, page_action: str
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

    async def _idle(self, turn: Turn) -> tuple[str, Rows, bool]:
        return turn.t("idle.hint"), ((turn.button(turn.t("button.again"), "g"),),), False

    async def _language(self, turn: Turn) -> tuple[str, Rows, bool]:
        row = tuple(turn.button(turn.t(f"language.name.{code}"), "l", code) for code in LANGUAGES)
        return turn.t("language.ask"), (row,), False

    async def _region(self, turn: Turn) -> tuple[str, Rows, bool]:
        regions = await turn.unit.regions(turn.lang)
        buttons = [turn.button(r.label, "r", r.key) for r in regions]
        rows: list[tuple[Button, ...]] = [
            tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)
        ]
        if turn.draft.direct:
            rows.append((turn.button(turn.t("button.office_unknown"), "r", "-"),))
        rows.append(self._nav(turn))
        key = _("region.ask_direct") if turn.draft.direct else _("region.ask")
        return turn.t(key), tuple(rows), True

    async def _office(self, turn: Turn) -> tuple[str, Rows, bool]:
        draft = turn.draft
        if draft.search:
            found = await turn.unit.search_offices(
                draft.search, turn.lang, self._limits.search_results
            )
            rows: list[tuple[Button, ...]] = [(turn.button(c.label, "o", c.key),) for c in found]
            text = turn.t("office.results", needle=draft.search)
        else:
            offices = await turn.unit.offices(draft.region or "", turn.lang)
            rows = self._paged(turn, offices, "o", "op")
            text = turn.t("office.ask")
        rows.append(self._nav(turn))
        return text, tuple(rows), True

    async def _category(self, turn: Turn) -> tuple[str, Rows, bool]:
        categories = await turn.unit.categories(turn.lang)
        rows: list[tuple[Button, ...]] = [(turn.button(c.label, "c", c.key),) for c in categories]
        rows.append((turn.button(turn.t("button.other_service"), "c", "-"),))
        rows.append(self._nav(turn))
        return turn.t("category.ask"), tuple(rows), False

    async def _service(self, turn: Turn) -> tuple[str, Rows, bool]:
        services = await turn.unit.services(turn.draft.category or "", turn.lang)
        rows = self._paged(turn, services, "s", "sp")
        rows.append((turn.button(turn.t("button.other_service"), "s", "-"),))
        rows.append(self._nav(turn))
        return turn.t("service.ask"), tuple(rows), False

    async def _rating(self, turn: Turn) -> tuple[str, Rows, bool]:
        row = tuple(turn.button(str(n), "n", str(n)) for n in range(1, 6))
        return turn.t("rating.ask"), (row, self._nav(turn)), False

    async def _criteria(self, turn: Turn) -> tuple[str, Rows, bool]:
        index = min(max(turn.draft.criterion, 0), len(CRITERIA) - 1)
        question = turn.t(CRITERION_QUESTIONS[CRITERIA[index]])
        text = f"({index + 1}/{len(CRITERIA)}) {question}"
        row = (
            turn.button(turn.t("button.yes"), "k", "y"),
            turn.button(turn.t("button.no"), "k", "n"),
            turn.button(turn.t("button.skip"), "k", "s"),
        )
        return text, (row, self._nav(turn)), False

    async def _text(self, turn: Turn) -> tuple[str, Rows, bool]:
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
            rows.append((turn.button(turn.t("button.keep_text"), "t", "k"),))
        if not draft.direct:
            rows.append((turn.button(turn.t("button.skip_text"), "t", "-"),))
        rows.append(self._nav(turn))
        return text, tuple(rows), True

    async def _photo(self, turn: Turn) -> tuple[str, Rows, bool]:
        rows = ((turn.button(turn.t("button.skip_photo"), "p", "-"),), self._nav(turn))
        return turn.t("photo.ask"), rows, False

    async def _consent(self, turn: Turn) -> tuple[str, Rows, bool]:
        rows = (
            (turn.button(turn.t("button.consent_yes"), "a", "y"),),
            (turn.button(turn.t("button.consent_no"), "a", "n"),),
            self._nav(turn),
        )
        return turn.t("consent.ask"), rows, False

    async def _erase(self, turn: Turn) -> tuple[str, Rows, bool]:
        row = (
            turn.button(turn.t("button.erase_yes"), "e", "y"),
            turn.button(turn.t("button.erase_no"), "e", "n"),
        )
        return turn.t("erase.ask"), (row,), False


def step_of(marker: str) -> tuple[Step, int]:
    """A history entry (``criteria#2``, ``region``) as a step and a criterion index."""
    name, _sep, index = marker.partition("#")
    try:
        step = Step(name)
    except ValueError:
        return Step.IDLE, 0
    return step, int(index) if index.isdigit() else 0
