"""A Bot API update as a neutral `Inbound`, or None for updates the bot has no use for."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.constants import ChatMemberStatus, MessageEntityType

from conversations.core.messages import (
    ChatRef,
    ChoicePick,
    Command,
    Inbound,
    Location,
    Media,
    MediaKind,
    Membership,
)

PLATFORM = "telegram"


def to_inbound(update: Update, bot_username: str | None) -> Inbound | None:
    """The event id is the `update_id`, so the router's update log drops a redelivery.
    `bot_username` tells commands for this bot from commands for another."""
    event_id = str(update.update_id)
    if update.my_chat_member is not None:
        return _membership(update, event_id)
    if update.callback_query is not None:
        return _button_press(update, event_id)
    message = update.message
    if message is None or message.from_user is None:
        return None
    user = message.from_user
    if user.is_bot:
        return None
    ref = ChatRef(PLATFORM, str(message.chat.id), str(user.id))
    common: dict[str, Any] = {
        "sender_name": user.first_name,
        "language_hint": user.language_code,
        # in a group the router only points to a private chat: nothing personal is said there
        "private_chat": message.chat.type == "private",
        "raw": update,
    }
    if message.text is not None:
        command = command_of(message, bot_username)
        if command is False:
            return None
        if isinstance(command, Command):
            return Inbound(ref, event_id, command=command, **common)
        return Inbound(ref, event_id, text=message.text, **common)
    media = media_of(message)
    if media is not None:
        return Inbound(ref, event_id, media=media, **common)
    if message.venue is not None:
        venue = message.venue
        location = Location(venue.location.latitude, venue.location.longitude, venue.title)
        return Inbound(ref, event_id, location=location, **common)
    if message.location is not None:
        location = Location(message.location.latitude, message.location.longitude)
        return Inbound(ref, event_id, location=location, **common)
    return None


def _membership(update: Update, event_id: str) -> Inbound | None:
    """A person blocking the bot (or unblocking it) in their private chat."""
    member = update.my_chat_member
    assert member is not None
    if member.chat.type != "private":
        return None
    status = member.new_chat_member.status
    if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        membership = Membership.LEFT
    elif status == ChatMemberStatus.MEMBER:
        membership = Membership.JOINED
    else:
        return None
    ref = ChatRef(PLATFORM, str(member.chat.id), str(member.from_user.id))
    return Inbound(ref, event_id, membership=membership, raw=update)


def _button_press(update: Update, event_id: str) -> Inbound | None:
    query = update.callback_query
    assert query is not None
    chat_id = str(query.message.chat.id) if query.message is not None else str(query.from_user.id)
    prompt_id, sep, choice_id = (query.data or "").partition(":")
    if not sep or not prompt_id:
        return None
    return Inbound(
        ChatRef(PLATFORM, chat_id, str(query.from_user.id)),
        event_id,
        choice=ChoicePick(
            prompt_id,
            choice_id,
            message_id=str(query.message.message_id) if query.message else None,
        ),
        sender_name=query.from_user.first_name,
        language_hint=query.from_user.language_code,
        private_chat=query.message is None or query.message.chat.type == "private",
        raw=update,
    )


def command_of(message: Message, bot_username: str | None) -> Command | bool | None:
    """The command a message starts with; False if it is meant for another bot."""
    text = message.text or ""
    entity = next(
        (e for e in message.entities if e.type == MessageEntityType.BOT_COMMAND and e.offset == 0),
        None,
    )
    if entity is None:
        return None
    word = text[1 : entity.length]
    name, _, addressee = word.partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return False
    return Command(name.lower(), text[entity.length :].strip())


def media_of(message: Message) -> Media | None:
    caption = message.caption
    if message.photo:
        photo = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return Media(MediaKind.PHOTO, photo.file_id, "image/jpeg", photo.file_size, caption)
    if message.voice is not None:
        voice = message.voice
        return Media(MediaKind.VOICE, voice.file_id, voice.mime_type, voice.file_size, caption)
    if message.document is not None:
        doc = message.document
        return Media(MediaKind.DOCUMENT, doc.file_id, doc.mime_type, doc.file_size, caption)
    return None
