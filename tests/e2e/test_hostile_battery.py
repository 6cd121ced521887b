"""The hostile battery: the whole running service (``build_app``, webhook mode, against the Bot
API emulator, on SQLite and PostgreSQL) and headless Chromium, attacked the way a hostile
citizen, a forger or a curious member of staff would.

1. Malformed bodies (no or a wrong multipart boundary, a line of 600 KiB, undecodable bytes, an
   unknown charset, …) to every POST route, the chat upload and the webhook: always a 4xx,
   never a traceback in the log.
2. Every route × every role (and nobody): never a 5xx, the security headers and a versionless
   ``Server`` on every response, HSTS (the public URL is HTTPS), and no citizen text on any
   page an analyst opens.
3. A forged or missing CSRF token on every form: 403, and nothing changes.
4. Hostile text sent through Telegram and through the web chat, then every panel page opened
   in Chromium with a ``dialog`` listener: no script runs, the text is shown as text.
5. The upload cleaner fuzzed with hypothesis over crafted JPEG, PNG, WebP and MPO files: no
   Exif, XMP, IPTC, GPS or comment survives, and nothing but a clean picture or a refusal
   comes out.

Each test prints its figures (requests tried, 5xx, leaks, scripts run) for the README.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from playwright.async_api import Browser as Chromium
from sqlalchemy import func, select
from yarl import URL

from bot.conversation import Translator
from bot.web.image_metadata import CleanImage, Refusal, clean_image
from storage.database import Database
from storage.models import AuditEntry, Case, Feedback, StaffRole
from storage.uow import UnitOfWork
from tests.e2e.conftest import WEBHOOK_SECRET, Citizen, EmulatorClient, Service, make_settings
from tests.webchat.conftest import Browser as ChatBrowser

pytestmark = pytest.mark.e2e
TRANSLATOR = Translator.load()

PASSWORD = "hostile battery password 2026"
HOSTILE = (
    "<script>alert('xss')</script><img src=x onerror=alert(1)>\"'><svg/onload=alert(2)>"
    '{{7*7}} javascript:alert(3) =HYPERLINK("http://evil.example")'
)
MARK_TG = "TG-CITIZEN-7731"
MARK_WEB = "WEB-CITIZEN-5519"
ROLES = (None, *StaffRole)
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")
BOUNDARY = "pikirboundary"


# --------------------------------------------------------------------------- the service


@dataclass
class Running:
    """The service on a loopback port, its staff, and the ids its pages need."""

    base: URL
    service: Service
    database: Database
    ids: dict[str, int] = field(default_factory=dict)
    sessions: list[aiohttp.ClientSession] = field(default_factory=list)

    async def browser(self) -> aiohttp.ClientSession:
        # The public URL is HTTPS, so the panel's cookies are Secure; loopback stands for it.
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[self.base])
        session = aiohttp.ClientSession(headers={"Accept-Language": "en"}, cookie_jar=jar)
        self.sessions.append(session)
        return session

    async def staff(self, role: StaffRole | None) -> aiohttp.ClientSession:
        """A browser logged in with ``role`` (anonymous for None)."""
        session = await self.browser()
        if role is not None:
            status = await login(session, self.base, role.value, PASSWORD)
            assert status == 303, role
        return session

    def path(self, pattern: str) -> str:
        """A route's pattern with real ids in its parameters."""
        kind = next((k for k in ("cases", "users", "offices", "services") if k in pattern), "")
        values = {"id": str(self.ids.get(kind, 1)), "format": "png", "kind": "offices"}
        values["name"] = "pikir-2026-01.xlsx"
        return re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: values[m.group(1)], pattern)


async def login(session: aiohttp.ClientSession, base: URL, name: str, password: str) -> int:
    async with session.get(base / "admin/login") as page:
        token = csrf(await page.text())
    async with session.post(
        base / "admin/login",
        data={"login": name, "password": password, "csrf": token},
        allow_redirects=False,
    ) as response:
        return response.status


def csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def routes(app: Any) -> Iterator[tuple[str, str]]:
    """Every (method, path pattern) of the application and its sub-apps, static files aside
    (a sub-app's patterns already carry its prefix)."""
    for resource in app.router.resources():
        info = resource.get_info()
        if "app" in info:
            yield from routes(info["app"])
        elif "directory" not in info:
            pattern = info.get("formatter") or info.get("path", "")
            for route in resource:
                if route.method != "HEAD":
                    yield route.method, pattern


