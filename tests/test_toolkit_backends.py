"""The coordinator's toolkit on both database backends (SQLite and PostgreSQL): the new
queries (co-organisers, check-ins, invitations to edit, tasks to ask again) in one chat."""

from __future__ import annotations

from datetime import timedelta

from storage.clock import FrozenClock
from tests.fakes import Chat
from tests.test_co_organisers import add_helper
from tests.test_events import SATURDAY_10, answer, create_event, everyone
from tests.test_onboarding import person_of


async def test_the_toolkit_on_each_backend(backend_chat: Chat, clock: FrozenClock) -> None:
    chat = backend_chat
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, tasks="tænde bål x2")
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await add_helper(chat, event.id, "anna")
    anna = await person_of(chat, "anna")
    async with chat.app.uow() as uow:
        assert [e.id for e in await uow.organisers.events_of(anna.id)] == [event.id]
    # a new place: bo's unanswered invitation is edited
    await chat.say("kim", "/retarrangement")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", "place")
    await chat.say("kim", "Stranden")
    await chat.tap("kim", "yes")
    await chat.deliver_outbox()
    assert [e[0].user_id for e in chat.transport.edits if "Stranden" in e[2].text] == ["bo"]
    # missing hands, asked again once within the lead
    clock.set(SATURDAY_10 - timedelta(hours=47))
    counts = await chat.app.event_jobs.run_once()
    assert counts["hands_asked"] == 1
    due = await chat.app.event_jobs.next_due_at(after=clock.now())
    assert due is None or due > clock.now()
    # checking in
    clock.set(SATURDAY_10)
    replies = await chat.say("anna", "/checkin")
    assert "Velkommen" in replies[-1].text
    async with chat.app.uow() as uow:
        assert await uow.check_ins.checked_in(event.id) == {anna.id}
