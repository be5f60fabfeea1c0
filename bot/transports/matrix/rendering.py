"""An `OutMessage` as Matrix content: Matrix has no buttons, so choices are a numbered list
plus one reaction per choice on the bot's own message."""

from __future__ import annotations

import html

from conversations.core.messages import OutMessage

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
    """The text with the choices as a short numbered list."""
    if not message.choices:
        return message.text
    lines = [message.text, ""] if message.text else []
    for number, choice in enumerate(message.choices, start=1):
        emoji = f"{choice.emoji} " if choice.emoji else ""
        lines.append(f"{number}. {emoji}{choice.label}")
    return "\n".join(lines)


def formatted_body(text: str) -> dict[str, str]:
    """A sanitised `formatted_body`: our text escaped, line breaks kept."""
    return {
        "format": "org.matrix.custom.html",
        "formatted_body": html.escape(text).replace("\n", "<br>"),
    }
