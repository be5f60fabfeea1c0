"""Sending a broadcast again to the people who may not have got it, read as chats.

The platform is `FaultTransport` with scripted outcomes (a request that timed out after it
was sent: it may or may not have arrived), behind the chats' recording transport; the
outbox worker runs for real (`drain_outbox`), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import BotApp
from bot.demo import seed_starter_topics
from bot.i18n import catalogs
from bot.settings import Settings
from bot.timing import ClockSleeper
from bot.transports.base import AmbiguousDelivery
from conversations.core.messages import ChatRef, ChoicePick, Inbound, OutMessage, Sent
from conversations.core.services import Services
from conversations.events.rules.changes import EventChange, apply_change, cancel_event
from conversations.events.rules.invitations import batch_invitations
from conversations.events.rules.resending import offer_send_again
from storage.clock import FrozenClock
from storage.models import Event, OutboxMessage, OutboxStatus, RsvpAnswer
from tests.conftest import Backend
from tests.fakes import PLATFORM, Chat, Delivered, RecordingTransport
from tests.fault_transport import UNKNOWN_ARRIVED, UNKNOWN_LOST, FaultTransport
from tests.helpers import known_person, texts
from tests.test_events import create_event

SEND_AGAIN_DA = "Send den igen til dem"


@dataclass
class PlatformChats(RecordingTransport):
    """The chats' recording transport in front of a platform with scripted faults: what
    the platform refuses or loses never reaches the chat."""

    platform_api: FaultTransport = field(default_factory=lambda: FaultTransport(FrozenClock()))

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        before = len(self.platform_api.messages[ref.user_id])
        try:
            sent = await self.platform_api.send(ref, message)
        except AmbiguousDelivery:
            if len(self.platform_api.messages[ref.user_id]) > before:  # it did arrive
                self.sent.append(Delivered(ref, message, f"unheard-{before}"))
            raise
        self.sent.append(Delivered(ref, message, str(sent.message_id)))
        return sent


def settings_for(url: str) -> Settings:
    return Settings(
        database_url=url,
        admins=["fake:admin"],
        coordinators=["fake:kim", "fake:lis"],
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def platform(clock: FrozenClock) -> FaultTransport:
    # limits are the worker's business here (tests/test_broadcast_delivery.py checks them)
    return FaultTransport(
        clock, platform=PLATFORM, per_second=None, private_per_second=None, group_per_minute=None
    )


@pytest.fixture
async def chat(
    backend: Backend, clock: FrozenClock, platform: FaultTransport
) -> AsyncIterator[Chat]:
    transport = PlatformChats(platform_api=platform)
    bot = BotApp(settings_for(backend.url), [transport], clock=clock, sleeper=ClockSleeper(clock))
    await bot.migrate()
    await seed_starter_topics(bot.uow)
    try:
        yield Chat(bot, transport)
    finally:
        await bot.close()


async def people_and_event(chat: Chat, platform: FaultTransport) -> Event:
    """Kim invites Anna, Bo, Cy and Dan; Anna's and Bo's invitations end in doubt (Bo's
    did arrive), Dan has blocked the bot, Cy gets it."""
    await chat.onboard("kim", name="Kim")
    for user, name in (("anna", "Anna"), ("bo", "Bo"), ("cy", "Cy"), ("dan", "Dan")):
        await chat.onboard(user, name=name)
    platform.faults.scripted = {"anna": [UNKNOWN_LOST], "bo": [UNKNOWN_ARRIVED]}
    platform.faults.blocked_users = frozenset({"dan"})
    event = await create_event(chat)
    platform.attempts.clear()  # from here on: the broadcast's
    clock = chat.app.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(timedelta(seconds=5))  # the broadcast goes out after the reply to Kim
    await chat.app.drain_outbox()
    return event


def invitations_arrived(platform: FaultTransport) -> dict[str, int]:
    """How many invitations reached each person (an invitation begins with 🌿 and its title)."""
    counted = {
        user: sum(1 for m in messages if m.text.startswith("🌿"))
        for user, messages in platform.messages.items()
    }
    return {user: n for user, n in counted.items() if n}


async def progress_message(chat: Chat, batch_id: str) -> OutMessage:
    """The coordinator's progress message for a broadcast, as it reads now (after edits)."""
    async with chat.app.uow() as uow:
        batch = await uow.batches.get(batch_id)
        assert batch is not None
        assert batch.progress_message_id is not None
        message_id = batch.progress_message_id
    transport = chat.transport
    edits = [m for _ref, edited, m in transport.edits if edited == message_id]
    if edits:
        return edits[-1]
    return next(d.message for d in transport.sent if d.message_id == message_id)


async def tap_send_again(chat: Chat, user: str, summary: OutMessage) -> list[OutMessage]:
    assert summary.prompt_id is not None
    [choice] = summary.choices
    return await chat.press(user, summary.prompt_id, choice.id)


async def copies(chat: Chat) -> list[OutboxMessage]:
    async with chat.app.uow() as uow:
        result = await uow.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like("again:%"))
            .order_by(OutboxMessage.id)
        )
        return list(result.scalars().all())


