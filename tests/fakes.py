"""A recording transport and a chat driver, so flow tests read like a conversation."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from bot.app import BotApp
from bot.photo_files import with_photo
from bot.transports.base import Dispatch, PermanentFailure, RecipientBlocked
from conversations.core.messages import (
    EDIT_OF,
    ChatRef,
    ChoiceEcho,
    ChoicePick,
    Inbound,
    Location,
    Media,
    OutMessage,
    Reaction,
    Sent,
    message_from_payload,
)
from conversations.events.rules.invitations import CARD_OF_EVENT
from storage.models import OutboxMessage
from storage.repositories.outbox import ClaimedMessage

PLATFORM = "fake"


def claimed_from(row: OutboxMessage) -> ClaimedMessage:
    return ClaimedMessage(
        row.id,
        row.chat_id,
        row.user_id,
        row.person_id,
        row.payload,
        row.attempts,
        row.deferrals,
        row.batch,
    )


@dataclass
class Delivered:
    ref: ChatRef
    message: OutMessage
    message_id: str


@dataclass
class RecordingTransport:
    """Keeps every message the bot sends; can pretend a person has blocked the bot."""

    platform: str = PLATFORM
    sent: list[Delivered] = field(default_factory=list)
    echoes: list[tuple[ChatRef, ChoiceEcho]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    edits: list[tuple[ChatRef, str, OutMessage]] = field(default_factory=list)
    refuse_edits: set[str] = field(default_factory=set)  # users whose messages can't be edited
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def run(self, dispatch: Dispatch) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        if ref.user_id in self.blocked:
            raise RecipientBlocked(ref.user_id)
        message_id = str(next(self._ids))
        self.sent.append(Delivered(ref, message, message_id))
        return Sent(message_id)

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        self.echoes.append((ref, echo))

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        if ref.user_id in self.refuse_edits:  # as Telegram does for a message deleted
            raise PermanentFailure("Bad Request: message to edit not found")
        self.edits.append((ref, message_id, message))

    def to(self, user: str) -> list[Delivered]:
        return [d for d in self.sent if d.ref.user_id == user]


class Chat:
    """Drives the bot as people would: `await chat.say("anna", "/start")`."""

    def __init__(self, app: BotApp, transport: RecordingTransport) -> None:
        self.app = app
        self.transport = transport

    @staticmethod
    def ref(user: str) -> ChatRef:
        return ChatRef(PLATFORM, f"chat-{user}", user)

    async def _send(self, inbound: Inbound) -> list[OutMessage]:
        before = len(self.transport.sent)
        await self.app.dispatch(inbound)
        return [d.message for d in self.transport.sent[before:] if d.ref == inbound.ref]

    async def say(self, user: str, text: str, *, name: str | None = None) -> list[OutMessage]:
        return await self._send(
            Inbound(self.ref(user), uuid.uuid4().hex, text=text, sender_name=name)
        )

    async def tap(self, user: str, label_or_number: str | int) -> list[OutMessage]:
        """Press a button on the newest message with choices sent to `user`."""
        message = self.last_question(user)
        assert message.prompt_id is not None
        if isinstance(label_or_number, int):
            choice = message.choices[label_or_number - 1]
        else:
            found = [c for c in message.choices if label_or_number in (c.id, c.label)]
            assert found, f"no choice {label_or_number!r} in {[c.label for c in message.choices]}"
            choice = found[0]
        return await self.press(user, message.prompt_id, choice.id)

    async def press(self, user: str, prompt_id: str, choice_id: str) -> list[OutMessage]:
        carrier = next(
            (d.message_id for d in self.transport.sent if d.message.prompt_id == prompt_id), None
        )
        pick = ChoicePick(prompt_id, choice_id, message_id=carrier)
        return await self._send(Inbound(self.ref(user), uuid.uuid4().hex, choice=pick))

    async def react(self, user: str, message_id: str, key: str) -> list[OutMessage]:
        return await self._send(
            Inbound(self.ref(user), uuid.uuid4().hex, reaction=Reaction(message_id, key))
        )

    async def send_media(self, user: str, media: Media) -> list[OutMessage]:
        return await self._send(Inbound(self.ref(user), uuid.uuid4().hex, media=media))

    async def send_location(self, user: str, location: Location) -> list[OutMessage]:
        return await self._send(Inbound(self.ref(user), uuid.uuid4().hex, location=location))

    def last_question(self, user: str) -> OutMessage:
        for delivered in reversed(self.transport.to(user)):
            if delivered.message.choices:
                return delivered.message
        raise AssertionError(f"{user} was never asked a question with choices")

    def last_text(self, user: str) -> str:
        return self.transport.to(user)[-1].message.text

    async def onboard(self, user: str, *, language: str = "da", name: str = "Anna") -> None:
        await self.say(user, "/start")
        await self.tap(user, language)
        await self.tap(user, "yes")
        await self.say(user, name)
        while self.last_question(user).choices[-1].id == "done":
            await self.tap(user, "done")
        await self.tap(user, "no")  # citizens' initiatives
        await self.tap(user, "none")

    async def deliver_outbox(self) -> list[Delivered]:
        """A test-only stand-in for the delivery worker: sends every due pending outbox row.

        Rows whose `next_attempt_at` lies in the future (quiet hours, a set send time) stay
        pending. Returns what was delivered, in order.
        """
        from sqlalchemy import select

        from storage.models import OutboxMessage, OutboxStatus

        delivered: list[Delivered] = []
        async with self.app.uow() as uow:
            now = uow.clock.now()
            rows = (
                (
                    await uow.session.execute(
                        select(OutboxMessage)
                        .where(
                            OutboxMessage.status == OutboxStatus.PENDING,
                            OutboxMessage.next_attempt_at <= now,
                        )
                        .order_by(OutboxMessage.id)
                    )
                )
                .scalars()
                .all()
            )
            for row in rows:
                if row.expires_at is not None and row.expires_at <= now:
                    row.status = OutboxStatus.EXPIRED
                    continue
                if CARD_OF_EVENT in row.payload:  # drawn as it goes, as the worker does
                    drawn = await self.app.draw_cards_at_send(uow, [claimed_from(row)])
                    if not drawn:
                        continue  # held for its photo's file, as the worker would
                    row.payload = drawn[0].payload
                message = await with_photo(message_from_payload(row.payload), row.payload)
                ref = ChatRef(row.platform, row.chat_id, row.user_id)
                if row.payload.get(EDIT_OF):  # a changed invitation, put in place of the old
                    await self.transport.edit(ref, str(row.payload[EDIT_OF]), message)
                    row.status, row.sent_at = OutboxStatus.SENT, now
                    row.platform_message_id = str(row.payload[EDIT_OF])
                    continue
                sent = await self.transport.send(ref, message)
                row.status, row.sent_at = OutboxStatus.SENT, now
                row.platform_message_id = sent.message_id
                if message.prompt_id and sent.message_id:
                    await uow.prompts.set_message_id(message.prompt_id, sent.message_id)
                delivered.append(self.transport.sent[-1])
            await uow.commit()
        return delivered
