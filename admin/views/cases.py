"""The case page and its actions: assign, correct tags, change status, reply, note; attachments."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.orm.exc import StaleDataError

from admin import case_states, casework
from admin.access import current_staff, require_roles
from admin.casework import Actor, CaseActionError, CaseChanged
from admin.i18n import N_
from admin.keys import CHANNEL_PHOTOS, CLOCK, CONFIG, COUNTS, DATABASE, EXPLAINER, ChannelPhotos
from admin.masking import mask_personal_data
from admin.params import choice, integer, path_id, text_field
from admin.policy import (
    CASE_ROLES,
    RAW_TEXT_ROLES,
    can_see_case,
    can_see_raw_text,
    possible_assignees,
)
from admin.rendering import Translate, flash, render, translator
from admin.views.auth import client_ip
from admin.views.labels import (
    CHANNEL_LABELS,
    CRITERIA_LABELS,
    DELIVERY_LABELS,
    EVENT_LABELS,
    FIELD_LABELS,
    STATUS_LABELS,
    TAG_LABELS,
    priority_label,
)
from storage.files import remove_stored
from storage.models import Case, CaseStatus, StaffRole, StaffUser, TagSource
from storage.repositories.cases import OPEN_STATUSES
from storage.repositories.feedback import effective_tags
from storage.uow import UnitOfWork
from vocabulary import CRITERIA, SEVERITY

Form = MultiDictProxy[Any]
SAFE_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
log = structlog.get_logger("pikir.admin")
CONFLICT_MESSAGE = N_(
    "Someone else changed this case while you were looking at it. Nothing was saved; here is "
    "the case as it is now. Check it and try again."
)
Action = Callable[[UnitOfWork, Actor, Case, Form], Awaitable[str]]


async def _load_visible_case(uow: UnitOfWork, staff: StaffUser, case_id: int) -> Case:
    case = await uow.cases.get(case_id)
    if case is None:
        raise web.HTTPNotFound
    if not can_see_case(staff, case):
        raise web.HTTPForbidden(text=N_("This case is outside your regions or role."))
    return case


@require_roles(*CASE_ROLES)
async def case_page(request: web.Request) -> web.StreamResponse:
    """A case with the citizen's text masked."""
    return await _show_case(request, original=False)


@require_roles(*RAW_TEXT_ROLES)
async def case_original(request: web.Request) -> web.StreamResponse:
    """A case with the citizen's original text; every such view is in the audit log."""
    return await _show_case(request, original=True)


async def _show_case(
    request: web.Request,
    *,
    original: bool,
    status: int = 200,
    error: str | None = None,
    drafts: Mapping[str, str] | None = None,
) -> web.Response:
    staff = current_staff(request)
    case_id = path_id(request)
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        case = await _load_visible_case(uow, staff, case_id)
        if original:
            uow.audit.record(
                "case.view_raw",
                actor=staff,
                target_type="case",
                target_id=case.id,
                ip=client_ip(request),
            )
            await uow.commit()
        context = await _case_context(request, uow, staff, case, original=original)
    context.update({"error": error, "drafts": drafts or {}})
    return await render(request, "case.html", context, status=status)


async def _case_context(
    request: web.Request, uow: UnitOfWork, staff: StaffUser, case: Case, *, original: bool
) -> dict[str, Any]:
    feedback = case.feedback
    now = request.app[CLOCK]()
    raw_text = feedback.text or ""
    shown_text = raw_text if original else mask_personal_data(raw_text)
    effective = effective_tags(feedback.tags)
    corrections: dict[str, list[Any]] = {}
    for tag in feedback.tags:
        if tag.source == TagSource.STAFF:
            corrections.setdefault(tag.tag, []).append(tag)
    respondent = await uow.cases.respondent(feedback.respondent_id)
    messages = await uow.cases.outbox_messages(case.id)
    colleagues = await uow.staff.case_candidates(case.region_code)
    people = {user.id: user.display_name or user.login for user in colleagues}
    people |= await uow.cases.staff_names(
        {e.actor_id for e in case.events if e.actor_id}
        | {t.author_id for t in feedback.tags if t.author_id}
        | ({case.assignee_id} if case.assignee_id else set())
    )
    return {
        "case": case,
        "feedback": feedback,
        "original": original,
        "can_see_original": can_see_raw_text(staff),
        "text": shown_text,
        "text_erased": feedback.text_erased_at is not None,
        "criteria": [
            (CRITERIA_LABELS[name], getattr(feedback, f"crit_{name}")) for name in CRITERIA
        ],
        "tags": [
            {
                "name": tag,
                "label": TAG_LABELS[tag],
                "present": bool(effective.get(tag, {}).get("present")),
                "probability": effective.get(tag, {}).get("probability"),
                "source": effective.get(tag, {}).get("source"),
                "corrections": sorted(corrections.get(tag, []), key=lambda t: t.created_at),
            }
            for tag in SEVERITY
        ],
        "explanations": await _explanations(request, raw_text, original),
        "events": [
            (event, _changes(event.details, people, translator(request))) for event in case.events
        ],
        "messages": messages,
        "people": people,
        "assignees": possible_assignees(colleagues, case),
        "forward_statuses": case_states.FORWARD[case.status],
        "backward_statuses": case_states.BACKWARD[case.status],
        "reply_possible": respondent is not None and bool(respondent.reply_address),
        "overdue": case.status in OPEN_STATUSES and case.due_at is not None and case.due_at < now,
        "priority": priority_label(case.priority),
        "status_labels": STATUS_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "delivery_labels": DELIVERY_LABELS,
        "event_labels": EVENT_LABELS,
        "tag_labels": TAG_LABELS,
    }


