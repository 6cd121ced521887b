"""The bot's command menu (the "/" button in Telegram), in each citizen's language.

Telegram shows the list registered for the user's app language (Kazakh, Russian or English),
or else the default list, which is the Russian one.
"""

from __future__ import annotations

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand

from bot.conversation import LANGUAGES, N_, Translator

log = structlog.get_logger("pikir.telegram")

MENU = {
    "start": N_("menu.start"),
    "corruption": N_("menu.corruption"),
    "status": N_("menu.status"),
    "language": N_("menu.language"),
    "erase": N_("menu.erase"),
    "help": N_("menu.help"),
}
DEFAULT_LANGUAGE = "ru"


def menu(translator: Translator, language: str) -> list[BotCommand]:
    """The command menu in ``language``."""
    return [
        BotCommand(command=command, description=translator.text(language, message_id))
        for command, message_id in MENU.items()
    ]


async def publish_menu(bot: Bot, translator: Translator) -> None:
    """Register the menu for each language and as the default; a failure is only logged."""
    try:
        for language in LANGUAGES:
            await bot.set_my_commands(menu(translator, language), language_code=language)
        await bot.set_my_commands(menu(translator, DEFAULT_LANGUAGE))
    except TelegramAPIError as exc:  # the menu is a convenience: never a reason not to start
        log.warning("telegram.menu_failed", error=str(exc))
