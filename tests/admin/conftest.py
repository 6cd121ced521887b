"""The staff panel under test: the real sub-app on a real database, driven over HTTP.

Passwords are hashed with real argon2 at cheap parameters so that the many logins stay fast;
the clock is a fake one the tests can move forward (session timeouts, lockouts, overdue cases).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from pydantic import BaseModel

from admin.app import create_admin_app
from admin.config import PanelConfig
from bot.forwarded import forwarded_middleware
from bot.persistence.reference_cache import ReferenceCache
from bot.settings import HttpSettings, SecuritySettings, TelegramSettings
from storage.database import Database
from storage.intake import FeedbackDraft, TagScores, build_feedback
from storage.models import Case, Channel, Language, Respondent, StaffRole, StaffUser
from storage.uow import UnitOfWork
from tests.configs import panel_config as panel_config_for
from vocabulary import TAGS

if TYPE_CHECKING:
    from tests.admin.demo_site import DemoSite

PASSWORD = "correct horse battery"
# Every vocabulary tag gets a model score, as a model trained on all of them would give.
START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Explainer:
    """Stands in for the classifier's explanations: the words of the text that name a tag."""

    def explain(self, text: str, top: int = 3) -> dict[str, list[tuple[str, float]]]:
        words = [w for w in re.findall(r"\w+", text) if w.lower() in {"взятку", "bribe", "грубо"}]
        return {"corruption": [(w, 0.9) for w in words[:top]]} if words else {}


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@dataclass
class Panel:
    """The running panel plus helpers to fill the database and log staff in."""

    database: Database
    server: TestServer
    clock: FakeClock
    hasher: PasswordHasher
    config: PanelConfig
    # The conversation's snapshot of offices and services, shared as in the running service.
    reference: ReferenceCache = field(default_factory=ReferenceCache)
    clients: list[TestClient[Any, Any]] = field(default_factory=list)
    admin_browser: Any = None
    admin_device: str = ""

    async def client(self) -> TestClient[Any, Any]:
        """A fresh browser (its own cookie jar)."""
        client: TestClient[Any, Any] = TestClient(self.server, headers={"Accept-Language": "en"})
        await client.start_server()
        self.clients.append(client)
        return client

    async def add_staff(
        self,
        login: str,
        role: StaffRole,
        regions: Iterable[str] = (),
        *,
        password: str = PASSWORD,
        must_change_password: bool = False,
        language: Language = Language.EN,
    ) -> StaffUser:
        async with UnitOfWork(self.database.sessions) as uow:
            user = uow.staff.add(
                login=login,
                password_hash=self.hasher.hash(password),
                role=role,
                regions=list(regions),
                display_name=login.title(),
                must_change_password=must_change_password,
            )
            user.language = language
            await uow.commit()
        return user

    async def login(
        self, login: str, password: str = PASSWORD, client: TestClient[Any, Any] | None = None
    ) -> TestClient[Any, Any]:
        """A browser logged in as ``login`` (asserts the login worked)."""
        client = client or await self.client()
        page = await client.get("/admin/login")
        response = await client.post(
            "/admin/login",
            data={"login": login, "password": password, "csrf": csrf_of(await page.text())},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        return client

    async def add_admin_with_device(self) -> None:
        """An administrator ``admin`` whose own browser (:attr:`admin_browser`) has logged in
        before and so holds a device cookie (:attr:`admin_device`)."""
        await self.add_staff("admin", StaffRole.ADMIN)
        self.admin_browser = await self.login("admin")
        cookies = self.admin_browser.session.cookie_jar.filter_cookies(
            self.admin_browser.make_url("/admin/")
        )
        self.admin_device = cookies["pikir_device"].value

    async def as_role(self, role: StaffRole, regions: Iterable[str] = ("astana",)) -> Any:
        """A logged-in browser of a new staff member with ``role``."""
        login = f"{role.value}{len(self.clients)}"
        await self.add_staff(login, role, regions if role == StaffRole.REVIEWER else ())
        return await self.login(login)

    async def add_case(
        self,
        *,
        office_code: str = "AST-01",
        labels: Iterable[str] = ("rudeness",),
        rating: int = 2,
        text: str | None = "Сотрудник грубо ответил",
        direct: bool = False,
        reply_address: str | None = None,
        channel: Channel = Channel.TELEGRAM,
        language: Language = Language.RU,
        opened_at: datetime | None = None,
    ) -> Case:
        """A flagged feedback with its case, as a channel would record it."""
        async with UnitOfWork(self.database.sessions) as uow:
            office = await uow.reference.office_by_code(office_code)
            assert office is not None
            respondent_id = None
            if reply_address is not None:
                respondent = Respondent(
                    channel=channel, subject_hash=f"h{reply_address}", reply_address=reply_address
                )
                uow.conversations.add_respondent(respondent)
                await uow.feedback.flush()
                respondent_id = respondent.id
            services = await uow.reference.services()
            label_set = frozenset(labels)
            feedback = build_feedback(
                FeedbackDraft(
                    channel=channel,
                    language=language,
                    office_id=office.id,
                    region_code=office.region_code,
                    service_id=services[0].id,
                    rating=rating,
                    criteria={"politeness": False, "waiting": True},
                    text=text,
                    is_direct_report=direct,
                    respondent_id=respondent_id,
                    created_at=opened_at or self.clock.now - timedelta(hours=1),
                ),
                TagScores(
                    scores={t: (0.91 if t in label_set else 0.04) for t in TAGS},
                    labels=label_set,
                    model_version="test",
                ),
            )
            uow.feedback.add(feedback)
            await uow.commit()
            assert feedback.case is not None
            return feedback.case

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


@dataclass
class ChannelFiles:
    """Photos a channel keeps under its own ids (as Telegram does), for the panel to fetch."""

    kept: dict[str, bytes] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def fetch(self, file_id: str) -> bytes | None:
        self.asked.append(file_id)
        return self.kept.get(file_id)


@pytest.fixture
def channel_files() -> ChannelFiles:
    return ChannelFiles()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hasher() -> PasswordHasher:
    # Real argon2id, cheap parameters: tests log in hundreds of times.
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def panel_config(tmp_path, request: pytest.FixtureRequest) -> PanelConfig:
    """The panel's settings; a test changes some with ``@pytest.mark.panel_config(...)``."""
    config = panel_config_for(
        tmp_path,
        http=HttpSettings(public_url="http://pikir.test"),
        telegram=TelegramSettings(bot_username="pikir_bot", staff_chat_id="-100555"),
        security=SecuritySettings(login_max_failures_per_account=12),
        page_size=5,
    )
    marker = request.node.get_closest_marker("panel_config")
    if marker is None:
        return config
    # A settings part is changed field by field: the marker names only what the test needs.
    changes: dict[str, Any] = {
        name: type(part).model_validate({**part.model_dump(), **value})
        if isinstance(part := getattr(config, name), BaseModel)
        else value
        for name, value in marker.kwargs.items()
    }
    return dataclasses.replace(config, **changes)


@pytest.fixture
async def panel(
    database: Database,
    clock: FakeClock,
    hasher: PasswordHasher,
    panel_config: PanelConfig,
    channel_files: ChannelFiles,
) -> AsyncIterator[Panel]:
    """The admin sub-app mounted at /admin of a root app, on a loopback test server.

    The loopback address is a trusted proxy, so a test stands for a client at another address
    with an ``X-Forwarded-For`` header.
    """
    root = web.Application(middlewares=[forwarded_middleware([ip_network("127.0.0.1/32")])])
    reference = ReferenceCache()
    root.add_subapp(
        "/admin",
        create_admin_app(
            database,
            panel_config,
            hasher=hasher,
            explainer=Explainer(),
            clock=clock,
            on_reference_change=reference.invalidate,
            channel_photos=channel_files.fetch,
        ),
    )
    server = TestServer(root, host="127.0.0.1")
    await server.start_server()
    panel = Panel(database, server, clock, hasher, panel_config, reference)
    yield panel
    await panel.close()
    await server.close()


@pytest.fixture
async def site(database: Database, tmp_path: Path) -> AsyncIterator[DemoSite]:
    """The whole panel on demo data, one staff member per role (see ``demo_site``)."""
    # Imported here: loading the demo (and its classifier) is only for the tests that use it.
    from tests.admin.demo_site import running_demo_site

    demo = await running_demo_site(database, tmp_path)
    yield demo
    await demo.close()
