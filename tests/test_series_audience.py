"""A series' later meetings are invited with the audience as it is when their invitations
go out, read as a chat: someone who chose the topic since is invited, someone who left it
or was forgotten is not, and the coordinator sees the meeting's invitations go out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.clock import FrozenClock
from storage.models import Batch, Event
from tests.fakes import Chat
from tests.helpers import person_of
from tests.test_copy_events import copy_of, events_after
from tests.test_events import create_event, everyone

WEEK = timedelta(weeks=1)


async def choose_first_interest(chat: Chat, user: str) -> None:
    """Tapping the first interest chooses it, or lets it go when it was chosen."""
    await chat.say(user, "/settings interests")
    await chat.tap(user, 1)
    await chat.tap(user, "done")


async def event_for_the_first_interest(chat: Chat, topic_id: int) -> Event:
    await chat.say("kim", "/newevent")
    await chat.say("kim", "Fuglekig")
    await chat.say("kim", "lørdag kl 7-9")
    await chat.say("kim", "Engen")
    await chat.tap("kim", "skip")
    await chat.tap("kim", "usual")
    await chat.tap("kim", "topics")
    await chat.tap("kim", f"t{topic_id}")
    await chat.tap("kim", "done")
    await chat.tap("kim", "publish")
    async with chat.app.uow() as uow:
        event = (await uow.session.execute(select(Event).order_by(Event.id.desc()))).scalar()
    assert event is not None
    return event


def invited(delivered: list[object]) -> list[str]:
    return sorted(d.ref.user_id for d in delivered if d.message.choices and d.ref.user_id != "kim")


async def test_later_meetings_are_invited_with_the_audience_as_it_is_then(
    backend_chat: Chat, clock: FrozenClock
) -> None:
    chat = backend_chat
    await chat.onboard("kim", name="Kim")
    for user in ("anna", "bo", "dora"):
        await chat.onboard(user, name=user.capitalize())
        await choose_first_interest(chat, user)
    anna = await person_of(chat, "anna")
    assert anna is not None
    async with chat.app.uow() as uow:
        (topic_id,) = await uow.topics.chosen_ids(anna.id)
    source = await event_for_the_first_interest(chat, topic_id)
    assert invited(await chat.deliver_outbox()) == ["anna", "bo", "dora"]

    await copy_of(chat, source, "13/6 kl 7-9")
    await chat.tap("kim", "weekly")
    await chat.say("kim", "3")
    await chat.tap("kim", "publish")
    published = chat.last_text("kim")
    assert "Invitationerne bliver sendt lørdag 6. juni" in published
    meetings = await events_after(chat, source)
    assert [m.invite_due_at for m in meetings] == [m.starts_at - WEEK for m in meetings]
    assert invited(await chat.deliver_outbox()) == []  # nothing fixed, nothing sent yet

    # the audience changes before the first meeting's invitations are due
    await choose_first_interest(chat, "bo")  # bo lets the topic go
    await chat.onboard("carl", name="Carl")
    await choose_first_interest(chat, "carl")  # carl chooses it
    await chat.say("dora", "/glem")
    await chat.tap("dora", "delete")
    assert await person_of(chat, "dora") is None

    clock.set(meetings[0].starts_at - WEEK)
    counts = await chat.app.event_jobs.run_once()
    assert counts["series_invited"] == 2
    delivered = await chat.deliver_outbox()
    assert invited(delivered) == ["anna", "carl"]
    assert all("13. juni" in d.message.text for d in delivered if d.message.choices)
    kim = await person_of(chat, "kim")
    async with chat.app.uow() as uow:
        batch = await uow.session.get(Batch, f"bc:{meetings[0].id}")
        assert batch is not None
        assert batch.total == 2
        assert kim is not None
        assert batch.reporter_person_id == kim.id
        again = await uow.events.get(meetings[0].id)
        assert again is not None
        assert again.invite_due_at is None
    # once: the next run invites nobody twice, and the later meetings still wait
    assert (await chat.app.event_jobs.run_once()).get("series_invited", 0) == 0
    assert invited(await chat.deliver_outbox()) == []

    # the second meeting's time comes: bo has come back to the topic
    await choose_first_interest(chat, "bo")
    clock.set(meetings[1].starts_at - WEEK + timedelta(hours=1))
    assert (await chat.app.event_jobs.run_once())["series_invited"] == 3
    assert invited(await chat.deliver_outbox()) == ["anna", "bo", "carl"]


async def test_a_cancelled_meeting_is_never_invited(backend_chat: Chat, clock: FrozenClock) -> None:
    chat = backend_chat
    await everyone(chat, "anna")
    source = await create_event(chat)
    await chat.deliver_outbox()
    await copy_of(chat, source)
    await chat.tap("kim", "weekly")
    await chat.say("kim", "2")
    await chat.tap("kim", "publish")
    first, _second = await events_after(chat, source)
    await chat.say("kim", "/aflys")
    await chat.tap("kim", f"e{first.id}")
    await chat.tap("kim", "skip")
    await chat.tap("kim", "yes")
    clock.set(datetime(2026, 6, 6, 9, 0, tzinfo=UTC))
    assert (await chat.app.event_jobs.run_once()).get("series_invited", 0) == 0
    assert invited(await chat.deliver_outbox()) == []


async def test_a_meeting_moved_before_its_invitations_moves_them_along(
    backend_chat: Chat, clock: FrozenClock
) -> None:
    chat = backend_chat
    await everyone(chat, "anna")
    source = await create_event(chat)
    await chat.deliver_outbox()
    await copy_of(chat, source)
    await chat.tap("kim", "weekly")
    await chat.say("kim", "2")
    await chat.tap("kim", "publish")
    first, _second = await events_after(chat, source)
    await chat.say("kim", "/retarrangement")
    await chat.tap("kim", f"e{first.id}")
    await chat.tap("kim", "time")
    await chat.say("kim", "14/6 kl 10-13")  # a day later
    await chat.tap("kim", "yes")
    async with chat.app.uow() as uow:
        moved = await uow.events.get(first.id)
        assert moved is not None
        assert moved.invite_due_at == moved.starts_at - WEEK
    clock.set(first.starts_at - WEEK)  # the old time: not yet
    assert (await chat.app.event_jobs.run_once()).get("series_invited", 0) == 0
    clock.set(first.starts_at - WEEK + timedelta(days=1))
    assert (await chat.app.event_jobs.run_once())["series_invited"] == 1
    [invited_now] = [d for d in await chat.deliver_outbox() if d.ref.user_id == "anna"]
    assert "14. juni" in invited_now.message.text