async def outbox_size(chat: Chat) -> int:
    """Messages enqueued for people, leaving out the replies in the conversations."""
    async with chat.app.uow() as uow:
        result = await uow.session.execute(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind != "reply")
        )
        return int(result.scalar_one())


async def test_the_summary_names_who_may_not_have_got_it_and_who_blocked_the_bot(
    chat: Chat, platform: FaultTransport
) -> None:
    event = await people_and_event(chat, platform)

    summary = await progress_message(chat, batch_invitations(event.id))
    assert "nåede ud til 1 af 4" in summary.text
    assert "❔ Har måske ikke fået den: Anna, Bo" in summary.text
    assert "🚫 Har blokeret botten, så beskeden ikke kan nå frem: Dan" in summary.text
    assert [c.label for c in summary.choices] == [SEND_AGAIN_DA]
    assert summary.prompt_id is not None
    async with chat.app.uow() as uow:
        prompt = await uow.prompts.get(summary.prompt_id)
        assert prompt is not None
        assert (prompt.user_id, prompt.bound) == ("kim", False)
        assert prompt.sent_at is not None  # shown, so typed words count too
        assert prompt.context == {"batch": batch_invitations(event.id)}


async def test_the_button_sends_it_again_to_exactly_those_and_their_answers_count(
    chat: Chat, platform: FaultTransport
) -> None:
    event = await people_and_event(chat, platform)
    assert invitations_arrived(platform) == {"bo": 1, "cy": 1}
    batch = batch_invitations(event.id)
    originals = {row.user_id: row for row in await rows_of(chat, batch)}

    replies = await tap_send_again(chat, "kim", await progress_message(chat, batch))

    assert texts(replies) == "På vej igen til 2 personer."
    again = await copies(chat)
    assert {row.user_id for row in again} == {"anna", "bo"}
    for row in again:
        original = originals[row.user_id]
        assert row.dedupe_key == f"again:{original.id}"
        assert row.batch == f"{batch}:again"
        assert row.payload["text"] == original.payload["text"]
        assert row.payload["prompt_id"] != original.payload["prompt_id"]
        assert row.expires_at == original.expires_at
    await chat.app.drain_outbox()
    assert invitations_arrived(platform) == {"anna": 1, "bo": 2, "cy": 1}
    assert platform.attempts["dan"] == 1  # the invitation, and not again
    # the copy's buttons answer the invitation, for that person
    replies = await chat.tap("anna", "yes")
    assert "Dejligt, du er med!" in texts(replies)
    anna = await known_person(chat, "anna")
    async with chat.app.uow() as uow:
        rsvp = await uow.events.rsvp(event.id, anna.id)
        assert rsvp is not None
        assert rsvp.answer == RsvpAnswer.YES
        again_batch = await uow.batches.get(f"{batch}:again")
        assert again_batch is not None
        assert again_batch.finished_at is not None
    # the copies have a progress message of their own
    assert "nåede ud til 2 af 2" in (await progress_message(chat, f"{batch}:again")).text


async def rows_of(chat: Chat, batch: str) -> list[OutboxMessage]:
    async with chat.app.uow() as uow:
        result = await uow.session.execute(
            select(OutboxMessage).where(OutboxMessage.batch == batch).order_by(OutboxMessage.id)
        )
        return list(result.scalars().all())


async def test_a_second_tap_an_old_summary_or_typed_words_add_nothing(
    chat: Chat, platform: FaultTransport
) -> None:
    event = await people_and_event(chat, platform)
    summary = await progress_message(chat, batch_invitations(event.id))
    replies = await chat.say("kim", "send igen")  # typed, not tapped
    assert texts(replies) == "På vej igen til 2 personer."
    size = await outbox_size(chat)

    assert texts(await tap_send_again(chat, "kim", summary)) == "Den er allerede sendt igen."
    assert texts(await chat.say("kim", "ja")) == "Den er allerede sendt igen."
    await chat.app.drain_outbox()
    assert texts(await tap_send_again(chat, "kim", summary)) == "Den er allerede sendt igen."

    assert await outbox_size(chat) == size
    assert invitations_arrived(platform) == {"anna": 1, "bo": 2, "cy": 1}


async def test_nobody_else_can_send_it_again(chat: Chat, platform: FaultTransport) -> None:
    event = await people_and_event(chat, platform)
    batch = batch_invitations(event.id)
    summary = await progress_message(chat, batch)
    await chat.onboard("lis", name="Lis")  # another coordinator
    await chat.onboard("admin", name="Ada")
    size = await outbox_size(chat)

    # Kim's button pressed from another chat: the stored question is not theirs
    assert summary.prompt_id is not None
    replies = await chat.press("cy", summary.prompt_id, "again")
    assert "Det valg er ikke længere muligt" in texts(replies)
    # a question of their own about Kim's broadcast (as if one had been sent to them)
    for user in ("lis", "cy"):
        offered = await offer_for(chat, user, batch)
        replies = await chat.press(user, offered, "again")
        assert texts(replies) == (
            "Beklager, kun den koordinator, der sendte beskeden, kan sende den igen."
        )
    assert await outbox_size(chat) == size
    # an admin may
    replies = await chat.press("admin", await offer_for(chat, "admin", batch), "again")
    assert texts(replies) == "På vej igen til 2 personer."


