"""Offices and services edited in the panel reach the citizens' conversation at once.

The panel and the bot run in one process and share the conversation's snapshot of the
register; without the panel telling it, the conversation would show old names for minutes.
"""

from __future__ import annotations

from admin.staff_texts import StaffTexts
from bot.conversation import ConversationService, Start, Translator
from bot.persistence import SqlUnits
from bot.persistence.conversation_store import StoreConfig
from bot.settings import TelegramSettings
from storage.models import StaffRole
from storage.uow import UnitOfWork
from tests.admin.conftest import Panel, csrf_of
from tests.conversation.conftest import Citizen, texts


def _citizen(panel: Panel) -> Citizen:
    store = StoreConfig(
        secret_key=b"test-secret", telegram=TelegramSettings(staff_chat_id="-100555")
    )
    service = ConversationService(
        SqlUnits(panel.database.sessions, store, panel.reference),
        Translator.load(),
        staff_texts=StaffTexts(),
    )
    return Citizen(service, hint="en")


async def test_an_office_renamed_in_the_panel_shows_in_the_next_conversation(
    panel: Panel,
) -> None:
    citizen = _citizen(panel)
    async with UnitOfWork(panel.database.sessions) as uow:
        office = await uow.reference.office_by_code("AST-01")
    assert office is not None
    await citizen.send(Start("AST-01"))
    assert office.name_en in texts(citizen.outcomes[-1])

    admin = await panel.as_role(StaffRole.ADMIN)
    page = await admin.get(f"/admin/offices/{office.id}")
    response = await admin.post(
        f"/admin/offices/{office.id}",
        data={
            "csrf": csrf_of(await page.text()),
            "name_kk": "Жаңа атау",
            "name_ru": "Новое название",
            "name_en": "Renamed Service Centre",
            "address": office.address,
            "region": office.region_code,
            "active": "on",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    await citizen.send(Start("AST-01"))
    assert "Renamed Service Centre" in texts(citizen.outcomes[-1])


async def test_a_service_renamed_in_the_panel_shows_in_the_next_question(panel: Panel) -> None:
    citizen = _citizen(panel)
    await citizen.send(Start("AST-01"))
    await citizen.press_nth(0)  # the first category: its services are listed
    _label, data = citizen.buttons()[0]
    service_id = int(data.split("|")[2])  # the button's argument is the service's id
    async with UnitOfWork(panel.database.sessions) as uow:
        service = await uow.reference.service(service_id)
    assert service is not None

    admin = await panel.as_role(StaffRole.ADMIN)
    page = await admin.get(f"/admin/services/{service.id}")
    form = {
        "csrf": csrf_of(await page.text()),
        "name_kk": service.name_kk,
        "name_ru": service.name_ru,
        "name_en": "A renamed service",
        "category": service.category_code,
        "active": "on",
    }
    response = await admin.post(f"/admin/services/{service.id}", data=form, allow_redirects=False)
    assert response.status == 303, await response.text()
    await citizen.say("/back")
    await citizen.press_nth(0)
    assert "A renamed service" in [label for label, _ in citizen.buttons()]