@pytest.fixture
async def running(
    database: Database,
    database_url: str,
    emulator: str,
    emulator_client: EmulatorClient,  # resets the emulator: before the webhook is set
    tmp_path: Path,
) -> AsyncIterator[Running]:
    settings = make_settings(database_url, emulator, "webhook", tmp_path)
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    async with UnitOfWork(database.sessions) as uow:
        for role in StaffRole:
            uow.staff.add(
                login=role.value,
                password_hash=hasher.hash(PASSWORD),
                role=role,
                regions=["almaty", "astana"] if role == StaffRole.REVIEWER else [],
            )
        await uow.commit()
        office = await uow.reference.office_by_code("ALA-01")
        services = await uow.reference.services()
        user = await uow.staff.by_login("reviewer")
        assert office is not None and user is not None
        ids = {"offices": office.id, "services": services[0].id, "users": user.id}
    service = Service(settings)
    await service.start()
    state = Running(URL(f"http://127.0.0.1:{settings.http.port}"), service, database, ids)
    yield state
    for session in state.sessions:
        await session.close()
    await service.stop()


def T(message_id: str) -> str:
    """The English text of a citizen-facing message (button labels)."""
    return TRANSLATOR.text("en", message_id)


async def citizen_texts(running: Running, emulator_client: EmulatorClient) -> None:
    """Hostile text through Telegram (a direct report) and through the web chat."""
    token = running.service.settings.telegram.token
    assert token is not None
    citizen = Citizen(emulator_client, token.get_secret_value(), 7001, "en")
    await citizen.say("/start ALA-01")
    await citizen.say("/corruption")
    await citizen.say(f"{MARK_TG} {HOSTILE}")
    await citizen.press(T("button.skip_photo"))
    await citizen.press(T("button.consent_no"))
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[running.base])
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        web = ChatBrowser(session, running.base, str(running.base.origin()))
        await web.open("AST-01", "en")
        await web.press_nth(0)  # a category
        await web.press_nth(0)  # a service
        await web.press("1")
        for _ in range(5):
            await web.press(T("button.no"))
        await web.say(f"The guard shouted at me and was rude {MARK_WEB} {HOSTILE}")
        await web.press(T("button.skip_photo"))
        await web.press(T("button.consent_no"))
        await web.close()
    async with UnitOfWork(running.database.sessions) as uow:
        feedback = list(await uow.session.scalars(select(Feedback).order_by(Feedback.id)))
        assert [f.text is not None and HOSTILE in f.text for f in feedback] == [True, True]
        case = await uow.session.scalar(select(Case).order_by(Case.id))
        assert case is not None
        running.ids["cases"] = case.id


# --------------------------------------------------------------------------- 1. malformed bodies


def malformed_bodies() -> list[tuple[str, str, bytes]]:
    """(what, Content-Type, body) of bodies aiohttp cannot read as a form."""
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\nx\r\n'
    long_line = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a{"x" * 600_000}"\r\n\r\nv\r\n'
    )
    return [
        ("multipart without boundary", "multipart/form-data", part.encode()),
        ("multipart, wrong boundary", "multipart/form-data; boundary=other", part.encode()),
        ("multipart, no closing", f"multipart/form-data; boundary={BOUNDARY}", b"--" + b"x" * 99),
        (
            "multipart, 600 KiB line",
            f"multipart/form-data; boundary={BOUNDARY}",
            long_line.encode(),
        ),
        (
            "multipart, unknown charset",
            f"multipart/form-data; boundary={BOUNDARY}",
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n'
                f"Content-Type: text/plain; charset=klingon\r\n\r\nv\r\n--{BOUNDARY}--\r\n"
            ).encode(),
        ),
        ("form, undecodable bytes", "application/x-www-form-urlencoded", b"csrf=\xff\xfe&a=\xc3"),
        (
            "form, unknown charset",
            "application/x-www-form-urlencoded; charset=klingon",
            b"csrf=x&login=a",
        ),
        ("form, bad escapes", "application/x-www-form-urlencoded", b"csrf=%zz%&a=%"),
        ("json where a form is due", "application/json", b"{bad"),
        ("binary", "application/octet-stream", bytes(range(256)) * 4),
    ]


