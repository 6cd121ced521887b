"""Offices and services, for administrators: edit, CSV import, and each office's QR poster."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField
from pydantic import ValidationError

from admin.access import current_staff, require_roles
from admin.downloads import audit_download
from admin.i18n import N_
from admin.keys import CONFIG, DATABASE, REFERENCE_CHANGED
from admin.params import choice, flag, path_id, text_field
from admin.policy import ADMIN_ROLES
from admin.posters import office_links, poster_pdf, qr_png, qr_svg
from admin.rendering import flash, render, request_language, translator
from admin.views.auth import client_ip
from storage.models import Office, Service
from storage.reference_data import (
    MAX_CSV_BYTES,
    CsvFormatError,
    OfficeRow,
    ServiceRow,
    import_offices,
    import_services,
)
from storage.uow import UnitOfWork

NAME_FIELDS = ("name_kk", "name_ru", "name_en")


@require_roles(*ADMIN_ROLES)
async def offices_page(request: web.Request) -> web.StreamResponse:
    """Every office, active or not."""
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        offices = await uow.reference.offices(active_only=False)
        regions = {region.code: region for region in await uow.reference.regions()}
    return await render(request, "offices.html", {"offices": offices, "regions": regions})


@require_roles(*ADMIN_ROLES)
async def office_page(request: web.Request) -> web.StreamResponse:
    """The edit form of one office, with links to its poster."""
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        office = await uow.reference.office(path_id(request))
        regions = await uow.reference.regions()
    if office is None:
        raise web.HTTPNotFound
    return await _office_form(request, office, regions, None)


async def _office_form(
    request: web.Request, office: Office, regions: Any, error: str | None, status: int = 200
) -> web.Response:
    config = request.app[CONFIG]
    links = office_links(office.code, config.http.public_url, config.telegram.bot_username)
    return await render(
        request,
        "office_form.html",
        {"office": office, "regions": regions, "error": error, "links": links},
        status=status,
    )


@require_roles(*ADMIN_ROLES)
async def update_office(request: web.Request) -> web.StreamResponse:
    """Save an office's names, address, region and whether it is active."""
    staff = current_staff(request)
    form = await request.post()
    _ = translator(request)
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        office = await uow.reference.office(path_id(request))
        if office is None:
            raise web.HTTPNotFound
        regions = await uow.reference.regions()
        fields = {
            "region": choice(form, "region", [region.code for region in regions]) or "",
            "address": text_field(form, "address", 500),
            "active": flag(form, "active"),
            **{name: text_field(form, name, 300) for name in NAME_FIELDS},
        }
        try:
            row = OfficeRow(code=office.code, **fields)
        except ValidationError:
            return await _office_form(
                request, office, regions, _("Every name is required."), status=400
            )
        before = _office_snapshot(office)
        uow.reference.put_office(office, office.code, row.columns())
        uow.audit.record(
            "office.update",
            actor=staff,
            target_type="office",
            target_id=office.code,
            before=before,
            after=_office_snapshot(office),
            ip=client_ip(request),
        )
        await uow.commit()
    request.app[REFERENCE_CHANGED]()
    await flash(request, _("The office has been saved."))
    raise web.HTTPSeeOther(location="/admin/offices")


def _office_snapshot(office: Office) -> dict[str, Any]:
    return {
        "region": office.region_code,
        "address": office.address,
        "active": office.active,
        **{name: getattr(office, name) for name in NAME_FIELDS},
    }


@require_roles(*ADMIN_ROLES)
async def services_page(request: web.Request) -> web.StreamResponse:
    """Every service of the register."""
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        services = await uow.reference.services(active_only=False)
        categories = await uow.reference.categories()
    language = request_language(request)
    return await render(
        request,
        "services.html",
        {
            "services": services,
            "categories": {c.code: str(getattr(c, f"name_{language}")) for c in categories},
        },
    )


@require_roles(*ADMIN_ROLES)
async def service_page(request: web.Request) -> web.StreamResponse:
    """The edit form of one service."""
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        service = await uow.reference.service(path_id(request))
        categories = await uow.reference.categories()
    if service is None:
        raise web.HTTPNotFound
    return await render(
        request, "service_form.html", {"service": service, "categories": categories, "error": None}
    )


