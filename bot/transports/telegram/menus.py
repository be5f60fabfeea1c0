"""The command menus: the common one (citizens'), and one per coordinator's private chat.

The app describes the commands (`MenuCommand`); which person sees which role's menu is
decided in bot/command_menus.py. Telegram picks a menu by the language of the person's app.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.i18n import Catalogs
from bot.transports.base import DeliveryError, MenuCommand, PermanentFailure
from bot.transports.telegram.sending import TelegramSender
from conversations.core.i18n import N_
from storage.models import Role

log = logging.getLogger(__name__)

# Telegram picks a menu by the language of the person's app; None is the fallback
MENU_LANGUAGES: tuple[str | None, ...] = (None, "da", "en")
MAX_DESCRIPTION = 256
# What people see before they press Start: the profile's short line, and the empty chat's text
BOT_SHORT_DESCRIPTION = N_("Things to do together nearby: walks, picnics, a hand with a task.")
BOT_DESCRIPTION = N_(
    "Hello! I'm Tæl mig med, the municipality's chat companion. I invite you to things "
    "happening nearby (a walk, a picnic in the forest, cooking together), remind you, and "
    "let you lend a hand or say how it went. Press Start: it only takes a few taps, and "
    "/privacy says how your information is looked after."
)
_MENU_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


def menu_name(label: str, fallback: str) -> str:
    """Telegram's menu takes only a-z, 0-9 and _ (so no æ, ø, å): else the English name."""
    return label if _MENU_NAME.match(label) else fallback


class CommandMenus:
    def __init__(
        self, sender: TelegramSender, menu: Sequence[MenuCommand], translations: Catalogs | None
    ) -> None:
        self._sender = sender
        self._menu = tuple(menu)
        self._translations = translations

    def commands_for(self, role: Role, language: str) -> list[BotCommand]:
        """The command list a person with `role` sees, in `language`."""
        if not self._menu or self._translations is None:
            return []
        translator = self._translations.get(language)
        return [
            BotCommand(
                menu_name(entry.name_in(language), entry.name),
                translator.gettext(entry.description)[:MAX_DESCRIPTION],
            )
            for entry in self._menu
            if role in entry.roles
        ]

    def common_menus(self) -> dict[str | None, list[BotCommand]]:
        """The citizens' menus: language code, or None for the default -> commands."""
        if not self._menu or self._translations is None:
            return {}
        return {
            language: self.commands_for(Role.CITIZEN, language or "da")
            for language in MENU_LANGUAGES
        }

    async def set_descriptions(self) -> None:
        """The bot's description and short description in each language; a failure is
        logged, never fatal."""
        if self._translations is None:
            return
        bot = self._sender.bot
        for language in MENU_LANGUAGES:
            translator = self._translations.get(language or "da")
            description = translator.gettext(BOT_DESCRIPTION)[:512]
            short = translator.gettext(BOT_SHORT_DESCRIPTION)[:120]
            try:
                await self._sender.call(
                    "setMyDescription",
                    lambda text=description, code=language: bot.set_my_description(  # type: ignore[misc]
                        text, language_code=code
                    ),
                )
                await self._sender.call(
                    "setMyShortDescription",
                    lambda text=short, code=language: bot.set_my_short_description(  # type: ignore[misc]
                        text, language_code=code
                    ),
                )
            except DeliveryError as exc:
                log.warning(
                    "Telegram: could not set the %s description: %s", language or "default", exc
                )
                return

    async def set_common_menus(self) -> None:
        """Register the common command menus; a failure is logged, never fatal."""
        bot = self._sender.bot
        for language, commands in self.common_menus().items():
            try:
                await self._sender.call(
                    "setMyCommands",
                    lambda commands=commands, language=language: bot.set_my_commands(  # type: ignore[misc]
                        commands, scope=BotCommandScopeDefault(), language_code=language
                    ),
                )
            except DeliveryError as exc:
                log.warning(
                    "Telegram: could not set the %s command menu: %s", language or "default", exc
                )
                return

    async def show(self, user_id: str, role: Role, language: str) -> None:
        """The person's private chat gets the list of their role, in their language, whatever
        language their Telegram app is set to; a citizen's chat goes back to the common list."""
        if not user_id.lstrip("-").isdigit():
            raise PermanentFailure(f"{user_id!r} is not a Telegram user id")
        scope = BotCommandScopeChat(int(user_id))  # a private chat's id is the user's id
        bot = self._sender.bot
        commands = self.commands_for(role, language) if role != Role.CITIZEN else []
        for code in MENU_LANGUAGES:
            if commands:
                await self._sender.call(
                    "setMyCommands",
                    lambda code=code: bot.set_my_commands(  # type: ignore[misc]
                        commands, scope=scope, language_code=code
                    ),
                )
            else:
                await self._sender.call(
                    "deleteMyCommands",
                    lambda code=code: bot.delete_my_commands(  # type: ignore[misc]
                        scope=scope, language_code=code
                    ),
                )
