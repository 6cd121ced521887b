"""The staff panel sub-app mounted at ``/admin``: wiring of middlewares, templates and routes.

Middlewares, outermost first: security headers; the encrypted session; the login gate (puts the
staff member on the request or redirects to the login page); the page language; error pages;
the CSRF check. Role and region checks are in the handlers (``admin.access.require_roles``,
``admin.policy``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from aiohttp import web
from aiohttp_session import session_middleware
from argon2 import PasswordHasher

from admin.config import PanelConfig
from admin.explain import TagExplainer
from admin.i18n import Catalogs
from admin.keys import CATALOGS, CLOCK, CONFIG, DATABASE, EXPLAINER, HASHER, Extension
from admin.passwords import make_hasher
from admin.protection import csrf_protect, security_headers
from admin.rendering import error_pages, language_middleware, setup_templates
from admin.sessions import cookie_storage, login_gate
from admin.views import audit, auth, cases, offices, queue, users
from storage.database import Database
from storage.types import utcnow

STATIC_DIR = Path(__file__).with_name("static")


def create_admin_app(
    database: Database,
    config: PanelConfig,
    *,
    hasher: PasswordHasher | None = None,
    explainer: TagExplainer | None = None,
    clock: Callable[[], datetime] = utcnow,
    extensions: Iterable[Extension] = (),
) -> web.Application:
    """The admin panel application.

    ``explainer`` (the classifier) adds the words behind each tag to the case page;
    ``extensions`` are called with the app to add more pages (the reports) before it starts.
    """
    app = web.Application(
        middlewares=[
            security_headers,
            session_middleware(cookie_storage(config)),
            login_gate,
            language_middleware,
            error_pages,
            csrf_protect,
        ]
    )
    app[DATABASE] = database
    app[CONFIG] = config
    app[HASHER] = hasher or make_hasher()
    app[CATALOGS] = Catalogs()
    app[EXPLAINER] = explainer
    app[CLOCK] = clock
    setup_templates(app)
    _add_routes(app.router)
    for extend in extensions:
        extend(app)
    # Last, so that any other address under /admin gets the panel's 404 page and headers.
    app.router.add_route("*", "/{tail:.*}", _not_found, name="not_found")
    return app


def _add_routes(router: web.UrlDispatcher) -> None:
    case = r"/cases/{id:\d+}"
    office = r"/offices/{id:\d+}"
    router.add_static("/static/", STATIC_DIR, name="static", append_version=True)
    router.add_get("", auth.home)
    router.add_get("/", auth.home, name="home")
    router.add_get("/login", auth.login_page, name="login")
    router.add_post("/login", auth.login)
    router.add_post("/logout", auth.logout, name="logout")
    router.add_get("/password", auth.password_page, name="password")
    router.add_post("/password", auth.change_password)
    router.add_post("/language", auth.choose_language, name="language")
    router.add_get("/queue", queue.queue_page, name="queue")
    router.add_get(case, cases.case_page, name="case")
    router.add_get(case + "/original", cases.case_original, name="case_original")
    router.add_post(case + "/assign", cases.assign_case, name="case_assign")
    router.add_post(case + "/status", cases.change_case_status, name="case_status")
    router.add_post(case + "/tags", cases.correct_case_tags, name="case_tags")
    router.add_post(case + "/reply", cases.reply_to_citizen, name="case_reply")
    router.add_post(case + "/note", cases.add_case_note, name="case_note")
    router.add_get(r"/attachments/{id:\d+}", cases.attachment, name="attachment")
    router.add_get("/users", users.users_page, name="users")
    router.add_get("/users/new", users.new_user_page, name="user_new")
    router.add_post("/users/new", users.create_user)
    router.add_get(r"/users/{id:\d+}", users.edit_user_page, name="user")
    router.add_post(r"/users/{id:\d+}", users.update_user)
    router.add_post(r"/users/{id:\d+}/password", users.reset_password, name="user_password")
    router.add_get("/offices", offices.offices_page, name="offices")
    router.add_get(office, offices.office_page, name="office")
    router.add_post(office, offices.update_office)
    router.add_get(office + "/poster", offices.poster_page, name="poster")
    router.add_get(office + "/poster.pdf", offices.poster_download, name="poster_pdf")
    router.add_get(office + "/qr.{format:png|svg}", offices.qr_code, name="qr")
    router.add_post("/{kind:offices|services}/import", offices.import_csv, name="import")
    router.add_get("/services", offices.services_page, name="services")
    router.add_get(r"/services/{id:\d+}", offices.service_page, name="service")
    router.add_post(r"/services/{id:\d+}", offices.update_service)
    router.add_get("/audit", audit.audit_page, name="audit")


async def _not_found(request: web.Request) -> web.StreamResponse:
    raise web.HTTPNotFound