@require_roles(*ADMIN_ROLES)
async def update_service(request: web.Request) -> web.StreamResponse:
    """Save a service's names, category, whether it has a standard and whether it is active."""
    staff = current_staff(request)
    form = await request.post()
    _ = translator(request)
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        service = await uow.reference.service(path_id(request))
        if service is None:
            raise web.HTTPNotFound
        categories = await uow.reference.categories()
        fields = {
            "category": choice(form, "category", [c.code for c in categories]) or "",
            "has_standard": flag(form, "has_standard"),
            **{name: text_field(form, name, 500) for name in NAME_FIELDS},
        }
        try:
            row = ServiceRow(code=service.code, **fields)
        except ValidationError:
            return await render(
                request,
                "service_form.html",
                {
                    "service": service,
                    "categories": categories,
                    "error": _("Every name is required."),
                },
                status=400,
            )
        before = _service_snapshot(service)
        uow.reference.put_service(service, service.code, row.columns())
        service.active = flag(form, "active")  # not a CSV column: imports leave it alone
        uow.audit.record(
            "service.update",
            actor=staff,
            target_type="service",
            target_id=service.code,
            before=before,
            after=_service_snapshot(service),
            ip=client_ip(request),
        )
        await uow.commit()
    request.app[REFERENCE_CHANGED]()
    await flash(request, _("The service has been saved."))
    raise web.HTTPSeeOther(location="/admin/services")


def _service_snapshot(service: Service) -> dict[str, Any]:
    return {
        "category": service.category_code,
        "has_standard": service.has_standard,
        "active": service.active,
        **{name: getattr(service, name) for name in NAME_FIELDS},
    }


@require_roles(*ADMIN_ROLES)
async def import_csv(request: web.Request) -> web.StreamResponse:
    """Import offices or services from an uploaded CSV: good rows saved, bad rows listed."""
    staff = current_staff(request)
    kind = request.match_info["kind"]
    form = await request.post()
    _ = translator(request)
    upload = form.get("file")
    if not isinstance(upload, FileField):
        raise web.HTTPBadRequest(text=N_("Choose a CSV file."))
    data = upload.file.read(MAX_CSV_BYTES + 1)
    importer = import_offices if kind == "offices" else import_services
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        try:
            report = await importer(uow, data)
        except CsvFormatError as exc:
            return await render(
                request,
                "import_result.html",
                {"kind": kind, "refused": str(exc), "report": None},
                status=400,
            )
        uow.audit.record(
            f"{kind[:-1]}.import",
            actor=staff,
            target_type=kind[:-1],
            after={
                "file": upload.filename[:200],
                "added": report.added,
                "updated": report.updated,
                "rejected": len(report.errors),
            },
            ip=client_ip(request),
        )
        await uow.commit()
    request.app[REFERENCE_CHANGED]()
    return await render(
        request, "import_result.html", {"kind": kind, "refused": None, "report": report}
    )


async def _office_or_404(request: web.Request) -> Office:
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        office = await uow.reference.office(path_id(request))
    if office is None:
        raise web.HTTPNotFound
    return office


@require_roles(*ADMIN_ROLES)
async def poster_page(request: web.Request) -> web.StreamResponse:
    """A printable poster page of an office."""
    office = await _office_or_404(request)
    config = request.app[CONFIG]
    return await render(
        request,
        "poster.html",
        {
            "office": office,
            "links": office_links(
                office.code, config.http.public_url, config.telegram.bot_username
            ),
        },
    )


@require_roles(*ADMIN_ROLES)
async def poster_download(request: web.Request) -> web.StreamResponse:
    """The office's poster as an A4 PDF."""
    office = await _office_or_404(request)
    config = request.app[CONFIG]
    links = office_links(office.code, config.http.public_url, config.telegram.bot_username)
    names = {name[-2:]: getattr(office, name) for name in NAME_FIELDS}
    body = poster_pdf(office.code, names, links)
    async with UnitOfWork(request.app[DATABASE].sessions) as uow:
        audit_download(
            request,
            uow,
            what="poster",
            fmt="pdf",
            rows=None,
            filters={"office": office.code},
            target_type="office",
            target_id=office.id,
        )
        await uow.commit()
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="poster-{office.code}.pdf"'},
    )


@require_roles(*ADMIN_ROLES)
async def qr_code(request: web.Request) -> web.StreamResponse:
    """The QR code of an office's Telegram or web chat link, as PNG or SVG."""
    office = await _office_or_404(request)
    config = request.app[CONFIG]
    links = office_links(office.code, config.http.public_url, config.telegram.bot_username)
    target = choice(request.query, "target", ("telegram", "web")) or "web"
    url = links.telegram if target == "telegram" else links.web
    if url is None:
        raise web.HTTPNotFound(text=N_("The bot's username is not configured."))
    fmt = request.match_info["format"]
    body, content_type = (
        (qr_png(url), "image/png") if fmt == "png" else (qr_svg(url), "image/svg+xml")
    )
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Disposition": f'inline; filename="qr-{office.code}-{target}.{fmt}"'},
    )
