"""Neutral messages: what every transport turns its platform's updates into and out of.

Nothing here knows about a platform. `raw` carries the platform's own object for logging
and for the transport that made it; flows never read it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a message comes from or goes to: a platform, a chat on it, a user in it."""

    platform: str
    chat_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str = ""


@dataclass(frozen=True, slots=True)
class ChoicePick:
    """A button press: which stored prompt, which of its choices. Proves nothing by itself."""

    prompt_id: str
    choice_id: str
    message_id: str | None = None  # the message the button was on, when the platform says


@dataclass(frozen=True, slots=True)
class Reaction:
    """A reaction (an emoji) a person put on one of the bot's messages."""

    message_id: str
    key: str
    # the person took their reaction away (Element's undo): it undoes a choice only in a
    # list one taps on and off (`OutMessage.toggles`)
    removed: bool = False


class MediaKind(StrEnum):
    PHOTO = "photo"
    VOICE = "voice"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class Media:
    kind: MediaKind
    file_ref: str
    mime_type: str | None = None
    size: int | None = None
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    title: str | None = None


class Membership(StrEnum):
    """A person (un)blocked the bot: the platform told us they left or came back."""

    JOINED = "joined"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class Inbound:
    ref: ChatRef
    event_id: str
    text: str | None = None
    command: Command | None = None
    choice: ChoicePick | None = None
    reaction: Reaction | None = None
    media: Media | None = None
    location: Location | None = None
    membership: Membership | None = None
    sender_name: str | None = None
    language_hint: str | None = None
    private_chat: bool = True
    raw: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str
    emoji: str | None = None
    aliases: tuple[str, ...] = ()

    def as_record(self) -> dict[str, Any]:
        """As stored with its prompt (what `dataclasses.asdict` gives, without its cost)."""
        return {"id": self.id, "label": self.label, "emoji": self.emoji, "aliases": self.aliases}


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to send: a picture or a document, as bytes with a file name; a picture may
    have a text alternative (`description`) for those who cannot see it."""

    filename: str
    content: bytes
    mime_type: str
    description: str | None = None

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


@dataclass(frozen=True, slots=True)
class OutMessage:
    text: str
    choices: tuple[Choice, ...] = ()
    expects_text: bool = False
    attachment: Attachment | None = None
    location: Location | None = None
    prompt_id: str | None = None
    # the ids of the choices one taps on and off (interests, areas): taking a reaction back
    # undoes one of these, and the question may be edited in place instead of sent again
    toggles: tuple[str, ...] = ()
    # the platform's id of the message this one is put in place of (the same question,
    # edited after a tap), instead of a new message
    in_place_of: str | None = None
    # the platform's id of the message this one answers (what a tap on it chose), shown as
    # a reply to it where the platform has replies
    reply_to: str | None = None
    # a stored photo sent before it, by reference (`PHOTO` in the outbox row: path, type and
    # text alternative), so a row never holds the file's bytes; read just before the send
    stored_photo: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ChoiceEcho:
    """Tells a transport that a prompt it showed was answered, so it can mark it so."""

    prompt_message_id: str
    label: str
    # the message as it should now read (an invitation card showing the answer, with the
    # buttons that still make sense); None: mark it answered and take its buttons away
    replacement: OutMessage | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    ref: ChatRef
    message: OutMessage | None = None
    echo: ChoiceEcho | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """What a transport reports after sending: the platform's id for the message."""

    message_id: str | None


