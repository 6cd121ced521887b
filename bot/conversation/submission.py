"""Recording a finished conversation: tags, the feedback row, the staff alert, the receipt."""

from __future__ import annotations

from bot.conversation.callbacks import Action
from bot.conversation.i18n import _
from bot.conversation.ports import StaffTextsPort, Submission, TaggerPort, TagResult
from bot.conversation.state import Draft, Step
from bot.conversation.turn import Turn

# Office names in a staff alert when no staff texts are configured (tests, benchmarks).
DEFAULT_STAFF_LANGUAGE = "ru"


class Submitter:
    """Turns the draft into a recorded feedback and tells the citizen its reference."""

    def __init__(
        self, tagger: TaggerPort | None, case_url: str, staff_texts: StaffTextsPort | None
    ) -> None:
        self._tagger = tagger
        self._case_url = case_url.rstrip("/")
        self._staff_texts = staff_texts

    async def submit(self, turn: Turn, consent: bool) -> None:
        """Record the feedback, alert staff if needed, and answer with the receipt."""
        draft = turn.draft
        if turn.respondent_id is None:  # erased in this very event; nothing to attach it to
            raise RuntimeError("submission without a respondent")
        tags = self._tag(draft.text)
        office = await turn.unit.office(draft.office_id, turn.lang) if draft.office_id else None
        recorded = await turn.unit.record(
            Submission(
                channel=turn.incoming.channel,
                language=turn.lang,
                respondent_id=turn.respondent_id,
                reply_address=turn.incoming.chat_key if consent else None,
                office_id=office.id if office else None,
                region_code=office.region_code if office else draft.region,
                service_id=draft.service_id,
                rating=None if draft.direct else draft.rating,
                criteria={} if draft.direct else dict(draft.criteria),
                text=draft.text,
                is_direct_report=draft.direct,
                consent_contact=consent,
                tags=tags,
                photos=tuple(draft.photos),
            )
        )
        if draft.direct or (tags is not None and "corruption" in tags.labels):
            await self._alert(
                turn, recorded.ref, recorded.case_id, office_id=draft.office_id, tags=tags
            )
        thanks = _("receipt.direct") if draft.direct else _("receipt.done")
        contact = _("receipt.contact") if consent else _("receipt.anonymous")
        receipt = [turn.t(thanks, ref=recorded.ref), turn.t(contact)]
        receipt.append(turn.t("receipt.status_hint", ref=recorded.ref))
        _finish(draft, recorded.ref)
        turn.step = Step.IDLE
        turn.submitted_ref = recorded.ref
        turn.say(
            "\n\n".join(receipt),
            (
                (turn.button(turn.t("button.status"), Action.STATUS, recorded.ref),),
                (turn.button(turn.t("button.again"), Action.START_AGAIN),),
            ),
        )

    def _tag(self, text: str | None) -> TagResult | None:
        if not text or self._tagger is None:
            return None
        return self._tagger.tag(text)

    async def _alert(
        self,
        turn: Turn,
        ref: str,
        case_id: int | None,
        *,
        office_id: int | None,
        tags: TagResult | None,
    ) -> None:
        # The alert carries no personal data and no free text.
        staff = self._staff_texts
        language = staff.language if staff is not None else DEFAULT_STAFF_LANGUAGE
        office = await turn.unit.office(office_id, language) if office_id else None
        fields = {
            "ref": ref,
            "office": f"{office.code} {office.name}" if office else "—",
            "tags": ", ".join(sorted(tags.labels)) if tags and tags.labels else "—",
            "link": f"{self._case_url}/{case_id}" if case_id is not None else "—",
        }
        if staff is not None:
            text = staff.alert(direct=turn.draft.direct, **fields)
        else:  # no catalog to speak in: the bare facts, in no language
            text = "⚠️ " + "\n".join(fields.values())
        await turn.unit.alert_staff(text, case_id, ref)


def _finish(draft: Draft, ref: str) -> None:
    draft.clear_answers()
    draft.last_ref = ref
