"""Rendering pages: the Jinja2 environment, what every page knows, flash messages, error pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
import structlog
from aiohttp import web
from aiohttp_session import get_session

from admin.access import STAFF_KEY, Handler
from admin.i18n import LANGUAGE_NAMES, N_, Formatter, choose_language
from admin.keys import CATALOGS, CONFIG
from admin.policy import ADMIN_ROLES, CASE_ROLES, REPORT_ROLES
from admin.sessions import csrf_token
from storage.models import StaffRole, StaffUser

log = structlog.get_logger("pikir.admin")

TEMPLATES_DIR = Path(__file__).with_name("templates")
LANGUAGE_KEY = web.RequestKey("pikir.language", str)
Translate = Callable[[str], str]

# (url under /admin, English label, roles that see the entry)
NAVIGATION: tuple[tuple[str, str, tuple[StaffRole, ...]], ...] = (
    ("/admin/queue", N_("Queue"), CASE_ROLES),
    ("/admin/reports", N_("Reports"), REPORT_ROLES),
    ("/admin/users", N_("Staff"), ADMIN_ROLES),
    ("/admin/offices", N_("Offices"), ADMIN_ROLES),
    ("/admin/services", N_("Services"), ADMIN_ROLES),
    ("/admin/audit", N_("Audit log"), ADMIN_ROLES),
)

ERROR_TITLES = {
    400: N_("The request was not understood."),
    403: N_("You do not have access to this page."),
    404: N_("There is no such page."),
    405: N_("This address does not accept this kind of request."),
    409: N_("Someone else changed this in the meantime."),
    413: N_("The upload is too large."),
    429: N_("Too many attempts."),
    500: N_("Something went wrong on our side. The error has been logged."),
}


def setup_templates(app: web.Application, extra_dirs: tuple[Path, ...] = ()) -> None:
    """Jinja2 with autoescaping for every template of the panel (and of panels built on it)."""
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader([TEMPLATES_DIR, *extra_dirs]),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def add_template_dir(app: web.Application, directory: Path) -> None:
    """Let templates in ``directory`` be found too (for sub-panels such as the reports)."""
    loader = aiohttp_jinja2.get_env(app).loader
    assert isinstance(loader, jinja2.FileSystemLoader)
    loader.searchpath.append(str(directory))


def request_language(request: web.Request) -> str:
    """The language of this request's pages (set by :func:`language_middleware`)."""
    return str(request.get(LANGUAGE_KEY) or "ru")


def translator(request: web.Request) -> Translate:
    """``gettext`` in the language of this request."""
    return request.app[CATALOGS].get(request_language(request)).gettext


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Pick the page language: the staff member's choice, the session's, the browser's."""
    session = await get_session(request)
    staff: StaffUser | None = request.get(STAFF_KEY)
    request[LANGUAGE_KEY] = choose_language(
        [str(staff.language) if staff else None, session.get("lang")],
        request.headers.get("Accept-Language", ""),
    )
    return await handler(request)


async def flash(request: web.Request, message: str, kind: str = "info") -> None:
    """Show ``message`` (already translated) on the next page."""
    session = await get_session(request)
    session["flash"] = [*session.get("flash", [])[-4:], [kind, message]]


@web.middleware
async def page_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """What every page of the panel knows (staff, language, navigation, CSRF token, …).

    Put where aiohttp-jinja2 merges it into every template's context, so pages added by other
    parts of the panel (the reports) get the same header as the panel's own.
    """
    session = await get_session(request)
    staff: StaffUser | None = request.get(STAFF_KEY)
    language = request_language(request)
    translations = request.app[CATALOGS].get(language)
    request[aiohttp_jinja2.REQUEST_CONTEXT_KEY] = {
        "_": translations.gettext,
        "gettext": translations.gettext,
        "ngettext": translations.ngettext,
        "lang": language,
        "language": language,
        "languages": LANGUAGE_NAMES,
        "staff": staff,
        "csrf_token": csrf_token(session),
        "navigation": [
            (url, translations.gettext(label))
            for url, label, roles in NAVIGATION
            if staff is not None and staff.role in roles
        ],
        # Called while the page renders: a handler that redirects leaves them for the next page.
        "flashes": lambda: session.pop("flash", []),
        "fmt": Formatter(language, request.app[CONFIG].reports.timezone),
        "current_path": request.path_qs,
        "current_url": request.path,
    }
    return await handler(request)


async def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """Render ``template`` with ``context`` (plus what :func:`page_context` provides)."""
    return aiohttp_jinja2.render_template(template, request, context or {}, status=status)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Client errors and crashes as pages in the staff member's language, never a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return await _error_page(request, exc.status, exc.text)
    except Exception:
        log.exception("admin.error", path=request.path, method=request.method)
        return await _error_page(request, 500, None)


async def _error_page(request: web.Request, status: int, text: str | None) -> web.Response:
    _ = translator(request)
    title = ERROR_TITLES.get(status, ERROR_TITLES[400] if status < 500 else ERROR_TITLES[500])
    detail = None
    if text and not text.startswith(f"{status}:"):
        detail = _(text)
    return await render(
        request,
        "error.html",
        {"status": status, "title": _(title), "detail": detail},
        status=status,
    )
