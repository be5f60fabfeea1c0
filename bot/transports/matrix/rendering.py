"""An `OutMessage` as Matrix content: Matrix has no buttons, so choices are a numbered list
plus one reaction per choice on the bot's own message, and commands read `!name`: Element
takes a line starting with `/` as its own command and never sends it."""

from __future__ import annotations

import html

from conversations.core.commands import with_command_sign
from conversations.core.messages import OutMessage

COMMAND_SIGN = "!"

KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")


def reaction_keys(message: OutMessage) -> list[str]:
    """One reaction per choice: its emoji, or the keycap digit of its number."""
    keys: list[str] = []
    for number, choice in enumerate(message.choices, start=1):
        key = choice.emoji or (KEYCAPS[number - 1] if number <= len(KEYCAPS) else None)
        if key and key not in keys:
            keys.append(key)
    return keys


def render_text(message: OutMessage) -> str:
    """The text with the choices as a short numbered list, its commands as typed here."""
    if not message.choices:
        return with_command_sign(message.text, COMMAND_SIGN)
    lines = [message.text, ""] if message.text else []
    for number, choice in enumerate(message.choices, start=1):
        emoji = f"{choice.emoji} " if choice.emoji else ""
        lines.append(f"{number}. {emoji}{choice.label}")
    return with_command_sign("\n".join(lines), COMMAND_SIGN)


def formatted_body(text: str) -> dict[str, str]:
    """A sanitised `formatted_body`: our text escaped, line breaks kept."""
    return {
        "format": "org.matrix.custom.html",
        "formatted_body": html.escape(text).replace("\n", "<br>"),
    }
