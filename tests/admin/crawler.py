"""Following every link and GET form of the staff panel, as a curious staff member would.

Pages are read with the standard library's HTML parser: links (``<a href>``, SVG links of the
charts) and GET forms (submitted with what they show by default, and with each choice of their
drop-downs) under ``/admin``. Each page's visible text is kept for the language checks.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from aiohttp.test_utils import TestClient

# Markup whose text is not the panel's own words: citizens' messages, notes typed by staff, the
# poster (printed in all three languages on purpose).
_USER_CONTENT_CLASSES = frozenset({"snippet", "citizen-text", "body", "poster"})
# Identifiers shown as such (logins, codes, addresses) are set in <code>.
_SKIPPED_TAGS = frozenset({"script", "style", "svg", "code"})


@dataclass
class _Form:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)


class PageParser(HTMLParser):
    """Links, GET forms and the visible text (without user content) of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[_Form] = []
        self.text: list[str] = []
        self.attribute_text: list[str] = []
        self._form: _Form | None = None
        self._select: str | None = None
        self._selected: str | None = None
        self._first_option: str | None = None
        self._skip: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        classes = set(values.get("class", "").split())
        if tag in ("a", "area") and ("href" in values or "xlink:href" in values):
            self.links.append(values.get("href") or values.get("xlink:href", ""))
        for name in ("title", "placeholder", "aria-label"):
            if values.get(name):
                self.attribute_text.append(values[name])
        if tag in _SKIPPED_TAGS or classes & _USER_CONTENT_CLASSES:
            self._skip.append(tag)
        if tag == "form" and values.get("method", "get").lower() == "get":
            self._form = _Form(values.get("action", ""))
        elif self._form is not None and tag == "input":
            kind = values.get("type", "text")
            name = values.get("name")
            if not name or kind in ("submit", "button"):
                return
            if kind in ("checkbox", "radio") and "checked" not in values:
                return
            self._form.fields.append((name, values.get("value", "")))
        elif self._form is not None and tag == "select":
            self._select = values.get("name")
            self._selected = self._first_option = None
            if self._select:
                self._form.choices[self._select] = []
        elif self._form is not None and tag == "option" and self._select:
            value = values.get("value", "")
            self._form.choices[self._select].append(value)
            if self._first_option is None:
                self._first_option = value
            if "selected" in values:
                self._selected = value

    def handle_endtag(self, tag: str) -> None:
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()
        if tag == "select" and self._form is not None and self._select:
            chosen = self._selected if self._selected is not None else self._first_option
            self._form.fields.append((self._select, chosen or ""))
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.text.append(data.strip())


@dataclass
class Visit:
    """What the crawler found at one address."""

    url: str
    status: int
    referrer: str
    text: list[str] = field(default_factory=list)


def form_urls(page_url: str, form: _Form) -> list[str]:
    """The form as submitted by default, and once for each other choice of each drop-down."""
    action = urljoin(page_url, form.action or page_url)
    action = action.split("?")[0]
    urls = [f"{action}?{urlencode(form.fields)}"]
    for name, options in form.choices.items():
        for option in options:
            if not option:
                continue
            fields = [(key, option if key == name else value) for key, value in form.fields]
            urls.append(f"{action}?{urlencode(fields)}")
    return urls


def _key(url: str) -> str:
    """Pages that differ only in a paging cursor are one page for the crawl."""
    parts = urlsplit(url)
    query = sorted((k, v) for k, v in parse_qsl(parts.query) if k not in ("after", "before"))
    return parts.path + "?" + urlencode(query)


def page_kind(url: str) -> str:
    """The address with its numbers as ``N``: one kind of page (``/admin/cases/N``)."""
    return re.sub(r"\d+", "N", urlsplit(url).path)


async def crawl(
    client: TestClient[Any, Any], start: str = "/admin/", per_kind: int = 30
) -> list[Visit]:
    """Every kind of address under /admin reachable from ``start`` by GET.

    At most ``per_kind`` addresses of one kind are followed (thirty cases, thirty filters of
    the queue…): enough to meet every link a kind of page shows, without reading every case.
    """
    queue: deque[tuple[str, str]] = deque([(start, "")])
    seen = {_key(start)}
    kinds: Counter[str] = Counter({page_kind(start): 1})
    visits: list[Visit] = []
    while queue:
        url, referrer = queue.popleft()
        response = await client.get(url, allow_redirects=True)
        visit = Visit(url, response.status, referrer)
        visits.append(visit)
        if "text/html" not in response.headers.get("Content-Type", ""):
            await response.read()
            continue
        parser = PageParser()
        parser.feed(await response.text())
        visit.text = parser.text + parser.attribute_text
        here = str(response.url.relative())
        found = [urljoin(here, link) for link in parser.links]
        for form in parser.forms:
            found += form_urls(here, form)
        for link in found:
            parts = urlsplit(link)
            if (
                parts.netloc
                or not parts.path.startswith("/admin")
                or parts.path in ("/admin/logout",)
            ):
                continue
            if parts.path.startswith("/admin/static/"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if _key(target) not in seen and kinds[page_kind(target)] < per_kind:
                seen.add(_key(target))
                kinds[page_kind(target)] += 1
                queue.append((target, url))
    return visits