def _changes(
    details: Mapping[str, Any] | None, people: Mapping[int, str], _: Translate
) -> list[tuple[str, str, str]]:
    """What an event changed, as translated (field, before, after)."""
    if not details:
        return []
    before, after = details.get("before") or {}, details.get("after") or {}
    return [
        (
            _(FIELD_LABELS[key]),
            _word(key, before.get(key), people, _),
            _word(key, after[key], people, _),
        )
        for key in FIELD_LABELS
        if key in after and before.get(key) != after.get(key)
    ]


def _word(key: str, value: Any, people: Mapping[int, str], _: Translate) -> str:
    if value is None or value == []:
        return "—"
    if key == "status":
        return _(STATUS_LABELS.get(str(value), str(value)))
    if key == "labels":
        return ", ".join(_(TAG_LABELS.get(tag, tag)) for tag in value)
    if key == "priority":
        return _(priority_label(int(value)))
    if key == "assignee_id":
        return people.get(int(value), "?")
    return str(value)


async def _explanations(request: web.Request, text: str, original: bool) -> dict[str, list[str]]:
    explainer = request.app[EXPLAINER]
    if explainer is None or not text:
        return {}
    try:
        # The model's work is CPU-bound: off the event loop, so other staff are not kept waiting.
        raw = await asyncio.to_thread(explainer.explain, text, 3)
    except Exception:  # an explanation is a help, never a reason for the page to fail
        log.warning("admin.explain_failed", exc_info=True)
        return {}
    shown = (lambda word: word) if original else mask_personal_data
    return {tag: [shown(word) for word, _weight in words] for tag, words in raw.items()}


async def _act(
    request: web.Request, action: Action, *, needs_version: bool = True
) -> web.StreamResponse:
    staff = current_staff(request)
    case_id = path_id(request)
    form = await request.post()
    _ = translator(request)
    version = integer(form, "version", low=1)
    if needs_version and version is None:
        raise web.HTTPBadRequest(text=N_("A required field is empty."))
    actor = Actor(staff=staff, ip=client_ip(request), now=request.app[CLOCK]())
    drafts = {name: text_field(form, name, 20000) for name in ("reply", "note", "reason")}
    failure: tuple[int, str] | None = None
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        case = await _load_visible_case(uow, staff, case_id)
        try:
            if needs_version and version is not None:
                casework.ensure_version(case, version)
            message = await action(uow, actor, case, form)
            await uow.commit()
            request.app[COUNTS].clear()
        except (CaseChanged, StaleDataError):
            failure = (409, CONFLICT_MESSAGE)
        except CaseActionError as exc:
            failure = (400, str(exc))
        visible = can_see_case(staff, case)
    if failure is not None:
        status, error = failure
        # The page shows the case as it is now and keeps what the staff member typed.
        return await _show_case(
            request, original=False, status=status, error=_(error), drafts=drafts
        )
    await flash(request, _(message))
    if not visible:
        await flash(request, _("The case has moved out of your queue."))
        raise web.HTTPSeeOther(location="/admin/queue")
    raise web.HTTPSeeOther(location=f"/admin/cases/{case_id}")


@require_roles(*CASE_ROLES)
async def assign_case(request: web.Request) -> web.StreamResponse:
    """Assign the case to oneself, to a colleague, or to nobody."""

    async def action(uow: UnitOfWork, actor: Actor, case: Case, form: Form) -> str:
        assignee_id = integer(form, "assignee", low=1)
        assignee = None
        if assignee_id is not None:
            assignee = await uow.staff.by_id(assignee_id)
            if assignee is None or assignee not in possible_assignees([assignee], case):
                raise CaseActionError(N_("This colleague cannot work on this case."))
        casework.assign(uow, actor, case, assignee)
        return N_("The case has been assigned.") if assignee else N_("The case is unassigned.")

    return await _act(request, action)


@require_roles(*CASE_ROLES)
async def change_case_status(request: web.Request) -> web.StreamResponse:
    """Move the case to another status as :mod:`admin.case_states` allows."""

    async def action(uow: UnitOfWork, actor: Actor, case: Case, form: Form) -> str:
        value = choice(form, "status", [status.value for status in CaseStatus])
        if value is None:  # the form's default, "no change"
            raise CaseActionError(N_("Nothing was changed: choose a new status."))
        reason = text_field(form, "reason", casework.MAX_REASON_LENGTH)
        casework.change_status(
            uow,
            actor,
            case,
            CaseStatus(value),
            reason,
            confirmed_backward=choice(form, "back", ("1",)) is not None,
        )
        return N_("The status has been changed.")

    return await _act(request, action)


