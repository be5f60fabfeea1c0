"""Which transports the settings switch on."""

from __future__ import annotations

from bot.settings import Settings
from bot.transports.base import Transport


def configured_transports(settings: Settings) -> list[Transport]:
    transports: list[Transport] = []
    if settings.console:
        from bot.transports.console import ConsoleTransport

        transports.append(ConsoleTransport())
    if settings.telegram_token is not None:
        from bot.transports.telegram import TelegramTransport

        transports.append(TelegramTransport.from_settings(settings))
    if settings.matrix_configured:
        from bot.transports.matrix import MatrixTransport

        transports.append(MatrixTransport.from_settings(settings))
    return transports
