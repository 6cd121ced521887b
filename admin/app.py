"""The staff panel sub-app mounted at ``/admin``: wiring of middlewares, templates and routes.

Middlewares, outermost first: security headers; the encrypted session; the login gate (puts the
staff member on the request or redirects to the login page); the page language; what every
page's template knows; error pages; the CSRF check. They also cover addresses under ``/admin``
that match no route, and routes added later (``admin.reports.setup_reports``). Role and region
checks are in the handlers (``admin.access.require_roles``, ``admin.policy``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from aiohttp import web
from aiohttp_session import session_middleware
from argon2 import PasswordHasher

from admin.access import Handler
from admin.config import PanelConfig
from admin.counts_cache import CountsCache
from admin.explain import TagExplainer
from admin.i18n import Catalogs
from admin.keys import (
    CATALOGS,
    CHANNEL_PHOTOS,
    CLOCK,
    CONFIG,
    COUNTS,
    DATABASE,
    EXPLAINER,
    HASHER,
    REFERENCE_CHANGED,
    ChannelPhotos,
    Extension,
)
from admin.passwords import make_hasher
from admin.protection import csrf_protect, security_headers
from admin.rendering import error_pages, language_middleware, page_context, setup_templates
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
    on_reference_change: Callable[[], None] = lambda: None,
    channel_photos: ChannelPhotos | None = None,
) -> web.Application:
    """The admin panel application.

    ``explainer`` (the classifier) adds the words behind each tag to the case page;
    ``extensions`` are called with the app to add more pages (the reports) before it starts;
    ``on_reference_change`` is called after staff save offices or services;
    ``channel_photos`` fetches a photo a channel keeps by its own id (Telegram's).
    """
    app = web.Application(
        middlewares=[
            security_headers,
            session_middleware(cookie_storage(config)),
            login_gate,
            language_middleware,
            page_context,
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
    app[REFERENCE_CHANGED] = on_reference_change
    app[CHANNEL_PHOTOS] = channel_photos
    app[COUNTS] = CountsCache(config.counts_ttl, clock)
    setup_templates(app)
    _add_routes(app.router)
    for extend in extensions:
        extend(app)
    return app


def _add_routes(router: web.UrlDispatcher) -> None:
    case = r"/cases/{id:\d+}"
    office = r"/offices/{id:\d+}"
    router.add_static("/static/", STATIC_DIR, name="static", append_version=True)
    router.add_get("", auth.home)
    _page(router, "/", "home", get=auth.home)
    _page(router, "/login", "login", get=auth.login_page, post=auth.login)
    _page(router, "/logout", "logout", post=auth.logout)
    _page(router, "/password", "password", get=auth.password_page, post=auth.change_password)
    _page(router, "/language", "language", post=auth.switch_language)
    _page(router, "/queue", "queue", get=queue.queue_page)
    _page(router, case, "case", get=cases.case_page)
    _page(router, case + "/original", "case_original", get=cases.case_original)
    _page(router, case + "/assign", "case_assign", post=cases.assign_case)
    _page(router, case + "/status", "case_status", post=cases.change_case_status)
    _page(router, case + "/tags", "case_tags", post=cases.correct_case_tags)
    _page(router, case + "/reply", "case_reply", post=cases.reply_to_citizen)
    _page(router, case + "/note", "case_note", post=cases.add_case_note)
    _page(router, case + "/erase", "case_erase", post=cases.erase_case_content)
    _page(router, r"/attachments/{id:\d+}", "attachment", get=cases.attachment)
    _page(router, "/users", "users", get=users.users_page)
    _page(router, "/users/new", "user_new", get=users.new_user_page, post=users.create_user)
    _page(router, r"/users/{id:\d+}", "user", get=users.edit_user_page, post=users.update_user)
    _page(router, r"/users/{id:\d+}/password", "user_password", post=users.reset_password)
    _page(router, "/offices", "offices", get=offices.offices_page)
    _page(router, office, "office", get=offices.office_page, post=offices.update_office)
    _page(router, office + "/poster", "poster", get=offices.poster_page)
    _page(router, office + "/poster.pdf", "poster_pdf", get=offices.poster_download)
    _page(router, office + "/qr.{format:png|svg}", "qr", get=offices.qr_code)
    _page(router, "/{kind:offices|services}/import", "csv_import", post=offices.import_csv)
    _page(router, "/services", "services", get=offices.services_page)
    _page(
        router,
        r"/services/{id:\d+}",
        "service",
        get=offices.service_page,
        post=offices.update_service,
    )
    _page(router, "/audit", "audit", get=audit.audit_page)


def _page(
    router: web.UrlDispatcher,
    path: str,
    name: str,
    *,
    get: Handler | None = None,
    post: Handler | None = None,
) -> None:
    # One named resource per address, so the login gate can tell pages apart by name.
    resource = router.add_resource(path, name=name)
    if get is not None:
        resource.add_route("GET", get)
    if post is not None:
        resource.add_route("POST", post)
