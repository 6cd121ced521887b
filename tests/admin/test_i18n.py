"""The panel in Russian, Kazakh and English: complete catalogs, and the staff member's choice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from admin.i18n import LOCALES_DIR
from storage.models import Language, StaffRole
from storage.uow import UnitOfWork
from tests.admin.conftest import Panel, csrf_of

ADMIN_DIR = Path(__file__).resolve().parents[2] / "admin"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


def _messages_in_source() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ADMIN_DIR, method_map, keywords={"_": None, "N_": None, "gettext": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_every_message_is_translated(language: str) -> None:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    in_source = _messages_in_source()
    assert len(in_source) > 200  # the extraction itself works
    missing = sorted(in_source - translated)
    assert not missing, f"untranslated in {language}: {missing}"
    for message in catalog:  # placeholders survive translation
        if message.id:
            wanted = set(PLACEHOLDER.findall(str(message.id)))
            assert wanted == set(PLACEHOLDER.findall(str(message.string))), message.id


async def test_staff_choose_their_language_and_it_is_remembered(panel: Panel) -> None:
    await panel.add_staff("aigerim", StaffRole.REVIEWER, ["astana"], language=Language.RU)
    client = await panel.login("aigerim")
    html = await (await client.get("/admin/queue")).text()
    assert "Очередь обращений" in html and '<html lang="ru">' in html
    response = await client.post(
        "/admin/language",
        data={"csrf": csrf_of(html), "lang": "kk", "next": "/admin/queue?status=all"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/admin/queue?status=all"
    html = await (await client.get("/admin/queue")).text()
    assert "Өтініштер кезегі" in html and '<html lang="kk">' in html
    async with UnitOfWork(panel.database.sessions) as uow:
        user = await uow.staff.by_login("aigerim")
        assert user is not None and user.language == Language.KK
    # A new session starts in the remembered language.
    again = await panel.login("aigerim")
    assert "Өтініштер кезегі" in await (await again.get("/admin/queue")).text()


async def test_login_page_follows_the_browser_then_the_choice(panel: Panel) -> None:
    client = await panel.client()
    english = await (await client.get("/admin/login")).text()
    assert "Staff panel" in english
    kazakh = await (await client.get("/admin/login", headers={"Accept-Language": "kk-KZ"})).text()
    assert "Қызметкер панелі" in kazakh
    await client.post("/admin/language", data={"csrf": csrf_of(english), "lang": "ru"})
    assert "Панель сотрудника" in await (await client.get("/admin/login")).text()