async def test_malformed_bodies_get_a_4xx_on_every_post_route_and_the_webhook(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    posts = sorted(p for m, p in routes(running.service.current.app) if m == "POST")  # type: ignore[union-attr]
    assert "/admin/login" in posts and "/chat/upload" in posts and "/telegram/webhook" in posts
    statuses: list[tuple[str, str, str, int, bool]] = []
    admin = await running.staff(StaffRole.ADMIN)
    anonymous = await running.browser()
    async with anonymous.get(running.base / "chat") as page:  # the chat's cookie
        assert page.status == 200
    webhook_headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    for pattern in posts:
        path = running.path(pattern)
        for what, content_type, body in malformed_bodies():
            for who, session in (("admin", admin), ("anonymous", anonymous)):
                headers = {"Content-Type": content_type, "Origin": str(running.base.origin())}
                if pattern == "/telegram/webhook":
                    headers.update(webhook_headers)
                async with session.post(
                    running.base.join(URL(path)), data=body, headers=headers, allow_redirects=False
                ) as response:
                    status = response.status
                    # Without a session a panel page sends the browser to log in (its body
                    # is never read): a redirect, not an error.
                    login_redirect = (
                        who == "anonymous"
                        and status == 303
                        and response.headers["Location"].startswith("/admin/login")
                    )
                    statuses.append((path, what, who, status, login_redirect))
    for body in (b"{bad", b'{"update_id":"x"}', b"[]", b"\xff\xfe", b""):
        async with anonymous.post(
            running.base / "telegram/webhook",
            data=body,
            headers={**webhook_headers, "Content-Type": "application/json"},
        ) as response:
            statuses.append(("/telegram/webhook", repr(body), "telegram", response.status, False))
    failures = [s for s in statuses if not (400 <= s[3] < 500 or s[4])]
    redirects = sum(s[4] for s in statuses)
    print(f"\nmalformed: {len(statuses)} requests, {len(failures)} not 4xx", end=" ")
    print(f"({redirects} anonymous ones sent to the login page unread)")
    assert not failures
    tracebacks = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not tracebacks, [r.getMessage() for r in tracebacks]


# --------------------------------------------------------------------------- 2. role × page


async def test_every_route_for_every_role(
    running: Running, emulator_client: EmulatorClient
) -> None:
    await citizen_texts(running, emulator_client)
    gets = sorted({p for m, p in routes(running.service.current.app) if m == "GET"})  # type: ignore[union-attr]
    tried = leaks = server_errors = 0
    for role in ROLES:
        session = await running.staff(role)
        for pattern in gets:
            async with session.get(
                running.base.join(URL(running.path(pattern))), allow_redirects=False
            ) as response:
                body = await response.read()
                tried += 1
                where = (role, pattern, response.status)
                server_errors += response.status >= 500
                assert response.status < 500, where
                assert response.headers["Server"] == "pikir", where
                assert "Strict-Transport-Security" in response.headers, where
                for name in SECURITY_HEADERS:
                    assert name in response.headers, (where, name)
                if role in (StaffRole.ANALYST, None) and not pattern.startswith("/chat"):
                    leaked = MARK_TG.encode() in body or MARK_WEB.encode() in body
                    leaks += leaked
                    assert not leaked, where
    print(f"\nrole x page: {tried} requests, {server_errors} 5xx, {leaks} citizen-text leaks")
    assert tried >= len(ROLES) * 30


# --------------------------------------------------------------------------- 3. forged CSRF


async def test_forged_csrf_is_refused_on_every_form(running: Running) -> None:
    admin = await running.staff(StaffRole.ADMIN)
    posts = sorted(p for m, p in routes(running.service.current.app) if m == "POST")  # type: ignore[union-attr]
    forms = [p for p in posts if p.startswith("/admin/")]
    async with UnitOfWork(running.database.sessions) as uow:
        before = await uow.session.scalar(select(func.count()).select_from(AuditEntry))
    tried = 0
    for pattern in forms:
        for token in (None, "forged-token", ""):
            data = {"login": "admin", "password": PASSWORD, "status": "closed", "text": "x"}
            if token is not None:
                data["csrf"] = token
            async with admin.post(
                running.base.join(URL(running.path(pattern))), data=data, allow_redirects=False
            ) as response:
                tried += 1
                assert response.status == 403, (pattern, token, response.status)
    async with UnitOfWork(running.database.sessions) as uow:
        after = await uow.session.scalar(select(func.count()).select_from(AuditEntry))
    assert after == before  # nothing happened, not even a failed login
    print(f"\nforged CSRF: {tried} requests on {len(forms)} forms, all 403")


# --------------------------------------------------------------------------- 4. Chromium


async def test_hostile_text_runs_nowhere_in_the_panel(
    running: Running, emulator_client: EmulatorClient, chromium: Chromium
) -> None:
    await citizen_texts(running, emulator_client)
    # A hostile login name lands in the audit log, which the administrator opens.
    assert await login(await running.browser(), running.base, HOSTILE[:60], "x") == 401
    gets = sorted({p for m, p in routes(running.service.current.app) if m == "GET"})  # type: ignore[union-attr]
    pages = [
        p
        for p in gets
        if p.startswith("/admin")
        and not re.search(r"\.(png|svg|pdf|csv|xlsx|txt)|original|attachments|export|packs/", p)
    ]
    dialogs: list[str] = []
    opened = 0
    for role in (StaffRole.ADMIN, StaffRole.ANTICORRUPTION, StaffRole.REVIEWER):
        context = await chromium.new_context(locale="en-GB")
        page = await context.new_page()
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        await page.goto(str(running.base / "admin/login"))
        await page.fill("input[name=login]", role.value)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("form:has(input[name=password]) button[type=submit]")
        await page.wait_for_load_state()
        for pattern in pages:
            await page.goto(str(running.base.join(URL(running.path(pattern)))))
            opened += 1
        # The citizen's text is on the case page, as text.
        await page.goto(str(running.base / "admin/cases" / str(running.ids["cases"])))
        if role != StaffRole.REVIEWER:
            assert "<script>alert('xss')</script>" in await page.inner_text("body")
        await context.close()
    print(f"\nChromium: {opened} pages opened, {len(dialogs)} scripts ran")
    assert dialogs == []


# --------------------------------------------------------------------------- 5. upload fuzzing

SECRETS = (b"GPS-SECRET", b"DEVICE-SECRET", b"XMP-SECRET", b"IPTC-SECRET", b"COMMENT-SECRET")


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "DEVICE-SECRET"
    exif[0x0112] = orientation
    exif.get_ifd(0x8825)[0x001B] = "GPS-SECRET"  # GPSProcessingMethod
    exif.get_ifd(0x8825)[2] = (43.0, 14.0, 20.0)
    return exif.tobytes()


def _iptc_segment() -> bytes:
    payload = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + (15).to_bytes(4, "big")
    payload += b"\x1c\x02\x50\x00\x0bIPTC-SECRET"
    return b"\xff\xed" + (len(payload) + 2).to_bytes(2, "big") + payload


@st.composite
def hostile_images(draw: st.DrawFn) -> bytes:
    """A picture with every kind of metadata, in a random format, maybe damaged or extended."""
    size = (draw(st.integers(1, 48)), draw(st.integers(1, 48)))
    mode = draw(st.sampled_from(["RGB", "L", "RGBA", "P"]))
    colour = draw(st.integers(0, 255))
    kind = draw(st.sampled_from(["JPEG", "PNG", "WEBP", "MPO"]))
    if kind in ("JPEG", "MPO") and mode in ("RGBA", "P"):
        mode = "RGB"
    image = Image.new(mode, size, colour)
    orientation = draw(st.integers(1, 8))
    options: dict[str, Any] = {
        "exif": _exif(orientation),
        "xmp": b"<x:xmpmeta>XMP-SECRET</x:xmpmeta>",
    }
    if kind in ("JPEG", "MPO"):
        options["comment"] = b"COMMENT-SECRET"
    if kind == "PNG":
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "COMMENT-SECRET")
        info.add_itxt("XML:com.adobe.xmp", "XMP-SECRET", zip=draw(st.booleans()))
        options = {"exif": _exif(orientation), "pnginfo": info}
    if kind == "WEBP":
        options["lossless"] = draw(st.booleans())
    buffer = io.BytesIO()
    if kind == "MPO":
        second = Image.new("RGB", size, 255 - colour)
        second.encoderinfo = {"exif": _exif(orientation)}
        image.save(buffer, "MPO", save_all=True, append_images=[second], **options)
    else:
        image.save(buffer, kind, **options)
    data = buffer.getvalue()
    if kind in ("JPEG", "MPO") and draw(st.booleans()):
        data = data[:2] + _iptc_segment() + data[2:]
    tail = draw(st.sampled_from([b"", b"COMMENT-SECRET", b"\xff\xd8" + _exif(6) + b"\xff\xd9"]))
    data += tail
    if draw(st.booleans()):  # damage: a cut, or a few flipped bytes
        cut = draw(st.integers(8, len(data)))
        data = bytearray(data[:cut])
        for _ in range(draw(st.integers(0, 3))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
        data = bytes(data)
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_images())
def test_the_upload_cleaner_leaves_no_metadata(data: bytes) -> None:
    result = clean_image(data)
    if isinstance(result, Refusal):
        return
    assert isinstance(result, CleanImage)
    for secret in SECRETS:
        assert secret not in result.data
    assert result.data.count(b"\xff\xd8\xff") <= 1 or result.content_type != "image/jpeg"
    reopened = Image.open(io.BytesIO(result.data))
    reopened.load()
    assert getattr(reopened, "n_frames", 1) == 1
    exif = reopened.getexif()
    assert set(exif) <= {0x0112} and not exif.get_ifd(0x8825)
    assert not {"xmp", "XML:com.adobe.xmp", "comment", "Comment"} & set(reopened.info)
    assert reopened.size == result.size
