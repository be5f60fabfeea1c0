"""An invitation tells the places and hands of the moment it arrives, not of publishing.

Chats through the recording transport, delivered by the app's own delivery worker: a
coordinator publishes while one citizen's quiet hours hold her invitation; others answer
and take a task meanwhile; her invitation arrives in the morning saying what is left then.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.clock import FrozenClock
from storage.models import Event, EventTask, OutboxMessage
from tests.fakes import PLATFORM, Chat
from tests.test_events import (
    answer,
    create_event,
    everyone,
    invitation_for,
    onboard_with_quiet_hours,
)
from tests.test_pledges import open_tasks

NIGHT = datetime(2026, 6, 1, 21, 0, tzinfo=UTC)  # 23:00 in Copenhagen
MORNING = datetime(2026, 6, 2, 6, 0, tzinfo=UTC)  # 08:00, when her quiet hours end


async def deliver(chat: Chat) -> None:
    await chat.app.delivery_worker(PLATFORM).drain()


async def tasks_of(chat: Chat, event: Event) -> list[EventTask]:
    async with chat.app.uow() as uow:
        return list(await uow.events.tasks(event.id))


async def invitation_row(chat: Chat, user: str) -> OutboxMessage:
    async with chat.app.uow() as uow:
        rows = (
            (
                await uow.session.execute(
                    select(OutboxMessage).where(OutboxMessage.kind == "invitation")
                )
            )
            .scalars()
            .all()
        )
    return next(row for row in rows if row.user_id == user)


async def test_an_invitation_held_overnight_tells_the_places_and_hands_left_in_the_morning(
    backend_chat: Chat, clock: FrozenClock
) -> None:
    chat = backend_chat  # on SQLite and PostgreSQL: the worker's redraw writes the rows
    await everyone(chat, "anna", "bo")
    await onboard_with_quiet_hours(chat, "cy", "22-8")
    clock.set(NIGHT)
    event = await create_event(chat, capacity=4, guests=True, tasks="medbring suppe x2")
    await deliver(chat)
    first = await invitation_for(chat, "anna")
    assert "4 pladser tilbage" in first.text
    assert "medbring suppe (2 mangler)" in first.text
    held = await invitation_row(chat, "cy")
    assert held.status == "pending"  # held until her morning
    assert all(d.message.prompt_id != held.payload["prompt_id"] for d in chat.transport.to("cy"))
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")
    await answer(chat, "bo", "guest")  # bo brings a guest: three places taken
    (soup,) = await tasks_of(chat, event)
    listing = await open_tasks(chat, "anna")
    await chat.press("anna", listing.prompt_id or "", f"t{soup.id}")

    clock.set(MORNING)
    await deliver(chat)
    late = await invitation_for(chat, "cy")
    assert "1 plads tilbage" in late.text
    assert "4 pladser tilbage" not in late.text
    assert "medbring suppe (1 mangler)" in late.text
    # the row carries what was sent (a copy sent again would say the same), and its buttons
    # still answer her own stored question
    row = await invitation_row(chat, "cy")
    assert row.payload["text"] == late.text
    assert late.prompt_id == row.payload["prompt_id"]
    await chat.press("cy", late.prompt_id or "", "yes")
    _, echo = chat.transport.echoes[-1]
    assert echo.replacement is not None
    assert "Der er fuldt nu, og du har din plads." in echo.replacement.text


async def test_an_invitation_arriving_when_the_event_is_full_offers_the_waiting_list(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna")
    await onboard_with_quiet_hours(chat, "cy", "22-8")
    clock.set(NIGHT)
    await create_event(chat, capacity=1)
    await deliver(chat)
    assert "1 plads tilbage" in (await invitation_for(chat, "anna")).text
    await answer(chat, "anna", "yes")
    clock.set(MORNING)
    await deliver(chat)
    late = await invitation_for(chat, "cy")
    assert "Der er fuldt, men du kan komme på ventelisten." in late.text
    assert "plads tilbage" not in late.text


async def test_the_test_chats_stand_in_for_the_worker_draws_the_card_as_it_goes_too(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna")
    await onboard_with_quiet_hours(chat, "cy", "22-8")
    clock.set(NIGHT)
    await create_event(chat, capacity=3)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    clock.set(MORNING)
    await chat.deliver_outbox()
    assert "2 pladser tilbage" in (await invitation_for(chat, "cy")).text
