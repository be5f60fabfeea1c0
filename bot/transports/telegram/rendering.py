"""An `OutMessage` as Bot API text: HTML-escaped, split to fit, choices as an inline keyboard.

Our texts are plain, so every piece is escaped and sent with HTML parse mode. Choices become
one button a row whose `callback_data` is `"{prompt_id}:{choice_id}"`.
"""

from __future__ import annotations

import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.transports.base import PermanentFailure
from conversations.core.messages import OutMessage

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


def escape(text: str) -> str:
    return html.escape(text, quote=False)


# `/start ev_12` in a text: Telegram shows `/start` as a command, and a tap on it sends only
# `/start`, losing what it opens. A link to the bot with the payload opens it in one tap.
# A payload is `<prefix>_<argument>` (conversations/core/deep_links.py): "/start to begin"
# is no link.
_START_WITH_PAYLOAD = re.compile(
    r"(?<![^\s(\[«“„\"'])/start ([a-z]{1,8}_[A-Za-z0-9_-]{1,60})(?![\w/-])"
)


def to_html(text: str, bot_username: str | None) -> str:
    """The text escaped, each `/start <payload>` a t.me link that opens it (once the bot
    knows its own name). The link does not count toward Telegram's length limits, which
    apply to the text shown."""
    escaped = escape(text)
    if not bot_username:
        return escaped
    return _START_WITH_PAYLOAD.sub(
        lambda found: f'<a href="https://t.me/{bot_username}?start={found[1]}">{found[0]}</a>',
        escaped,
    )


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split plain text so each part, once HTML-escaped, fits `limit`: paragraphs first,
    then lines, then words, then characters."""
    if len(escape(text)) <= limit:
        return [text]
    for separator in ("\n\n", "\n", " "):
        pieces = text.split(separator)
        if len(pieces) == 1:
            continue
        parts: list[str] = []
        current = ""
        for piece in pieces:
            candidate = f"{current}{separator}{piece}" if current else piece
            if len(escape(candidate)) <= limit:
                current = candidate
                continue
            if current:
                parts.append(current)
            current = piece
        if current:
            parts.append(current)
        result: list[str] = []
        for part in parts:
            result.extend(split_text(part, limit) if len(escape(part)) > limit else [part])
        return [part for part in result if part.strip()] or [text[:limit]]
    # one unbroken run of characters: cut it where the escaped form reaches the limit
    parts, current = [], ""
    for char in text:
        if len(escape(current + char)) > limit:
            parts.append(current)
            current = ""
        current += char
    if current:
        parts.append(current)
    return parts


def callback_data(prompt_id: str, choice_id: str) -> str:
    data = f"{prompt_id}:{choice_id}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
        raise PermanentFailure(f"callback data {data!r} is longer than {MAX_CALLBACK_DATA} bytes")
    return data


def keyboard(message: OutMessage) -> InlineKeyboardMarkup | None:
    if not message.choices or message.prompt_id is None:
        return None
    rows = [
        [
            InlineKeyboardButton(
                f"{choice.emoji} {choice.label}" if choice.emoji else choice.label,
                callback_data=callback_data(message.prompt_id, choice.id),
            )
        ]
        for choice in message.choices
    ]
    return InlineKeyboardMarkup(rows)


def plain_text(message: OutMessage) -> str:
    """The text to show; choices without a stored prompt are listed as numbered lines."""
    if message.choices and message.prompt_id is None:
        lines = [
            f"{n}. {c.emoji + ' ' if c.emoji else ''}{c.label}"
            for n, c in enumerate(message.choices, start=1)
        ]
        return "\n".join([message.text, "", *lines])
    return message.text
