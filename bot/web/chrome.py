"""The page's own texts (labels, placeholders, errors) in the three languages.

They live in the same Babel catalogs as the conversation's texts; ``N_`` marks the ids so the
catalog test finds them. The conversation's language decides; before the citizen has chosen
one, the browser's ``Accept-Language`` is the guess.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.conversation import LANGUAGES
from bot.conversation.i18n import N_

PAGE_FALLBACK_LANGUAGE = "ru"

# Every string the page shows by itself, by the name the template and script use.
CHROME_IDS: dict[str, str] = {
    "title": N_("web.title"),
    "heading": N_("web.heading"),
    "log_label": N_("web.log_label"),
    "input_label": N_("web.input_label"),
    "placeholder": N_("web.placeholder"),
    "send": N_("web.send"),
    "attach": N_("web.attach"),
    "language": N_("web.language_button"),
    "you": N_("web.author_you"),
    "bot": N_("web.author_bot"),
    "staff": N_("web.author_staff"),
    "connecting": N_("web.connecting"),
    "reconnecting": N_("web.reconnecting"),
    "cookie_blocked": N_("web.cookie_blocked"),
    "open_in_tab": N_("web.open_in_tab"),
    "upload_failed": N_("web.upload_failed"),
    "uploading": N_("web.uploading"),
    "photo_too_big": N_("photo.too_big"),
    "photo_type": N_("web.photo_type"),
    "noscript": N_("web.noscript"),
    "widget_open": N_("web.widget_open"),
    "widget_close": N_("web.widget_close"),
    "widget_frame": N_("web.widget_frame"),
}

Texts = Callable[..., str]


def chrome(texts: Texts, language: str) -> dict[str, str]:
    """The page's strings in ``language``; ``texts`` is the core's ``service.text``."""
    return {name: texts(language, message_id) for name, message_id in CHROME_IDS.items()}


def all_chrome(texts: Texts) -> dict[str, dict[str, str]]:
    """The page's strings in every language, so the page can switch without a round trip."""
    return {language: chrome(texts, language) for language in LANGUAGES}


def language_from_accept(header: str | None) -> str | None:
    """The best of kk/ru/en in an ``Accept-Language`` header (by its q-values), or None."""
    best: tuple[float, int, str] | None = None
    for position, entry in enumerate((header or "").split(",")[:20]):
        tag, _sep, params = entry.strip().partition(";")
        code = tag.strip().lower()[:2]
        if code not in LANGUAGES:
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        if quality <= 0:
            continue
        candidate = (quality, -position, code)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best else None
