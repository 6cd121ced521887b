"""The page's own texts (labels, placeholders, errors) in the three languages.

They live in the same Babel catalogs as the conversation's texts; ``_`` marks the ids so the
catalog test finds them. The conversation's language decides; before the citizen has chosen
one, the browser's ``Accept-Language`` is the guess.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.conversation import LANGUAGES
from bot.conversation.i18n import _

PAGE_FALLBACK_LANGUAGE = "ru"

# Every string the page shows by itself, by the name the template and script use.
CHROME_IDS: dict[str, str] = {
    "title": _("web.title"),
    "heading": _("web.heading"),
    "log_label": _("web.log_label"),
    "input_label": _("web.input_label"),
    "placeholder": _("web.placeholder"),
    "send": _("web.send"),
    "attach": _("web.attach"),
    "language": _("web.language_button"),
    "you": _("web.author_you"),
    "bot": _("web.author_bot"),
    "staff": _("web.author_staff"),
    "connecting": _("web.connecting"),
    "reconnecting": _("web.reconnecting"),
    "cookie_blocked": _("web.cookie_blocked"),
    "open_in_tab": _("web.open_in_tab"),
    "upload_failed": _("web.upload_failed"),
    "uploading": _("web.uploading"),
    "photo_too_big": _("photo.too_big"),
    "photo_type": _("web.photo_type"),
    "noscript": _("web.noscript"),
    "widget_open": _("web.widget_open"),
    "widget_close": _("web.widget_close"),
    "widget_frame": _("web.widget_frame"),
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
