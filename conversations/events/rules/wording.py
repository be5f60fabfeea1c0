"""How an event reads: its time span, its map link, its deep link."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from conversations.core.i18n import N_, Translator
from storage.models import (
    Event,
)


def link_payload(event: Event) -> str:
    return f"ev_{event.link_code}"


def deep_link_url(bot_username: str | None, payload: str) -> str | None:
    """The link that opens the bot on `payload`, when the bot's user name is set up."""
    return f"https://t.me/{bot_username}?start={payload}" if bot_username else None


def chat_link_url(matrix_user_id: str | None) -> str | None:
    """The link that opens a chat with the bot in Element (or any Matrix app). Matrix has
    no start payload, so the event's command is typed in that chat."""
    return f"https://matrix.to/#/{matrix_user_id}" if matrix_user_id else None


MATRIX_WAY_IN = N_("In Element and other Matrix apps: {link}, then write !start {payload}")


def matrix_way_in(tr: Translator, matrix_user_id: str | None, payload: str) -> str | None:
    """For a text people pass on (a poster, a shared link), beside `/start {payload}`: how
    someone on Matrix gets there, where the reader's own transport cannot render it for
    them. None when the bot is not on Matrix."""
    chat_url = chat_link_url(matrix_user_id)
    if chat_url is None:
        return None
    return tr.gettext(MATRIX_WAY_IN).format(link=chat_url, payload=payload)


def format_span(tr: Translator, start: datetime, end: datetime | None, timezone: str) -> str:
    """ "lørdag 6. juni 2026 kl. 10:00–13:00", or both dates when it ends another day."""
    text = tr.format_datetime(start, timezone)
    if end is not None:
        start_local = start.astimezone(ZoneInfo(timezone))
        end_local = end.astimezone(ZoneInfo(timezone))
        if start_local.date() == end_local.date():
            text += f"–{end_local:%H:%M}"
        else:
            text += " – " + tr.format_datetime(end, timezone)
    return text


def event_when(tr: Translator, event: Event, timezone: str) -> str:
    return format_span(tr, event.starts_at, event.ends_at, timezone)


def map_link(event: Event) -> str | None:
    if event.latitude is None or event.longitude is None:
        return None
    lat, lon = f"{event.latitude:.5f}", f"{event.longitude:.5f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