@require_roles(*CASE_ROLES)
async def correct_case_tags(request: web.Request) -> web.StreamResponse:
    """Store staff corrections of the tags (they become training data)."""

    async def action(uow: UnitOfWork, actor: Actor, case: Case, form: Form) -> str:
        wanted: dict[str, bool] = {}
        for tag in SEVERITY:
            value = choice(form, f"tag_{tag}", ("0", "1"))
            if value is not None:
                wanted[tag] = value == "1"
        changed = casework.correct_tags(uow, actor, case, wanted, request.app[CONFIG].sla_hours)
        return N_("The tags have been corrected.") if changed else N_("The tags are unchanged.")

    return await _act(request, action)


@require_roles(*CASE_ROLES)
async def reply_to_citizen(request: web.Request) -> web.StreamResponse:
    """Answer the citizen through the outbox (or for /status when their chat is unknown)."""

    async def action(uow: UnitOfWork, actor: Actor, case: Case, form: Form) -> str:
        text = text_field(form, "reply", 20000)
        message = await casework.reply(uow, actor, case, text)
        if message is None:
            return N_("The answer is saved; the citizen can read it with /status.")
        return N_("The answer is queued for delivery to the citizen.")

    return await _act(request, action)


@require_roles(*CASE_ROLES)
async def add_case_note(request: web.Request) -> web.StreamResponse:
    """An internal note; notes never conflict, so no version is needed."""

    async def action(uow: UnitOfWork, actor: Actor, case: Case, form: Form) -> str:
        casework.add_note(uow, actor, case, text_field(form, "note", 20000))
        return N_("The note has been added.")

    return await _act(request, action, needs_version=False)


@require_roles(StaffRole.ADMIN)
async def erase_case_content(request: web.Request) -> web.StreamResponse:
    """Erase the citizen's text and photos of a case (rows and files); audited. The figures
    are kept: ratings, criteria, tags and the case stay."""
    staff = current_staff(request)
    _ = translator(request)
    case_id = path_id(request)
    config = request.app[CONFIG]
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        case = await _load_visible_case(uow, staff, case_id)
        erasure = await uow.feedback.erase_content(case.feedback_id)
        uow.audit.record(
            "case.erase_content",
            actor=staff,
            target_type="case",
            target_id=case.id,
            after={"photos": len(erasure.locations)},
            ip=client_ip(request),
        )
        await uow.commit()
    # After the commit: a file a crash leaves behind is removed by the retention job's sweep.
    await asyncio.to_thread(remove_stored, config.data_dir, erasure.locations)
    request.app[COUNTS].clear()
    await flash(request, _("The citizen's text and photos have been erased."))
    raise web.HTTPSeeOther(location=f"/admin/cases/{case_id}")


@require_roles(*RAW_TEXT_ROLES)
async def attachment(request: web.Request) -> web.StreamResponse:
    """A photo of a case, stored here or fetched from the channel that keeps it (Telegram); it
    may show personal data: audited, like the original text."""
    staff = current_staff(request)
    attachment_id = path_id(request)
    config = request.app[CONFIG]
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        found = await uow.cases.attachment(attachment_id)
        if found is None:
            raise web.HTTPNotFound
        item, case = found
        if not can_see_case(staff, case):
            raise web.HTTPForbidden(text=N_("This case is outside your regions or role."))
        uow.audit.record(
            "attachment.view",
            actor=staff,
            target_type="attachment",
            target_id=item.id,
            ip=client_ip(request),
        )
        await uow.commit()
    if item.erased_at is not None or not item.location:
        raise web.HTTPNotFound(text=N_("This photo is not stored on this server."))
    path = _stored_file(config.data_dir.resolve(), config.uploads_dir.resolve(), item.location)
    if path is not None:
        return web.FileResponse(path, headers=_photo_headers(item.content_type))
    content = await _channel_photo(request.app[CHANNEL_PHOTOS], item.location)
    if content is None:
        raise web.HTTPNotFound(text=N_("This photo is not stored on this server."))
    return web.Response(body=content, headers=_photo_headers(item.content_type))


def _photo_headers(content_type: str) -> dict[str, str]:
    # Only plain raster images are shown in the browser; anything else (an SVG could carry
    # script) is downloaded as opaque bytes.
    inline = content_type in SAFE_IMAGE_TYPES
    return {
        "Content-Type": content_type if inline else "application/octet-stream",
        "Content-Disposition": "inline" if inline else "attachment",
    }


async def _channel_photo(fetch: ChannelPhotos | None, location: str) -> bytes | None:
    # A channel's own file id names no path (a stored upload is ``uploads/…``): the channel
    # that keeps it fetches it, from whichever worker the staff member is on.
    if fetch is None or "/" in location:
        return None
    return await fetch(location)


def _stored_file(data_dir: Path, uploads: Path, location: str | None) -> Path | None:
    # A Telegram file id, a path outside the uploads or a missing file: nothing to serve.
    if not location:
        return None
    candidate = (data_dir / location).resolve()
    if not candidate.is_relative_to(uploads) or not candidate.is_file():
        return None
    return candidate
