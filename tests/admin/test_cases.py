"""The case page and what staff do there: masking, tags, status, replies, notes, conflicts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from admin import casework
from admin.casework import Actor
from storage.models import (
    AuditEntry,
    CaseStatus,
    Channel,
    OutboxMessage,
    OutboxStatus,
    StaffRole,
    Tag,
    TagSource,
)
from storage.uow import UnitOfWork
from tests.admin.conftest import ChannelFiles, Panel, csrf_of

PERSONAL = (
    "ИИН 870101300123, звоните +7 701 123 45 67, почта aigul@mail.kz, карта 4400 4300 1234 5678"
)


async def _page(client, case_id: int, suffix: str = "") -> str:
    response = await client.get(f"/admin/cases/{case_id}{suffix}")
    assert response.status == 200
    return await response.text()


async def _post(
    client, case_id: int, action: str, data: dict[str, str], version: int | None = None
):
    html = await _page(client, case_id)
    form = {**data, "csrf": csrf_of(html)}
    if version is not None:
        form["version"] = str(version)
    return await client.post(f"/admin/cases/{case_id}/{action}", data=form, allow_redirects=False)


async def _case(panel: Panel, case_id: int):
    async with UnitOfWork(panel.database.sessions) as uow:
        case = await uow.cases.get(case_id)
        assert case is not None
        return case


async def _audit(panel: Panel, action: str) -> list[AuditEntry]:
    async with UnitOfWork(panel.database.sessions) as uow:
        return list(
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


async def test_reviewer_sees_personal_data_masked(panel: Panel) -> None:
    case = await panel.add_case(text=PERSONAL)
    client = await panel.as_role(StaffRole.REVIEWER)
    html = await _page(client, case.id)
    for secret in ("870101300123", "701 123 45 67", "aigul@mail.kz", "4400 4300 1234 5678"):
        assert secret not in html
    assert "[IIN]" in html and "[phone]" in html and "[e-mail]" in html and "[card]" in html
    assert "/original" not in html
    assert (await client.get(f"/admin/cases/{case.id}/original")).status == 403
    assert await _audit(panel, "case.view_raw") == []


async def test_original_text_for_anticorruption_is_audited(panel: Panel) -> None:
    case = await panel.add_case(labels=("corruption",), text=PERSONAL)
    client = await panel.as_role(StaffRole.ANTICORRUPTION)
    masked = await _page(client, case.id)
    assert "870101300123" not in masked and f"/admin/cases/{case.id}/original" in masked
    assert await _audit(panel, "case.view_raw") == []
    original = await _page(client, case.id, "/original")
    assert "870101300123" in original and "aigul@mail.kz" in original
    [entry] = await _audit(panel, "case.view_raw")
    assert entry.target_type == "case" and entry.target_id == str(case.id)
    assert entry.actor_login == "anticorruption0"


async def test_case_page_shows_rating_criteria_office_tags_and_explanations(panel: Panel) -> None:
    case = await panel.add_case(labels=("corruption",), text="Просили взятку за справку")
    client = await panel.as_role(StaffRole.ADMIN)
    html = await _page(client, case.id)
    assert "2 / 5" in html
    assert '<li class="no">Politeness and ethics: no</li>' in html
    assert '<li class="yes">Waiting time: yes</li>' in html
    assert "AST-01" in html and "0.91" in html and "0.04" in html
    assert "<td>взятку</td>" in html  # the explainer's word behind the corruption tag


async def test_tag_correction_is_stored_as_a_staff_label_and_moves_the_case(panel: Panel) -> None:
    case = await panel.add_case(labels=("delay",), text="Ждали три часа и просили заплатить")
    reviewer = await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    client = await panel.login("aigerim")
    assert case.priority == 5 and case.labels == ",delay,"
    response = await _post(
        client,
        case.id,
        "tags",
        {"tag_corruption": "1", "tag_delay": "1", "tag_rudeness": "0"},
        version=case.version,
    )
    assert response.status == 303
    async with UnitOfWork(panel.database.sessions) as uow:
        staff_rows = list(
            await uow.session.scalars(select(Tag).where(Tag.source == TagSource.STAFF))
        )
    assert [(t.tag, t.present, t.author_id) for t in staff_rows] == [
        ("corruption", True, reviewer.id)
    ]
    assert staff_rows[0].created_at == panel.clock.now
    stored = await _case(panel, case.id)
    assert stored.labels == ",corruption,delay," and stored.priority == 0
    assert stored.due_at == stored.opened_at + casework_hours(24)
    [entry] = await _audit(panel, "case.tags")
    assert entry.before == {"labels": ["delay"], "priority": 5}
    assert entry.after == {"labels": ["corruption", "delay"], "priority": 0}
    # A second correction removes the model's tag; the newest staff label wins.
    response = await _post(client, case.id, "tags", {"tag_delay": "0"}, version=stored.version)
    assert response.status == 303
    assert (await _case(panel, case.id)).labels == ",corruption,"
    html = await _page(client, case.id)
    assert "Aigerim" in html  # the corrections column names the author


def casework_hours(hours: int):
    from datetime import timedelta

    return timedelta(hours=hours)


async def test_status_changes_and_rejection_needs_a_reason(panel: Panel) -> None:
    case = await panel.add_case()
    client = await panel.as_role(StaffRole.ADMIN)
    refused = await _post(client, case.id, "status", {"status": "rejected"}, version=1)
    assert refused.status == 400 and "A rejection needs a reason." in await refused.text()
    assert (await _case(panel, case.id)).status == CaseStatus.NEW
    done = await _post(
        client, case.id, "status", {"status": "rejected", "reason": "Not about a PSC"}, version=1
    )
    assert done.status == 303
    stored = await _case(panel, case.id)
    assert stored.status == CaseStatus.REJECTED and stored.resolution == "Not about a PSC"
    assert stored.closed_at == panel.clock.now and stored.first_action_at == panel.clock.now
    impossible = await _post(
        client, case.id, "status", {"status": "resolved"}, version=stored.version
    )
    assert impossible.status == 400
    # Moving back needs the box ticked and a reason; either alone changes nothing.
    for form in (
        {"status": "in_review", "reason": "The citizen wrote again"},
        {"status": "in_review", "back": "1"},
    ):
        refused = await _post(client, case.id, "status", form, version=stored.version)
        assert refused.status == 400
        assert (await _case(panel, case.id)).status == CaseStatus.REJECTED
    reopened = await _post(
        client,
        case.id,
        "status",
        {"status": "in_review", "back": "1", "reason": "The citizen wrote again"},
        version=stored.version,
    )
    assert reopened.status == 303
    assert (await _case(panel, case.id)).status == CaseStatus.IN_REVIEW
    entries = await _audit(panel, "case.status")
    assert [(e.before["status"], e.after["status"]) for e in entries] == [
        ("new", "rejected"),
        ("rejected", "in_review"),
    ]


async def test_the_status_form_defaults_to_no_change(panel: Panel) -> None:
    case = await panel.add_case()
    client = await panel.as_role(StaffRole.ADMIN)
    reply = await _post(client, case.id, "reply", {"reply": "Мы разберёмся."}, version=1)
    assert reply.status == 303
    answered = await _case(panel, case.id)
    assert answered.status == CaseStatus.ANSWERED
    page = await _page(client, case.id)
    form = page[page.index('class="stacked status-form"') :]
    form = form[: form.index("</form>")]
    # "No change" is chosen; the forward moves follow; the move back is apart, never chosen.
    options = re.findall(r'<option value="(\w*)"( selected)?', form)
    assert options == [("", " selected"), ("resolved", ""), ("rejected", ""), ("in_review", "")]
    assert "Move back (reopen)" in form and 'name="back"' in form
    # Pressing the button as the form comes, with a reason typed: nothing moves backwards.
    pressed = await _post(
        client, case.id, "status", {"status": "", "reason": "ok"}, version=answered.version
    )
    assert pressed.status == 400
    assert "Nothing was changed: choose a new status." in await pressed.text()
    assert (await _case(panel, case.id)).status == CaseStatus.ANSWERED
    # A status equal to the current one is refused as well.
    same = await _post(client, case.id, "status", {"status": "answered"}, answered.version)
    assert same.status == 400


async def test_reply_goes_through_the_outbox_with_its_delivery_status(panel: Panel) -> None:
    case = await panel.add_case(reply_address="tg-chat-4242", channel=Channel.TELEGRAM)
    client = await panel.as_role(StaffRole.ADMIN)
    html = await _page(client, case.id)
    assert "The reply is sent in the chat the citizen used." in html
    response = await _post(
        client, case.id, "reply", {"reply": "Спасибо, сотрудник наказан."}, version=1
    )
    assert response.status == 303
    async with UnitOfWork(panel.database.sessions) as uow:
        [message] = list(await uow.session.scalars(select(OutboxMessage)))
    assert message.channel == Channel.TELEGRAM and message.address == "tg-chat-4242"
    assert message.kind == "case_reply" and message.case_id == case.id
    assert message.text == "Спасибо, сотрудник наказан." and message.status == OutboxStatus.PENDING
    assert message.payload is not None and message.payload["language"] == "ru"
    stored = await _case(panel, case.id)
    assert stored.status == CaseStatus.ANSWERED and stored.answered_at == panel.clock.now
    [event] = [e for e in stored.events if e.kind == "reply"]
    assert event.outbox_id == message.id
    assert "waiting to be sent" in await _page(client, case.id)
    # The outbox worker delivers it; the case page follows.
    async with UnitOfWork(panel.database.sessions) as uow:
        row = await uow.session.get(OutboxMessage, message.id)
        assert row is not None
        row.status, row.sent_at, row.attempts = OutboxStatus.SENT, panel.clock.now, 1
        await uow.commit()
    assert "delivered" in await _page(client, case.id)
    [entry] = await _audit(panel, "case.reply")
    assert entry.after == {"status": "answered", "outbox_id": message.id}


async def test_reply_without_a_known_chat_is_kept_for_status(panel: Panel) -> None:
    case = await panel.add_case(reply_address=None)
    client = await panel.as_role(StaffRole.ADMIN)
    assert "The citizen cannot be messaged" in await _page(client, case.id)
    response = await _post(client, case.id, "reply", {"reply": "Ответ"}, version=1)
    assert response.status == 303
    async with UnitOfWork(panel.database.sessions) as uow:
        assert list(await uow.session.scalars(select(OutboxMessage))) == []
    stored = await _case(panel, case.id)
    assert [e.body for e in stored.events if e.kind == "reply"] == ["Ответ"]
    assert "shown to the citizen through /status" in await _page(client, case.id)


async def test_empty_and_over_long_replies_are_refused_and_kept(panel: Panel) -> None:
    case = await panel.add_case(reply_address="chat-1")
    client = await panel.as_role(StaffRole.ADMIN)
    empty = await _post(client, case.id, "reply", {"reply": "   "}, version=1)
    assert empty.status == 400
    too_long = "Ответ " * 1000
    refused = await _post(client, case.id, "reply", {"reply": too_long}, version=1)
    assert refused.status == 400
    assert "The reply is too long." in await refused.text()
    assert too_long.strip()[:100] in await refused.text()  # what was typed is not lost
    async with UnitOfWork(panel.database.sessions) as uow:
        assert list(await uow.session.scalars(select(OutboxMessage))) == []


async def test_assign_to_me_and_to_a_colleague(panel: Panel) -> None:
    case = await panel.add_case()
    me = await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"])
    colleague = await panel.add_staff("bolat", StaffRole.REVIEWER, ["astana"])
    client = await panel.login("aigerim")
    assert (await _post(client, case.id, "assign", {"assignee": str(me.id)}, 1)).status == 303
    stored = await _case(panel, case.id)
    assert stored.assignee_id == me.id and stored.status == CaseStatus.IN_REVIEW
    response = await _post(client, case.id, "assign", {"assignee": str(colleague.id)}, 2)
    assert response.status == 303
    assert (await _case(panel, case.id)).assignee_id == colleague.id
    html = await (await client.get("/admin/queue?mine=1")).text()
    assert f"/admin/cases/{case.id}" not in html
    assert len(await _audit(panel, "case.assign")) == 2


async def test_notes_are_internal_history(panel: Panel) -> None:
    case = await panel.add_case(reply_address="chat-1")
    client = await panel.as_role(StaffRole.ADMIN)
    response = await _post(client, case.id, "note", {"note": "Called the office manager"})
    assert response.status == 303
    html = await _page(client, case.id)
    assert "Called the office manager" in html
    async with UnitOfWork(panel.database.sessions) as uow:
        assert list(await uow.session.scalars(select(OutboxMessage))) == []
    assert len(await _audit(panel, "case.note")) == 1


async def test_concurrent_edits_never_overwrite_silently(panel: Panel) -> None:
    case = await panel.add_case(reply_address="chat-1")
    first = await panel.as_role(StaffRole.ADMIN)
    second = await panel.as_role(StaffRole.ADMIN)
    seen_by_second = await _page(second, case.id)  # both look at version 1
    assert (await _post(first, case.id, "status", {"status": "in_review"}, 1)).status == 303
    conflict = await second.post(
        f"/admin/cases/{case.id}/reply",
        data={"csrf": csrf_of(seen_by_second), "version": "1", "reply": "My careful answer"},
        allow_redirects=False,
    )
    assert conflict.status == 409
    html = await conflict.text()
    assert "Someone else changed this case" in html
    assert "My careful answer" in html  # the typed reply is offered again, not lost
    stored = await _case(panel, case.id)
    assert stored.status == CaseStatus.IN_REVIEW and stored.version == 2
    assert [e.kind for e in stored.events] == ["status"]
    async with UnitOfWork(panel.database.sessions) as uow:
        assert list(await uow.session.scalars(select(OutboxMessage))) == []
    tags = await second.post(
        f"/admin/cases/{case.id}/tags",
        data={"csrf": csrf_of(seen_by_second), "version": "1", "tag_corruption": "1"},
        allow_redirects=False,
    )
    assert tags.status == 409
    assert (await _case(panel, case.id)).labels == ",rudeness,"


async def test_database_version_check_catches_a_race_after_loading(panel: Panel) -> None:
    """Two units of work load the same version; the second save fails instead of winning."""
    case = await panel.add_case()
    staff = await panel.add_staff("aigerim", StaffRole.ADMIN)
    actor = Actor(staff=staff, ip=None, now=panel.clock.now)
    async with (
        UnitOfWork(panel.database.sessions) as one,
        UnitOfWork(panel.database.sessions) as two,
    ):
        first = await one.cases.get(case.id)
        second = await two.cases.get(case.id)
        assert first is not None and second is not None
        casework.ensure_version(first, 1)
        casework.ensure_version(second, 1)
        casework.change_status(one, actor, first, CaseStatus.RESOLVED, "done")
        await one.commit()
        casework.change_status(two, actor, second, CaseStatus.REJECTED, "spam")
        with pytest.raises(StaleDataError):
            await two.commit()
    stored = await _case(panel, case.id)
    assert stored.status == CaseStatus.RESOLVED and stored.resolution == "done"


async def test_attachments_open_for_the_raw_roles_only_as_safe_images(
    panel: Panel, panel_config
) -> None:
    from storage.models import Attachment

    case = await panel.add_case(labels=("corruption",))
    web_uploads = panel_config.uploads_dir / "web"  # where the web chat stores photos
    web_uploads.mkdir(parents=True, exist_ok=True)
    (web_uploads / "a.jpg").write_bytes(b"\xff\xd8\xff jpeg bytes")
    (web_uploads / "b.svg").write_bytes(b"<svg><script>alert(1)</script></svg>")
    (panel_config.data_dir / "secret_key").write_text("not for the browser")
    async with UnitOfWork(panel.database.sessions) as uow:
        items = [
            Attachment(
                feedback_id=case.feedback_id,
                location="uploads/web/a.jpg",
                content_type="image/jpeg",
            ),
            Attachment(
                feedback_id=case.feedback_id,
                location="uploads/web/b.svg",
                content_type="image/svg+xml",
            ),
            Attachment(feedback_id=case.feedback_id, location="uploads/../secret_key"),
            Attachment(feedback_id=case.feedback_id, location="AgACAgIAAxkBAAIC"),  # Telegram id
            Attachment(feedback_id=case.feedback_id, location="/etc/passwd"),
        ]
        uow.session.add_all(items)
        await uow.commit()
    client = await panel.as_role(StaffRole.ANTICORRUPTION)
    jpeg = await client.get(f"/admin/attachments/{items[0].id}")
    assert jpeg.status == 200 and jpeg.headers["Content-Type"] == "image/jpeg"
    assert jpeg.headers["Content-Disposition"] == "inline"
    svg = await client.get(f"/admin/attachments/{items[1].id}")
    assert svg.headers["Content-Type"] == "application/octet-stream"
    assert svg.headers["Content-Disposition"] == "attachment"
    assert (await client.get(f"/admin/attachments/{items[2].id}")).status == 404
    assert (await client.get(f"/admin/attachments/{items[3].id}")).status == 404
    assert (await client.get(f"/admin/attachments/{items[4].id}")).status == 404
    assert len(await _audit(panel, "attachment.view")) == 5


async def test_a_photo_the_channel_keeps_is_fetched_from_it_when_opened(
    panel: Panel, channel_files: ChannelFiles
) -> None:
    from storage.models import Attachment

    case = await panel.add_case(labels=("corruption",))
    channel_files.kept["AgACAgIAAxkBAAID"] = b"\xff\xd8\xff telegram jpeg"
    channel_files.kept["AgACAgIAAxkBAAIE"] = b"\xff\xd8\xff erased"
    async with UnitOfWork(panel.database.sessions) as uow:
        kept, erased, missing = (
            Attachment(feedback_id=case.feedback_id, location="AgACAgIAAxkBAAID"),
            Attachment(
                feedback_id=case.feedback_id,
                location="AgACAgIAAxkBAAIE",
                erased_at=panel.clock.now,
            ),
            Attachment(feedback_id=case.feedback_id, location="uploads/web/gone.jpg"),
        )
        uow.session.add_all([kept, erased, missing])
        await uow.commit()
    client = await panel.as_role(StaffRole.ANTICORRUPTION)
    shown = await client.get(f"/admin/attachments/{kept.id}")
    assert shown.status == 200
    assert await shown.read() == b"\xff\xd8\xff telegram jpeg"
    assert shown.headers["Content-Type"] == "image/jpeg"
    assert shown.headers["Content-Disposition"] == "inline"
    assert (await client.get(f"/admin/attachments/{erased.id}")).status == 404
    assert (await client.get(f"/admin/attachments/{missing.id}")).status == 404
    # Only the channel's own id is asked for: not an erased photo, not a stored file's path.
    assert channel_files.asked == ["AgACAgIAAxkBAAID"]
    assert len(await _audit(panel, "attachment.view")) == 3


async def test_an_administrator_erases_a_cases_text_and_photos_rows_and_files(
    panel: Panel, panel_config
) -> None:
    from storage.models import Attachment, Feedback

    case = await panel.add_case(labels=("corruption",))
    other = await panel.add_case(labels=("corruption",))
    web_uploads = panel_config.uploads_dir / "web"
    telegram_downloads = panel_config.uploads_dir / "telegram"
    for folder in (web_uploads, telegram_downloads):
        folder.mkdir(parents=True, exist_ok=True)
    (web_uploads / "a.jpg").write_bytes(b"\xff\xd8\xff jpeg")
    (telegram_downloads / "t.jpg").write_bytes(b"\xff\xd8\xff jpeg")
    (web_uploads / "other.jpg").write_bytes(b"\xff\xd8\xff jpeg")
    secret = panel_config.data_dir / "secret_key"
    secret.write_text("not to be removed")
    async with UnitOfWork(panel.database.sessions) as uow:
        uow.session.add_all(
            [
                Attachment(feedback_id=case.feedback_id, location="uploads/web/a.jpg"),
                Attachment(feedback_id=case.feedback_id, location="uploads/telegram/t.jpg"),
                Attachment(feedback_id=case.feedback_id, location="uploads/../secret_key"),
                Attachment(feedback_id=case.feedback_id, location="AgACAgIAAxkBAAIC"),
                Attachment(feedback_id=other.feedback_id, location="uploads/web/other.jpg"),
            ]
        )
        await uow.commit()
    reviewer = await panel.as_role(StaffRole.REVIEWER)
    page = await (await reviewer.get(f"/admin/cases/{case.id}")).text()
    assert f"/admin/cases/{case.id}/erase" not in page
    refused = await reviewer.post(
        f"/admin/cases/{case.id}/erase", data={"csrf": csrf_of(page)}, allow_redirects=False
    )
    assert refused.status == 403
    admin = await panel.as_role(StaffRole.ADMIN)
    page = await (await admin.get(f"/admin/cases/{case.id}")).text()
    assert f"/admin/cases/{case.id}/erase" in page
    done = await admin.post(f"/admin/cases/{case.id}/erase", data={"csrf": csrf_of(page)})
    assert done.status == 200
    assert "The citizen&#39;s text and photos have been erased." in await done.text()
    assert not (web_uploads / "a.jpg").exists() and not (telegram_downloads / "t.jpg").exists()
    assert secret.exists() and (web_uploads / "other.jpg").exists()
    async with UnitOfWork(panel.database.sessions) as uow:
        feedback = await uow.session.get(Feedback, case.feedback_id)
        assert feedback is not None and feedback.text is None and feedback.has_text
        assert feedback.rating == 2 and feedback.has_case  # the figures keep their numbers
        items = (
            await uow.session.scalars(
                select(Attachment).where(Attachment.feedback_id == case.feedback_id)
            )
        ).all()
        assert all(item.erased_at is not None and item.location is None for item in items)
    [entry] = await _audit(panel, "case.erase_content")
    assert entry.target_id == str(case.id) and entry.after == {"photos": 4}
