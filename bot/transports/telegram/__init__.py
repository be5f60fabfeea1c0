"""Telegram (python-telegram-bot 22); see TELEGRAM.md beside this file."""

from bot.transports.telegram.connection import WebhookConfig
from bot.transports.telegram.errors import map_error
from bot.transports.telegram.menus import menu_name
from bot.transports.telegram.rendering import MAX_TEXT, split_text
from bot.transports.telegram.transport import TelegramTransport

__all__ = [
    "MAX_TEXT",
    "TelegramTransport",
    "WebhookConfig",
    "map_error",
    "menu_name",
    "split_text",
]
