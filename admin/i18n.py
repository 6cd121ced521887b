"""The panel's languages: Russian, Kazakh and English through Babel gettext catalogs.

Messages are written in English in the code and templates; ``admin/locales/<lang>/LC_MESSAGES/
messages.po`` hold the Russian and Kazakh texts. The catalogs are compiled in memory when the
panel starts, so there is no compiled file to go stale. To refresh the template after adding
messages (the tags' names come from the vocabulary): ``pybabel extract -F admin/babel.cfg -k N_ -o
admin/locales/messages.pot .`` from the repository root, then ``pybabel update -i
admin/locales/messages.pot -d admin/locales``.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from vocabulary import LANGUAGES as _SERVED

DEFAULT_LANGUAGE = "ru"
# The default first: the order the language switch offers them in.
LANGUAGES: tuple[str, ...] = (
    DEFAULT_LANGUAGE,
    *(code for code in _SERVED if code != DEFAULT_LANGUAGE),
)
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
LOCALES_DIR = Path(__file__).with_name("locales")


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined; it is translated where shown."""
    return message


class Catalogs:
    """The compiled translations of every panel language."""

    def __init__(self, directory: Path = LOCALES_DIR) -> None:
        self._translations: dict[str, NullTranslations] = {}
        for language in LANGUAGES:
            po_path = directory / language / "LC_MESSAGES" / "messages.po"
            if not po_path.exists():
                self._translations[language] = NullTranslations()
                continue
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=language)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            self._translations[language] = Translations(buffer)

    def get(self, language: str) -> NullTranslations:
        """The translations for ``language`` (the default language for an unknown one)."""
        return self._translations.get(language) or self._translations[DEFAULT_LANGUAGE]


def choose_language(candidates: list[str | None], accept_language: str = "") -> str:
    """The first supported language among ``candidates``, then the browser's, then Russian."""
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


class Formatter:
    """Dates and times shown to staff: in the agency's time zone, in the staff's language."""

    def __init__(self, language: str, timezone: str) -> None:
        self.language = language
        self.tz = ZoneInfo(timezone)

    @property
    def zone(self) -> str:
        """The time zone as staff read it: its offset from UTC now, ``UTC+05:00``."""
        offset = datetime.now(UTC).astimezone(self.tz).strftime("%z")
        return f"UTC{offset[:3]}:{offset[3:]}"

    def datetime(self, value: datetime | None) -> str:
        """A short local date and time, or an empty string."""
        if value is None:
            return ""
        # Numeric and the same in every language; strftime is far cheaper than Babel here.
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