_COMMAND = re.compile(r"^[/!]([A-Za-z0-9_æøåÆØÅ]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.DOTALL)


def parse_command(text: str) -> Command | None:
    """`/start ev_12` -> Command("start", "ev_12"); a leading `!` works too (Matrix habit)."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    return Command(name=match.group(1).lower(), args=(match.group(2) or "").strip())


# An outbox payload with this key (the platform's id of a message already sent) puts the
# message in place of that one instead of sending a new one (a changed invitation).
EDIT_OF = "edit_of"
# An outbox payload with this key sends a stored photo with the message: a reference to the
# file ({"path", "mime_type", "description"}, the text alternative), never its bytes; the
# delivery worker reads the file just before the send (bot/photo_files.py).
PHOTO = "photo"
# An edit's payload may carry, under this key, the payload of a short message to send in its
# place when the platform refuses the edit (the message too old, deleted): nothing silent.
INSTEAD = "instead"


def message_to_payload(message: OutMessage) -> dict[str, Any]:
    """A JSON-safe form of a message, for the outbox."""
    payload: dict[str, Any] = {
        "text": message.text,
        "choices": [
            {"id": c.id, "label": c.label, "emoji": c.emoji, "aliases": list(c.aliases)}
            for c in message.choices
        ],
        "expects_text": message.expects_text,
        "prompt_id": message.prompt_id,
    }
    if message.toggles:
        payload["toggles"] = list(message.toggles)
    if message.in_place_of is not None:
        payload[EDIT_OF] = message.in_place_of
    if message.reply_to is not None:
        payload["reply_to"] = message.reply_to
    if message.stored_photo is not None:
        payload[PHOTO] = dict(message.stored_photo)
    if message.attachment is not None:
        payload["attachment"] = {
            "filename": message.attachment.filename,
            "mime_type": message.attachment.mime_type,
            "content": base64.b64encode(message.attachment.content).decode("ascii"),
        }
        if message.attachment.description:
            payload["attachment"]["description"] = message.attachment.description
    if message.location is not None:
        payload["location"] = {
            "latitude": message.location.latitude,
            "longitude": message.location.longitude,
            "title": message.location.title,
        }
    return payload


def message_from_payload(payload: dict[str, Any]) -> OutMessage:
    attachment = payload.get("attachment")
    location = payload.get("location")
    return OutMessage(
        text=str(payload["text"]),
        choices=tuple(
            Choice(c["id"], c["label"], c.get("emoji"), tuple(c.get("aliases", ())))
            for c in payload.get("choices", ())
        ),
        expects_text=bool(payload.get("expects_text", False)),
        prompt_id=payload.get("prompt_id"),
        toggles=tuple(str(choice_id) for choice_id in payload.get("toggles", ())),
        reply_to=payload.get("reply_to"),
        attachment=Attachment(
            attachment["filename"],
            base64.b64decode(attachment["content"]),
            attachment["mime_type"],
            attachment.get("description"),
        )
        if attachment
        else None,
        location=Location(location["latitude"], location["longitude"], location.get("title"))
        if location
        else None,
    )


def inbound_to_record(inbound: Inbound) -> dict[str, Any]:
    """A JSON-safe form of an inbound message (`raw` left out), kept in the inbox until it is
    handled, so a restart can hand it on as it came."""
    record: dict[str, Any] = {
        "ref": [inbound.ref.platform, inbound.ref.chat_id, inbound.ref.user_id],
        "event_id": inbound.event_id,
        "private_chat": inbound.private_chat,
    }
    if inbound.text is not None:
        record["text"] = inbound.text
    if inbound.command is not None:
        record["command"] = [inbound.command.name, inbound.command.args]
    if inbound.choice is not None:
        pick = inbound.choice
        record["choice"] = [pick.prompt_id, pick.choice_id, pick.message_id]
    if inbound.reaction is not None:
        reaction = inbound.reaction
        removed = [True] if reaction.removed else []
        record["reaction"] = [reaction.message_id, reaction.key, *removed]
    if inbound.media is not None:
        media = inbound.media
        record["media"] = {
            "kind": str(media.kind),
            "file_ref": media.file_ref,
            "mime_type": media.mime_type,
            "size": media.size,
            "caption": media.caption,
        }
    if inbound.location is not None:
        place = inbound.location
        record["location"] = [place.latitude, place.longitude, place.title]
    if inbound.membership is not None:
        record["membership"] = str(inbound.membership)
    if inbound.sender_name is not None:
        record["sender_name"] = inbound.sender_name
    if inbound.language_hint is not None:
        record["language_hint"] = inbound.language_hint
    return record


def _reaction_from_record(record: list[Any]) -> Reaction:
    return Reaction(str(record[0]), str(record[1]), removed=len(record) > 2 and bool(record[2]))


def inbound_from_record(record: dict[str, Any]) -> Inbound:
    platform, chat_id, user_id = record["ref"]
    command = record.get("command")
    choice = record.get("choice")
    reaction = record.get("reaction")
    media = record.get("media")
    location = record.get("location")
    membership = record.get("membership")
    return Inbound(
        ChatRef(str(platform), str(chat_id), str(user_id)),
        str(record["event_id"]),
        text=record.get("text"),
        command=Command(str(command[0]), str(command[1])) if command else None,
        choice=ChoicePick(str(choice[0]), str(choice[1]), choice[2]) if choice else None,
        reaction=_reaction_from_record(reaction) if reaction else None,
        media=Media(
            MediaKind(media["kind"]),
            str(media["file_ref"]),
            media.get("mime_type"),
            media.get("size"),
            media.get("caption"),
        )
        if media
        else None,
        location=Location(float(location[0]), float(location[1]), location[2])
        if location
        else None,
        membership=Membership(membership) if membership else None,
        sender_name=record.get("sender_name"),
        language_hint=record.get("language_hint"),
        private_chat=bool(record.get("private_chat", True)),
    )
