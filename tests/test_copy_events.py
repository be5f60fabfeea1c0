"""Copying an event and making a series, as chats: the same event again with only a new
time, a weekly walk invited one meeting at a time, changing something before publishing,
and who may copy what."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.transports.matrix import KEYCAPS, render_text
from conversations.events.rules.series import Repeat, invite_at, meetings
from storage.models import Event, OutboxMessage
from tests.fakes import Chat
from tests.test_events import SATURDAY_10, answer, create_event, everyone, invitation_for
from tests.test_onboarding import person_of

WEEK = timedelta(weeks=1)


async def events_after(chat: Chat, event: Event) -> list[Event]:
    async with chat.app.uow() as uow:
        rows = await uow.session.execute(
            select(Event).where(Event.id > event.id).order_by(Event.starts_at)
        )
        return list(rows.scalars())


async def copy_of(chat: Chat, event: Event, when: str = "13/6 kl 10-13") -> None:
    await chat.say("kim", "/kopier")
    await chat.tap("kim", f"e{event.id}")
    await chat.say("kim", when)


async def test_a_copy_asks_only_the_new_time_and_keeps_everything_else(chat: Chat) -> None:
    await everyone(chat, "anna")
    source = await create_event(chat, capacity=12, guests=True, tasks="medbring suppe x3")
    await chat.deliver_outbox()
    await copy_of(chat, source)
    asked = chat.last_question("kim")
    assert asked.text == "Kun denne ene gang, eller igen og igen?"
    assert [c.label for c in asked.choices][:2] == ["Kun denne gang", "Hver uge"]
    # a numbered list (Matrix, the console) must not show the number twice ("1. 1️⃣ ...")
    assert "1. 1️⃣" not in render_text(asked)
    assert not any(c.emoji in KEYCAPS for c in asked.choices)
    await chat.tap("kim", "once")
    preview = chat.last_question("kim")
    assert "Skovtur med suppe" in preview.text
    assert "medbring suppe ×3" in preview.text
    assert [c.id for c in preview.choices] == ["publish", "change", "discard"]
    await chat.tap("kim", "publish")
    [copy] = await events_after(chat, source)
    assert copy.starts_at == SATURDAY_10 + WEEK
    assert copy.ends_at == SATURDAY_10 + WEEK + timedelta(hours=3)
    assert (copy.title, copy.invitation, copy.place) == (
        source.title,
        source.invitation,
        source.place,
    )
    assert (copy.capacity, copy.guests_allowed) == (12, True)
    assert copy.journey_steps == source.journey_steps
    assert copy.reminder_offsets == source.reminder_offsets
    assert copy.audience == source.audience
    assert copy.series is not None
    async with chat.app.uow() as uow:
        assert [(t.title, t.hands) for t in await uow.events.tasks(copy.id)] == [
            ("medbring suppe", 3)
        ]
        refreshed = await uow.events.get(source.id)
        assert refreshed is not None
        assert refreshed.series == copy.series
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered if d.message.choices] == ["anna"]
    invitation = await invitation_for(chat, "anna")
    assert "13. juni" in invitation.text


async def test_a_weekly_series_invites_one_meeting_at_a_time(chat: Chat) -> None:
    await everyone(chat, "anna")
    source = await create_event(chat)
    await chat.deliver_outbox()
    await copy_of(chat, source)
    await chat.tap("kim", "weekly")
    replies = await chat.say("kim", "hundrede")  # no number, no date: asked again
    assert "sidste dato" in replies[0].text
    replies = await chat.say("kim", "40")
    assert "2 til 26" in replies[0].text
    await chat.say("kim", "4")
    preview = chat.last_question("kim")
    assert "4 gange" in preview.text
    assert "Sendes: lørdag 6. juni 2026 kl. 10:00" in preview.text  # a week before the first
    assert "sendes 7 dage før" in preview.text
    await chat.tap("kim", "publish")
    series = await events_after(chat, source)
    assert [e.starts_at for e in series] == [SATURDAY_10 + n * WEEK for n in range(1, 5)]
    assert len({e.series for e in series}) == 1
    assert series[0].series is not None
    assert [e.send_at for e in series] == [e.starts_at - WEEK for e in series]
    # nothing goes out yet: the first meeting's invitation waits until a week before it
    assert await chat.deliver_outbox() == []
    assert (await chat.app.event_jobs.run_once()).get("series_invited", 0) == 0
    chat.app.clock.set(datetime(2026, 6, 6, 9, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    assert (await chat.app.event_jobs.run_once())["series_invited"] == 1
    delivered = [d for d in await chat.deliver_outbox() if d.ref.user_id == "anna"]
    assert len(delivered) == 1
    assert "13. juni" in delivered[0].message.text
    async with chat.app.uow() as uow:
        anna = await person_of(chat, "anna")
        waiting = (
            (
                await uow.session.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.person_id == anna.id, OutboxMessage.status == "pending"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert waiting == []  # the later meetings' invitations are written when they are due


async def test_a_series_until_a_date(chat: Chat) -> None:
    await everyone(chat)
    source = await create_event(chat)
    await copy_of(chat, source)
    await chat.tap("kim", "fortnightly")
    await chat.say("kim", "11/7")
    await chat.tap("kim", "publish")
    series = await events_after(chat, source)
    assert [e.starts_at for e in series] == [
        SATURDAY_10 + WEEK,
        SATURDAY_10 + 3 * WEEK,
        SATURDAY_10 + 5 * WEEK,
    ]


async def test_change_something_before_publishing_comes_back_to_the_preview(chat: Chat) -> None:
    await everyone(chat)
    source = await create_event(chat, tasks="tænde bål")
    await copy_of(chat, source)
    await chat.tap("kim", "once")
    await chat.tap("kim", "change")
    await chat.tap("kim", "title")
    await chat.say("kim", "Skovtur med bål")
    assert "Skovtur med bål" in chat.last_question("kim").text
    await chat.tap("kim", "change")
    await chat.tap("kim", "place")
    await chat.say("kim", "Stranden")
    assert "Stranden" in chat.last_question("kim").text  # the pin comes with the place now
    await chat.tap("kim", "change")
    await chat.tap("kim", "tasks")
    await chat.tap("kim", "afresh")
    await chat.say("kim", "medbring kage x2")
    await chat.tap("kim", "done")
    preview = chat.last_question("kim")
    assert "Stranden" in preview.text
    assert "medbring kage ×2" in preview.text
    assert "tænde bål" not in preview.text
    await chat.tap("kim", "publish")
    [copy] = await events_after(chat, source)
    assert (copy.title, copy.place) == ("Skovtur med bål", "Stranden")


async def test_only_your_own_events_can_be_copied(chat: Chat) -> None:
    await everyone(chat, "anna", "lea")
    source = await create_event(chat)
    replies = await chat.say("anna", "/copy")
    assert "coordinator" in replies[-1].text.lower() or "koordinator" in replies[-1].text.lower()
    lea = await person_of(chat, "lea")
    async with chat.app.uow() as uow:
        stored = await uow.persons.get(lea.id)
        assert stored is not None
        await uow.persons.set_role(stored, "coordinator")
        await uow.commit()
    replies = await chat.say("lea", "/kopier")
    assert not replies[-1].choices  # none of her own
    # with one of her own she is asked; a forged tap on kim's event copies nothing
    own = await create_event(chat, coordinator="lea")
    await chat.say("lea", "/kopier")
    asked = chat.last_question("lea")
    assert [c.id for c in asked.choices] == [f"e{own.id}"]
    assert asked.prompt_id is not None
    await chat.press("lea", asked.prompt_id, f"e{source.id}")
    await chat.say("lea", "13/6 kl 10-13")
    assert [e.id for e in await events_after(chat, source)] == [own.id]


def test_meetings_keep_the_local_time_across_summer_time_and_month_ends() -> None:
    # 10:00 in Copenhagen on 18 October (summer time) and a week later (winter time)
    start = datetime(2026, 10, 18, 8, 0, tzinfo=UTC)
    weekly = meetings(start, None, Repeat.WEEKLY, "Europe/Copenhagen", times=2)
    assert [m.start for m in weekly] == [start, datetime(2026, 10, 25, 9, 0, tzinfo=UTC)]
    end_of_month = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
    monthly = meetings(end_of_month, None, Repeat.MONTHLY, "Europe/Copenhagen", times=3)
    assert [m.start.date() for m in monthly] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]
    capped = meetings(start, None, Repeat.WEEKLY, "Europe/Copenhagen", until=date(2030, 1, 1))
    assert len(capped) == 26
    assert invite_at(start, start - timedelta(days=2), timedelta(days=7)) is None


async def test_the_report_compares_the_meetings_of_a_series(chat: Chat) -> None:
    await everyone(chat, "anna")
    source = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await copy_of(chat, source)
    await chat.tap("kim", "weekly")
    await chat.say("kim", "2")
    await chat.tap("kim", "publish")
    chat.app.clock.set(SATURDAY_10 + 2 * WEEK + timedelta(hours=4))  # type: ignore[attr-defined]
    await chat.say("kim", "/rapport")
    replies = await chat.tap("kim", f"e{source.id}")
    text = "\n".join(m.text for m in replies)
    assert "Serien indtil nu:" in text
    assert "lørdag 6. juni 2026 kl. 10:00: 1 sagde ja, 0 kom" in text
    assert "lørdag 20. juni 2026 kl. 10:00: 0 sagde ja, 0 kom" in text
