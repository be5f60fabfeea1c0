"""A nio room event as a neutral `Inbound`, or None for what the bot does not handle."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from nio import (
    MatrixRoom,
    ReactionEvent,
    RedactionEvent,
    RoomMessage,
    RoomMessageNotice,
    RoomMessageText,
    RoomMessageUnknown,
)

from bot.transports.matrix.media import media_of
from conversations.core.messages import ChatRef, Inbound, Location, Reaction

PLATFORM = "matrix"
_GEO = re.compile(r"^geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")
REMEMBERED_REACTIONS = 10_000


class ReactionMemory:
    """The reactions people put on the bot's messages, by their event id: a redaction
    names only the event it takes away, and a redacted reaction no longer says what it
    was. Kept in memory (the newest few thousand): a reaction taken back after a restart
    changes nothing, which for a list one taps on and off is the old behaviour."""

    def __init__(self, size: int = REMEMBERED_REACTIONS) -> None:
        self._size = size
        self._reactions: OrderedDict[str, tuple[str, str, Reaction]] = OrderedDict()

    def remember(self, inbound: Inbound) -> None:
        if inbound.reaction is None:
            return
        ref = inbound.ref
        self._reactions[inbound.event_id] = (ref.chat_id, ref.user_id, inbound.reaction)
        while len(self._reactions) > self._size:
            self._reactions.popitem(last=False)

    def taken_back(self, room: MatrixRoom, event: RedactionEvent) -> Inbound | None:
        """A person's redaction of their own reaction, as that reaction removed."""
        known = self._reactions.get(str(event.redacts))
        sender = str(event.sender)
        if known is None or known[:2] != (room.room_id, sender):
            return None  # not a reaction we saw, or someone else's (a moderator's)
        del self._reactions[str(event.redacts)]
        reaction = known[2]
        return Inbound(
            ChatRef(PLATFORM, room.room_id, sender),
            str(event.event_id),
            reaction=Reaction(reaction.message_id, reaction.key, removed=True),
            sender_name=room.user_name(sender) or None,
            raw=event,
        )


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
