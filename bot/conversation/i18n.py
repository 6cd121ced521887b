"""The citizen-facing texts in Kazakh, Russian and English, from Babel gettext catalogs.

Message ids are symbolic (``rating.ask``); every id has a text in each of the three catalogs
under ``bot/locales/<lang>/LC_MESSAGES/messages.po`` (a test checks it). Placeholders use
``{name}`` and are filled with :meth:`str.format_map`.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from bot.conversation.events import LANGUAGES

DEFAULT_LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def N_(message_id: str) -> str:
    """Mark a message id for extraction where it is defined; it is translated where shown."""
    return message_id


# The core's own short spelling of the marker.
_ = N_


class Translator:
    """Looks up a message id in a language's catalog and fills in its placeholders."""

    def __init__(self, catalogs: dict[str, dict[str, str]]) -> None:
        self._catalogs = catalogs

    @classmethod
    def load(cls, locales_dir: Path = DEFAULT_LOCALES_DIR) -> Translator:
        """Read the three ``.po`` catalogs."""
        catalogs: dict[str, dict[str, str]] = {}
        for language in LANGUAGES:
            path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            catalogs[language] = {
                str(message.id): str(message.string)
                for message in catalog
                if message.id and message.string and not message.fuzzy
            }
        return cls(catalogs)

    def ids(self, language: str) -> set[str]:
        """The message ids that have a text in ``language``."""
        return set(self._catalogs.get(language, {}))

    def text(self, language: str, message_id: str, **params: object) -> str:
        """The text of ``message_id`` in ``language`` (English, then the id, as fallbacks)."""
        template = (
            self._catalogs.get(language, {}).get(message_id)
            or self._catalogs.get("en", {}).get(message_id)
            or message_id
        )
        return template.format_map(params) if params else template
