"""A nio room event as a neutral `Inbound`, or None for what the bot does not handle."""

from __future__ import annotations

import re
from typing import Any

from nio import (
    MatrixRoom,
    ReactionEvent,
    RoomMessage,
    RoomMessageNotice,
    RoomMessageText,
    RoomMessageUnknown,
)

from bot.transports.matrix.media import media_of
from conversations.core.messages import ChatRef, Inbound, Location, Reaction

PLATFORM = "matrix"
_GEO = re.compile(r"^geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")


def to_inbound(room: MatrixRoom, event: Any) -> Inbound | None:
    sender = str(event.sender)
    ref = ChatRef(PLATFORM, room.room_id, sender)
    name = room.user_name(sender) or None
    event_id = str(event.event_id)
    if isinstance(event, ReactionEvent):
        return Inbound(
            ref,
            event_id,
            reaction=Reaction(message_id=event.reacts_to, key=event.key),
            sender_name=name,
            raw=event,
        )
    if not isinstance(event, RoomMessage):
        return None
    content: dict[str, Any] = event.source.get("content", {})
    relates = content.get("m.relates_to") or {}
    if relates.get("rel_type") == "m.replace":
        return None  # an edit of an earlier message; the first version was handled
    if isinstance(event, RoomMessageNotice):
        return None  # notices are what bots send; never answer them
    if isinstance(event, RoomMessageText):
        text = strip_reply_fallback(str(event.body))
        return Inbound(ref, event_id, text=text, sender_name=name, raw=event)
    media = media_of(event, content)
    if media is not None:
        return Inbound(ref, event_id, media=media, sender_name=name, raw=event)
    if isinstance(event, RoomMessageUnknown) and event.msgtype == "m.location":
        location = parse_geo_uri(str(content.get("geo_uri", "")), content.get("body"))
        if location is None:
            return None
        return Inbound(ref, event_id, location=location, sender_name=name, raw=event)
    return None


def parse_geo_uri(uri: str, title: object = None) -> Location | None:
    match = _GEO.match(uri.strip())
    if match is None:
        return None
    latitude, longitude = float(match.group(1)), float(match.group(2))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    label = (
        str(title) if isinstance(title, str) and title and not title.startswith("geo:") else None
    )
    return Location(latitude, longitude, label)


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted `> ...` lines clients put before a reply."""
    lines = body.splitlines()
    if not lines or not lines[0].startswith("> "):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    return "\n".join(lines[index:]).strip() or body
