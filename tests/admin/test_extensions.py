"""Pages added to the panel by other parts (the reports) get its sessions, roles and layout."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from admin.access import require_roles
from admin.app import create_admin_app
from admin.rendering import add_template_dir
from storage.models import StaffRole
from tests.admin.conftest import Panel


@require_roles(StaffRole.ANALYST, StaffRole.ADMIN)
async def _report(request: web.Request) -> web.StreamResponse:
    # Rendered the way admin/reports renders: straight through aiohttp-jinja2.
    return aiohttp_jinja2.render_template("report.html", request, {"month": "2026-10"})


async def test_a_page_registered_after_the_panel_is_built(
    panel: Panel, database, panel_config, hasher, clock, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.html").write_text(
        '{% extends "base.html" %}{% block title %}Figures{% endblock %}'
        "{% block content %}<h1>Figures {{ month }}</h1>{% endblock %}",
        encoding="utf-8",
    )
    admin = create_admin_app(database, panel_config, hasher=hasher, clock=clock)
    add_template_dir(admin, templates)
    admin.router.add_get("/reports", _report, name="reports")  # as setup_reports does
    root = web.Application()
    root.add_subapp("/admin", admin)
    server = TestServer(root, host="127.0.0.1")
    await server.start_server()
    other = Panel(database, server, clock, hasher, panel_config)
    try:
        anonymous = await other.client()
        assert (await anonymous.get("/admin/reports", allow_redirects=False)).status == 303
        analyst: TestClient = await other.as_role(StaffRole.ANALYST)
        response = await analyst.get("/admin/reports")
        assert response.status == 200
        html = await response.text()
        assert "<h1>Figures 2026-10</h1>" in html
        assert 'href="/admin/reports" aria-current="page"' in html  # the panel's navigation
        assert "Log out" in html and "Content-Security-Policy" in response.headers
        reviewer = await other.as_role(StaffRole.REVIEWER)
        assert (await reviewer.get("/admin/reports")).status == 403
    finally:
        await other.close()
        await server.close()
