"""Checking in, as chats: "I'm here" in its window only, the event's own check-in QR code,
the coordinator ticking names, the report's funnel counting check-ins, and journey
feedback not asking "did you come?" of those checked in."""

from __future__ import annotations

from datetime import timedelta

from storage.clock import FrozenClock
from storage.models import Event
from tests.fakes import Chat
from tests.test_events import SATURDAY_10, answer, create_event, everyone
from tests.test_feedback import after_event, ids
from tests.test_onboarding import person_of


async def checked_in(chat: Chat, event: Event) -> set[int]:
    async with chat.app.uow() as uow:
        return await uow.check_ins.checked_in(event.id)


async def test_im_here_works_from_an_hour_before_the_start_to_the_end(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    replies = await chat.say("anna", "/her")  # days before: not yet
    assert "fra en time før start, til det slutter" in replies[-1].text
    clock.set(SATURDAY_10 - timedelta(minutes=30))
    replies = await chat.say("anna", "/her")
    assert "Velkommen til Skovtur med suppe" in replies[-1].text
    replies = await chat.say("anna", "/checkin")
    assert "allerede tjekket ind" in replies[-1].text
    # bo never answered: he is not expected, so there is nothing for him to tap
    replies = await chat.say("bo", "/her")
    assert "ikke noget at tjekke ind" in replies[-1].text
    anna = await person_of(chat, "anna")
    assert await checked_in(chat, event) == {anna.id}
    clock.set(SATURDAY_10 + timedelta(hours=3, minutes=1))  # it ended at 13:00
    await chat.say("anna", "/her")
    assert "ikke noget at tjekke ind" in chat.last_text("anna")


async def test_the_check_in_qr_is_its_own_code_and_checks_in_whoever_scans_it(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "bo")
    event = await create_event(chat)
    await chat.say("kim", "/deltagere")
    await chat.tap("kim", f"e{event.id}")
    replies = await chat.tap("kim", "checkinqr")
    assert "/start in_" in replies[-1].text
    async with chat.app.uow() as uow:
        stored = await uow.events.get(event.id)
        assert stored is not None
        assert stored.check_in_code is not None
        code = stored.check_in_code
    assert code != event.link_code
    replies = await chat.say("bo", f"/start in_{code}")  # too early
    assert "ikke noget at tjekke ind" in replies[-1].text
    clock.set(SATURDAY_10)
    replies = await chat.say("bo", "/start in_nonsense")
    assert "ikke noget at tjekke ind" in replies[-1].text
    replies = await chat.say("bo", f"/start in_{code}")
    assert "Velkommen" in replies[-1].text
    bo = await person_of(chat, "bo")
    assert await checked_in(chat, event) == {bo.id}


async def test_coordinator_ticks_names_and_the_report_counts_check_ins(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")
    await chat.say("kim", "/deltagere")
    await chat.tap("kim", f"e{event.id}")
    replies = await chat.tap("kim", "tick")  # days before: not yet
    assert "en time før start" in replies[0].text
    clock.set(SATURDAY_10 + timedelta(minutes=5))
    await chat.say("kim", "/deltagere")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", "tick")
    anna, bo = await person_of(chat, "anna"), await person_of(chat, "bo")
    assert [c.label for c in chat.last_question("kim").choices][:2] == ["⬜ Anna", "⬜ Bo"]
    await chat.tap("kim", f"p{anna.id}")
    await chat.tap("kim", f"p{bo.id}")
    await chat.tap("kim", f"p{bo.id}")  # a slip, taken back
    assert [c.label for c in chat.last_question("kim").choices][:2] == [
        "✅ Anna (tjekket ind)",
        "⬜ Bo",
    ]
    await chat.tap("kim", "done")
    assert await checked_in(chat, event) == {anna.id}
    # feedback: anna checked in, so she goes straight to the first step; bo is asked
    await after_event(chat, clock, event)
    await chat.tap("anna", "start")
    assert "came" not in ids(chat.last_question("anna"))
    await chat.tap("bo", "start")
    assert "came" in ids(chat.last_question("bo"))
    await chat.say("kim", "/rapport")
    replies = await chat.tap("kim", f"e{event.id}")
    assert "Kom (tjekket ind): 1" in replies[0].text
