"""Every page of the panel in Kazakh, Russian and English: no code names on screen, and in the
Kazakh and Russian panels no English left untranslated."""

from __future__ import annotations

import re

import pytest

from tests.admin.crawler import crawl, page_kind
from tests.admin.demo_site import DemoSite

SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
DOTTED_CODE = re.compile(r"\b[a-z]+\.[a-z_]+\b")
FILE_NAME = re.compile(r"\S+\.(?:xlsx|txt|csv|json|pdf)\b")
LATIN_WORD = re.compile(r"\b[A-Za-z][a-z]{2,}\b")
# Latin words that are the same in every language of the panel: names of products, formats.
SAME_IN_EVERY_LANGUAGE = frozenset({"Pikir", "Telegram", "English", "Wilson", "mail"})


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_no_page_shows_codes_or_untranslated_english(site: DemoSite, language: str) -> None:
    problems: dict[str, set[str]] = {}
    for role in ("admin", "reviewer", "analyst"):
        browser = await site.browser(role, language)
        for visit in await crawl(browser, per_kind=4):
            text = FILE_NAME.sub(" ", " ".join(visit.text))
            found = set(SNAKE_CASE.findall(text)) | set(DOTTED_CODE.findall(text))
            if language != "en":
                found |= set(LATIN_WORD.findall(text)) - SAME_IN_EVERY_LANGUAGE
            if found:
                problems.setdefault(page_kind(visit.url), set()).update(found)
    assert problems == {}, "\n".join(f"{kind}: {sorted(words)}" for kind, words in problems.items())
