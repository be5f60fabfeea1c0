"""Which transports the settings switch on."""

from __future__ import annotations

from collections.abc import Sequence

from bot.settings import Settings
from bot.transports.base import MenuCommand, Transport


def configured_transports(
    settings: Settings, *, menu: Sequence[MenuCommand] = ()
) -> list[Transport]:
    """`menu`: the commands platforms with a command menu list (the caller describes them,
    see `bot.composition.build_command_menu`)."""
    transports: list[Transport] = []
    if settings.console:
        from bot.transports.console import ConsoleTransport

        transports.append(ConsoleTransport())
    if settings.telegram_token is not None:
        from bot.transports.telegram import TelegramTransport

        transports.append(TelegramTransport.from_settings(settings, menu=menu))
    if settings.matrix_configured:
        from bot.transports.matrix import MatrixTransport

        transports.append(MatrixTransport.from_settings(settings))
    return transports
