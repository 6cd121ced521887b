"""The steps of the citizen's conversation: what each event does at each step.

Entry (with or without an office code) → language (unless the device's language gives it) →
office (region and paged list, or typed search) → service (category, service, or "other") →
rating 1–5 → one-tap criteria → free text → photo → consent → receipt. ``/corruption`` takes the
short way: office → text → photo → consent. Text typed where a button is expected is kept as
the draft comment and offered back at the free-text question.
"""

from __future__ import annotations

import unicodedata

from bot.conversation import callbacks
from bot.conversation.callbacks import Action, Answer
from bot.conversation.events import (
    LANGUAGES,
    Command,
    Event,
    Photo,
    Press,
    Start,
    language_from_hint,
)
from bot.conversation.i18n import _
from bot.conversation.ports import PhotoRef, StaffTextsPort, TaggerPort
from bot.conversation.prompts import STATUS_NAMES, Prompter, step_of
from bot.conversation.replies import Button
from bot.conversation.state import CRITERIA, Draft, Step
from bot.conversation.submission import Submitter
from bot.conversation.turn import Limits, Turn

# Steps of a feedback in progress: "back" and "cancel" make sense there.
FLOW_STEPS = frozenset(
    {
        Step.REGION,
        Step.OFFICE,
        Step.CATEGORY,
        Step.SERVICE,
        Step.RATING,
        Step.CRITERIA,
        Step.TEXT,
        Step.PHOTO,
        Step.CONSENT,
    }
)
# Steps that expect a button: text typed there is kept as the draft comment.
KEEPS_TEXT = frozenset(
    {
        Step.LANGUAGE,
        Step.CATEGORY,
        Step.SERVICE,
        Step.RATING,
        Step.CRITERIA,
        Step.PHOTO,
        Step.CONSENT,
    }
)
# Steps where a photo is kept with the feedback (a channel may check before taking an upload).
PHOTO_STEPS = frozenset({Step.TEXT, Step.PHOTO})
RATINGS = frozenset({"1", "2", "3", "4", "5"})
CRITERION_ANSWERS = frozenset({Answer.YES, Answer.NO, Answer.SKIP})
YES_NO = frozenset({Answer.YES, Answer.NO})
COMMAND_ALIASES = {"forget": "erase", "delete": "erase", "lang": "language", "stop": "cancel"}