async def offer_for(chat: Chat, user: str, batch: str) -> str:
    person = await known_person(chat, user)
    async with chat.app.uow() as uow:
        offered = await offer_send_again(
            uow, catalogs(), "da", chat.ref(user), person.id, batch, "Sendt til 4"
        )
        await uow.commit()
    assert offered.prompt_id is not None
    return offered.prompt_id


async def test_expired_invitations_are_not_sent_again_and_the_coordinator_is_told(
    chat: Chat, platform: FaultTransport, clock: FrozenClock
) -> None:
    event = await people_and_event(chat, platform)
    summary = await progress_message(chat, batch_invitations(event.id))
    size = await outbox_size(chat)
    clock.advance(event.starts_at - clock.now() + timedelta(minutes=1))

    replies = await tap_send_again(chat, "kim", summary)

    assert texts(replies) == (
        "Det er for sent for 2 personer: arrangementet er begyndt eller ikke længere åbent."
    )
    assert await outbox_size(chat) == size


async def test_copies_of_a_cancelled_event_are_called_off(
    chat: Chat, platform: FaultTransport
) -> None:
    event = await people_and_event(chat, platform)
    summary = await progress_message(chat, batch_invitations(event.id))
    await tap_send_again(chat, "kim", summary)
    async with chat.app.uow() as uow:
        stored = await uow.events.get(event.id)
        assert stored is not None
        await cancel_event(Services(uow, catalogs(), "Europe/Copenhagen", uow.clock), stored)
        await uow.commit()
    await chat.app.drain_outbox()

    assert {row.status for row in await copies(chat)} == {OutboxStatus.CANCELLED}
    assert "anna" not in invitations_arrived(platform)
    assert texts(await tap_send_again(chat, "kim", summary)) == "Den er allerede sendt igen."


async def test_copies_on_their_way_follow_a_change_of_place(
    chat: Chat, platform: FaultTransport
) -> None:
    event = await people_and_event(chat, platform)
    await tap_send_again(chat, "kim", await progress_message(chat, batch_invitations(event.id)))
    async with chat.app.uow() as uow:
        stored = await uow.events.get(event.id)
        assert stored is not None
        services = Services(uow, catalogs(), "Europe/Copenhagen", uow.clock)
        await apply_change(services, stored, EventChange(place="Skåde Skov"))
        await uow.commit()
    await chat.app.drain_outbox()

    [again] = [m for m in platform.messages["anna"] if m.text.startswith("🌿")]
    assert "📍 Skåde Skov" in again.text


async def test_someone_who_answered_meanwhile_is_not_sent_it_again(
    chat: Chat, platform: FaultTransport
) -> None:
    event = await people_and_event(chat, platform)
    summary = await progress_message(chat, batch_invitations(event.id))
    await chat.tap("bo", "no")  # Bo's did arrive, and Bo answered it

    replies = await tap_send_again(chat, "kim", summary)

    assert texts(replies) == (
        "På vej igen til 1 person.\n1 person har allerede svaret, så den nåede frem."
    )
    assert [row.user_id for row in await copies(chat)] == ["anna"]


async def test_a_person_forgotten_meanwhile_is_skipped(
    chat: Chat, platform: FaultTransport
) -> None:
    event = await people_and_event(chat, platform)
    summary = await progress_message(chat, batch_invitations(event.id))
    await chat.say("anna", "/glem")
    await chat.say("anna", "slet")

    assert texts(await tap_send_again(chat, "kim", summary)) == "På vej igen til 1 person."
    assert [row.user_id for row in await copies(chat)] == ["bo"]

    await chat.say("bo", "/glem")
    await chat.say("bo", "slet")
    assert texts(await tap_send_again(chat, "kim", summary)) == (
        "Der er ingen tilbage at sende den til igen."
    )


async def test_two_processes_tapping_at_once_send_it_once(
    chat: Chat, platform: FaultTransport, backend: Backend, clock: FrozenClock
) -> None:
    event = await people_and_event(chat, platform)
    summary = await progress_message(chat, batch_invitations(event.id))
    assert summary.prompt_id is not None
    other_chats = RecordingTransport()
    other = BotApp(settings_for(backend.url), [other_chats], clock=clock)
    ref = chat.ref("kim")

    def tap() -> Inbound:
        assert summary.prompt_id is not None
        return Inbound(ref, uuid.uuid4().hex, choice=ChoicePick(summary.prompt_id, "again"))

    try:
        before = len(chat.transport.sent)
        await asyncio.gather(chat.app.dispatch(tap()), other.dispatch(tap()))
    finally:
        await other.close()

    replies = [d.message.text for d in chat.transport.sent[before:] if d.ref == ref]
    replies += [d.message.text for d in other_chats.sent]
    assert sorted(replies) == ["Den er allerede sendt igen.", "På vej igen til 2 personer."]
    assert len(await copies(chat)) == 2
