"""Reading query strings and forms safely: every value bounded and checked, errors are 400.

A malformed or over-long value is the client's mistake, never a crash: the handlers only ever
see values that passed these checks.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiMapping

from admin.i18n import N_

MAX_QUERY_STRING = 2048
MAX_PATH_ID = 2**53


def bad_request(message: str) -> web.HTTPBadRequest:
    """A 400 whose text is an (untranslated) explanation for the page."""
    return web.HTTPBadRequest(text=message)


def check_query_size(request: web.Request) -> None:
    """Refuse a query string longer than any form of the panel produces."""
    if len(request.query_string) > MAX_QUERY_STRING:
        raise bad_request(N_("The address is too long."))


def single(values: MultiMapping[str | object], name: str, max_length: int = 200) -> str | None:
    """One text value (stripped; None when absent or empty); repeated or too long is a 400."""
    found = values.getall(name, [])
    if len(found) > 1:
        raise bad_request(N_("A parameter was given twice."))
    if not found:
        return None
    value = found[0]
    if not isinstance(value, str):
        raise bad_request(N_("A parameter has the wrong kind of value."))
    if len(value) > max_length:
        raise bad_request(N_("A value is too long."))
    if "\x00" in value:
        raise bad_request(N_("A value contains a forbidden character."))
    value = value.strip()
    return value or None


def text_field(
    values: MultiMapping[str | object], name: str, max_length: int, *, required: bool = False
) -> str:
    """A form text (possibly multi-line), bounded; a missing required value is a 400."""
    value = single(values, name, max_length)
    if required and not value:
        raise bad_request(N_("A required field is empty."))
    return value or ""


def choice(values: MultiMapping[str | object], name: str, allowed: Collection[str]) -> str | None:
    """One of ``allowed`` (or None when absent); anything else is a 400."""
    value = single(values, name, 64)
    if value is not None and value not in allowed:
        raise bad_request(N_("A parameter has a value that is not allowed."))
    return value


def integer(
    values: MultiMapping[str | object], name: str, *, low: int = 0, high: int = MAX_PATH_ID
) -> int | None:
    """A whole number within bounds (or None when absent); anything else is a 400."""
    value = single(values, name, 20)
    if value is None:
        return None
    if not re.fullmatch(r"-?\d{1,19}", value):
        raise bad_request(N_("A number was expected."))
    number = int(value)
    if not low <= number <= high:
        raise bad_request(N_("A number is out of range."))
    return number


def day(values: MultiMapping[str | object], name: str, zone: ZoneInfo) -> datetime | None:
    """The start of a ``YYYY-MM-DD`` day in the agency's time zone (None when absent)."""
    value = single(values, name, 10)
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise bad_request(N_("A date must look like 2026-03-31."))
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise bad_request(N_("A date must look like 2026-03-31.")) from None
    if parsed.year < 2000:
        raise bad_request(N_("A date is out of range."))
    return datetime.combine(parsed, time.min, zone)


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the URL path (the routes only match digits); huge ids are a 404."""
    value = request.match_info[name]
    if len(value) > 16 or int(value) > MAX_PATH_ID:
        raise web.HTTPNotFound
    return int(value)


def flag(values: MultiMapping[str | object], name: str) -> bool:
    """A checkbox: present with value ``1``/``on`` is True."""
    value = choice(values, name, ("1", "on", "true", "0", "off", "false"))
    return value in ("1", "on", "true")