class Flow:
    """Applies one event to a turn."""

    def __init__(
        self,
        tagger: TaggerPort | None,
        limits: Limits,
        case_url: str,
        staff_texts: StaffTextsPort | None = None,
    ) -> None:
        self.limits = limits
        self.prompter = Prompter(limits)
        self.submitter = Submitter(tagger, case_url, staff_texts)

    async def handle(self, turn: Turn, event: Event) -> None:
        """Dispatch one event."""
        if isinstance(event, Start):
            await self.start(turn, event.office_code)
        elif isinstance(event, Command):
            await self.command(turn, COMMAND_ALIASES.get(event.name, event.name), event.args)
        elif isinstance(event, Press):
            turn.pressed = True
            await self.press(turn, event.data)
        elif isinstance(event, Photo):
            await self.photo(turn, event)
        else:
            await self.text(turn, event.text)

    # ------------------------------------------------------------------ entry and commands

    async def start(self, turn: Turn, office_code: str | None, *, direct: bool = False) -> None:
        """Begin a new feedback (or a direct report), forgetting any unfinished one."""
        draft = turn.draft
        kept_office = draft.office_id if direct and turn.step in FLOW_STEPS else None
        draft.clear_answers()
        draft.direct = direct
        draft.office_id = kept_office
        code = _clean(office_code or "")[:32]
        if code:
            office = await turn.unit.office_by_code(code, turn.lang)
            if office is None:
                turn.say(turn.t("start.unknown_office", code=code))
            else:
                draft.office_id, draft.region = office.id, office.region_code
        language = draft.language or turn.respondent_language
        guessed = None
        if language is None:
            # The device's language stands in for the question; one tap changes it.
            guessed = language_from_hint(turn.incoming.language_hint)
            if guessed is None:
                turn.step = Step.LANGUAGE
                await self.prompter.prompt(turn)
                return
            language = guessed
        draft.language = language
        await self._welcome(turn, offer_languages=guessed is not None)

    async def _welcome(self, turn: Turn, *, offer_languages: bool = False) -> None:
        draft = turn.draft
        greeting = _("corruption.intro") if draft.direct else _("start.welcome")
        lines = [turn.t(greeting)]
        if draft.office_id is not None:
            office = await turn.unit.office(draft.office_id, turn.lang)
            if office is not None:
                lines.append(turn.t("start.office", office=office.name))
        rows: tuple[tuple[Button, ...], ...] = ()
        if offer_languages:
            lines.append(turn.t("language.preselected"))
            rows = (
                tuple(
                    turn.button(
                        turn.translator.text(code, f"language.name.{code}"),
                        Action.SWITCH_LANGUAGE,
                        code,
                    )
                    for code in LANGUAGES
                    if code != turn.lang
                ),
            )
        turn.say("\n\n".join(lines), rows)
        turn.step = Step.IDLE
        await self.enter(turn, self._first_step(draft))

    @staticmethod
    def _first_step(draft: Draft) -> Step:
        if draft.office_id is None:
            return Step.REGION
        return Step.TEXT if draft.direct else Step.CATEGORY

    async def command(self, turn: Turn, name: str, args: str) -> None:
        """Apply a command: help, status, corruption, language, cancel, back or erase."""
        if name == "corruption":
            await self.start(turn, None, direct=True)
        elif name == "cancel":
            await self.cancel(turn)
        elif name == "back":
            await self.back(turn)
        elif name == "language":
            if turn.step is not Step.LANGUAGE:
                turn.draft.resume = self._marker(turn)
            turn.step = Step.LANGUAGE
            await self.prompter.prompt(turn)
        elif name == "erase":
            if turn.step is not Step.ERASE:
                turn.draft.resume = self._marker(turn)
            turn.step = Step.ERASE
            await self.prompter.prompt(turn)
        elif name == "status":
            await self.status(turn, args)
        elif name == "help":
            turn.say(turn.t("help.text"))
            await self._reprompt(turn)
        else:
            turn.say(turn.t("command.unknown"))
            await self._reprompt(turn)

    async def status(self, turn: Turn, args: str) -> None:
        """Show the state of the citizen's (or a given) reference number."""
        ref = _clean(args)[:32] or turn.draft.last_ref
        if not ref:
            turn.say(turn.t("status.usage"))
        else:
            state = await turn.unit.case_state(ref)
            if state is None:
                turn.say(turn.t("status.unknown", ref=ref))
            else:
                line = turn.t(
                    "status.line", ref=state.ref, state=turn.t(STATUS_NAMES[state.status])
                )
                turn.say(line)
        await self._reprompt(turn)

    async def cancel(self, turn: Turn) -> None:
        """Drop the feedback in progress."""
        turn.draft.clear_answers()
        turn.step = Step.IDLE
        turn.say(turn.t("cancel.done"))

    async def back(self, turn: Turn) -> None:
        """Return to the previous question."""
        draft = turn.draft
        if turn.step not in FLOW_STEPS or not draft.history:
            await self._reprompt(turn, note=turn.t("back.none"))
            return
        step, index = step_of(draft.history.pop())
        turn.step = step
        draft.criterion = index
        draft.page = 0
        if step is Step.REGION:
            draft.search = None
        await self.prompter.prompt(turn)

    async def ask_again(self, turn: Turn) -> None:
        """Ask the current question again, changing nothing (for a redelivered event)."""
        await self._reprompt(turn)

    async def _reprompt(self, turn: Turn, note: str | None = None) -> None:
        if turn.step is Step.IDLE and note is None:
            return
        await self.prompter.prompt(turn, note)

    # ------------------------------------------------------------------ navigation

    def _marker(self, turn: Turn) -> str:
        if turn.step is Step.CRITERIA:
            return f"{Step.CRITERIA.value}#{turn.draft.criterion}"
        return turn.step.value

    async def enter(self, turn: Turn, step: Step) -> None:
        """Move forward to ``step`` (remembering where we were) and ask its question."""
        if turn.step in FLOW_STEPS:
            turn.draft.history.append(self._marker(turn))
        turn.step = step
        turn.draft.page = 0
        await self.prompter.prompt(turn)

    # ------------------------------------------------------------------ button presses

    async def press(self, turn: Turn, data: str) -> None:
        """Apply a button press, or answer it as stale when it comes from an old message."""
        pressed = callbacks.decode(data)
        if pressed is not None and await self._timeless_press(
            turn, pressed.action, pressed.argument
        ):
            return
        if pressed is None or pressed.version != turn.stored_version:
            await self._stale(turn)
            return
        action, arg = pressed.action, pressed.argument
        if action is Action.BACK:
            await self.back(turn)
        elif action is Action.CANCEL:
            await self.cancel(turn)
        elif action is Action.START_AGAIN:
            await self.start(turn, None)
        elif not await self._step_press(turn, action, arg):
            await self._stale(turn)

    async def _timeless_press(self, turn: Turn, action: Action, arg: str) -> bool:
        """A press that means the same on any message, however old: the language offered
        with the welcome (outside the language question) and the receipt's status button."""
        if action is Action.SWITCH_LANGUAGE and arg in LANGUAGES and turn.step is not Step.LANGUAGE:
            turn.draft.language = arg
            if turn.respondent_id is not None:
                await turn.unit.set_language(turn.respondent_id, arg)
            turn.say(turn.t("language.saved"))
            await self._reprompt(turn)
            return True
        if action is Action.STATUS and arg:
            await self.status(turn, arg)
            return True
        return False

    async def _stale(self, turn: Turn) -> None:
        turn.stale = True
        turn.notice = turn.t("stale.notice")
        await self.prompter.prompt(turn)

    async def _step_press(self, turn: Turn, action: Action, arg: str) -> bool:
        """Apply a step's own button; False if it does not belong to the current step."""
        draft, step = turn.draft, turn.step
        if step is Step.LANGUAGE and action is Action.LANGUAGE and arg in LANGUAGES:
            await self._language_chosen(turn, arg)
        elif step is Step.REGION and action is Action.REGION:
            if arg == Answer.NONE and draft.direct:
                draft.office_id = None
                await self.enter(turn, Step.TEXT)
            else:
                draft.region, draft.search = arg[:32], None
                await self.enter(turn, Step.OFFICE)
        elif step is Step.OFFICE and action is Action.OFFICE_PAGE and arg.isdigit():
            draft.page = int(arg)
            await self.prompter.prompt(turn)
        elif step is Step.OFFICE and action is Action.OFFICE and arg.isdigit():
            office = await turn.unit.office(int(arg), turn.lang)
            if office is None:
                return False
            draft.office_id, draft.region = office.id, office.region_code
            await self.enter(turn, self._first_step(draft))
        elif step is Step.CATEGORY and action is Action.CATEGORY:
            draft.category = None if arg == Answer.NONE else arg[:32]
            draft.service_id = None
            await self.enter(turn, Step.RATING if arg == Answer.NONE else Step.SERVICE)
        elif step is Step.SERVICE and action is Action.SERVICE_PAGE and arg.isdigit():
            draft.page = int(arg)
            await self.prompter.prompt(turn)
        elif (
            step is Step.SERVICE
            and action is Action.SERVICE
            and (arg == Answer.NONE or arg.isdigit())
        ):
            draft.service_id = None if arg == Answer.NONE else int(arg)
            await self.enter(turn, Step.RATING)
        elif step is Step.RATING and action is Action.RATING and arg in RATINGS:
            await self._rated(turn, int(arg))
        elif step is Step.CRITERIA and action is Action.CRITERION and arg in CRITERION_ANSWERS:
            await self._criterion_answered(turn, Answer(arg))
        elif step is Step.TEXT and action is Action.TEXT and arg == Answer.KEEP and draft.text:
            await self.enter(turn, Step.PHOTO)  # the comment typed earlier, as it is
        elif (
            step is Step.TEXT and action is Action.TEXT and arg == Answer.NONE and not draft.direct
        ):
            draft.text = None
            await self.enter(turn, Step.PHOTO)
        elif step is Step.PHOTO and action is Action.SKIP_PHOTO:
            await self.enter(turn, Step.CONSENT)
        elif step is Step.CONSENT and action is Action.CONSENT and arg in YES_NO:
            await self.submitter.submit(turn, consent=arg == Answer.YES)
        elif step is Step.ERASE and action is Action.ERASE and arg in YES_NO:
            await self._erase_answered(turn, arg == Answer.YES)
        else:
            return False
        return True

    async def _language_chosen(self, turn: Turn, language: str) -> None:
        turn.draft.language = language
        if turn.respondent_id is not None:
            await turn.unit.set_language(turn.respondent_id, language)
        resume, turn.draft.resume = turn.draft.resume, None
        if resume is None:  # part of /start: go on with the feedback
            await self._welcome(turn)
            return
        turn.step, turn.draft.criterion = step_of(resume)
        turn.say(turn.t("language.saved"))
        await self._reprompt(turn)

    async def _rated(self, turn: Turn, rating: int) -> None:
        turn.draft.rating = rating
        turn.draft.criterion = 0
        await self.enter(turn, Step.CRITERIA)

    async def _criterion_answered(self, turn: Turn, answer: Answer) -> None:
        draft = turn.draft
        index = min(max(draft.criterion, 0), len(CRITERIA) - 1)
        name = CRITERIA[index]
        value = None if answer is Answer.SKIP else answer is Answer.YES
        if name == "no_extra_payment" and value is not None:
            value = not value  # the question asks whether money WAS asked for
        draft.criteria[name] = value
        draft.history.append(self._marker(turn))
        if index + 1 < len(CRITERIA):
            draft.criterion = index + 1
            await self.prompter.prompt(turn)
        else:
            turn.step = Step.TEXT
            await self.prompter.prompt(turn)

    async def _erase_answered(self, turn: Turn, confirmed: bool) -> None:
        if not confirmed:
            resume, turn.draft.resume = turn.draft.resume, None
            turn.step, turn.draft.criterion = step_of(resume or Step.IDLE.value)
            turn.say(turn.t("erase.cancelled"))
            await self._reprompt(turn)
            return
        if turn.respondent_id is not None:
            await turn.unit.erase_respondent(turn.respondent_id)
        language = turn.lang
        turn.draft = Draft()
        turn.respondent_id = None
        turn.respondent_language = None
        turn.step = Step.IDLE
        turn.erased = True
        turn.say(turn.translator.text(language, "erase.done"))

    # ------------------------------------------------------------------ typed text and photos

    async def text(self, turn: Turn, raw: str) -> None:
        """Typed text: a search at the office steps, the complaint at the text step."""
        text = _clean(raw)
        step = turn.step
        if not text:
            await self._reprompt(turn, note=turn.t("buttons.use"))
        elif step in (Step.REGION, Step.OFFICE):
            await self._search(turn, text)
        elif step is Step.RATING and text in RATINGS:
            await self._rated(turn, int(text))
        elif step is Step.TEXT:
            note = self._keep_text(turn, text)
            if note:
                turn.say(note)
            await self.enter(turn, Step.PHOTO)
        elif step is Step.IDLE:
            again = turn.button(turn.t("button.again"), Action.START_AGAIN)
            turn.say(turn.t("idle.hint"), ((again,),))
        elif step in KEEPS_TEXT:
            await self._keep_typed(turn, text)
        else:
            await self._reprompt(turn, note=turn.t("buttons.use"))

    async def _keep_typed(self, turn: Turn, text: str) -> None:
        """Text typed where a button is expected becomes (part of) the draft comment, so
        nothing the citizen wrote is lost; the question is asked again."""
        draft = turn.draft
        combined = f"{draft.text}\n\n{text}" if draft.text else text
        cut = self._keep_text(turn, combined)
        before_text_step = turn.step not in (Step.PHOTO, Step.CONSENT)
        notes = [turn.t(_("text.kept") if before_text_step else _("text.kept_added"))]
        if cut:
            notes.append(cut)
        if turn.step is Step.PHOTO:
            notes.append(turn.t("photo.expected"))
        await self._reprompt(turn, note="\n\n".join(notes))

    def _keep_text(self, turn: Turn, text: str) -> str | None:
        """Store the complaint, cut to the limit; the notice to show if it was cut."""
        limit = self.limits.max_text
        turn.draft.text = text[:limit]
        return turn.t("text.too_long", limit=limit) if len(text) > limit else None

    async def _search(self, turn: Turn, needle: str) -> None:
        draft = turn.draft
        needle = needle[: self.limits.search_max]
        if len(needle) < self.limits.search_min:
            await self._reprompt(turn, note=turn.t("search.too_short"))
            return
        found = await turn.unit.search_offices(needle, turn.lang, self.limits.search_results)
        if not found:
            await self._reprompt(turn, note=turn.t("search.none", needle=needle))
            return
        draft.search = needle
        if turn.step is Step.OFFICE:
            await self.prompter.prompt(turn)
        else:
            await self.enter(turn, Step.OFFICE)

    async def photo(self, turn: Turn, photo: Photo) -> None:
        """A photo at the text or photo step is kept with the feedback; elsewhere, explained."""
        draft = turn.draft
        if turn.step not in PHOTO_STEPS:
            await self._reprompt(turn, note=turn.t("photo.not_now"))
            return
        if photo.size > self.limits.max_photo_bytes or photo.size < 0:
            await self._reprompt(turn, note=turn.t("photo.too_big"))
            return
        if len(draft.photos) < self.limits.max_photos:
            draft.photos.append(
                PhotoRef(photo.file_ref[:500], int(photo.size), photo.content_type[:64])
            )
        caption = _clean(photo.caption or "")
        if turn.step is Step.TEXT and not caption:
            await self._reprompt(turn, note=turn.t("photo.saved_need_text"))
            return
        if caption and (turn.step is Step.TEXT or draft.text is None):
            note = self._keep_text(turn, caption)
            if note:
                turn.say(note)
        await self.enter(turn, Step.CONSENT)


def _clean(text: str) -> str:
    """Strip control characters (keeping line breaks) and surrounding blanks; any script is fine."""
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in {"Cc", "Cs"})
    return "".join(kept).strip()
