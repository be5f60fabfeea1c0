"""Events as chats: create, invite, answer, wait, remind, change, cancel, and who may do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import scheduler
from conversations.core.messages import OutMessage
from conversations.events.rules.attachments import qr_attachment
from storage.clock import FrozenClock
from storage.models import (
    Event,
    OutboxMessage,
    OutboxStatus,
    Reminder,
    ReminderStatus,
    Rsvp,
    RsvpAnswer,
)
from tests.fakes import Chat
from tests.test_onboarding import person_of

# The frozen clock starts on Monday 1 June 2026, 10:00 in Copenhagen (08:00 UTC).
SATURDAY_10 = datetime(2026, 6, 6, 8, 0, tzinfo=UTC)


async def create_event(
    chat: Chat,
    *,
    capacity: int | None = None,
    guests: bool = False,
    audience: str = "everybody",
    when: str = "lørdag kl 10-13",
    tasks: str | None = None,
    reminders: str = "default",
    coordinator: str = "kim",
) -> Event:
    await chat.say(coordinator, "/newevent")
    await chat.say(coordinator, "Skovtur med suppe\nVi går en tur i skoven og spiser suppe sammen.")
    await chat.say(coordinator, when)
    await chat.say(coordinator, "Hald Ege")
    if capacity is None:
        await chat.tap(coordinator, "skip")
    else:
        await chat.say(coordinator, str(capacity))
    if guests or tasks or reminders != "default":
        await chat.tap(coordinator, "choose")
        await chat.tap(coordinator, "yes" if guests else "no")
        await chat.tap(coordinator, "keep")
        if tasks:
            await chat.say(coordinator, tasks)
        await chat.tap(coordinator, "done")
        await chat.tap(coordinator, reminders)
        await chat.tap(coordinator, "done")  # nothing said about access
        await chat.tap(coordinator, "skip")  # nor about getting there
    else:
        await chat.tap(coordinator, "usual")
    await chat.tap(coordinator, audience)
    await chat.tap(coordinator, "publish")
    async with chat.app.uow() as uow:
        event = (
            (await uow.session.execute(select(Event).order_by(Event.id.desc()))).scalars().first()
        )
    assert event is not None
    return event


async def invitation_for(chat: Chat, user: str) -> OutMessage:
    for delivered in reversed(chat.transport.to(user)):
        if any(c.id == "yes" for c in delivered.message.choices):
            return delivered.message
    raise AssertionError(f"{user} got no invitation")


async def answer(chat: Chat, user: str, choice_id: str) -> list[OutMessage]:
    invitation = await invitation_for(chat, user)
    assert invitation.prompt_id is not None
    return await chat.press(user, invitation.prompt_id, choice_id)


async def rsvp_of(chat: Chat, event: Event, user: str) -> Rsvp | None:
    person = await person_of(chat, user)
    async with chat.app.uow() as uow:
        return await uow.events.rsvp(event.id, person.id)


async def everyone(chat: Chat, *users: str) -> None:
    await chat.onboard("kim", name="Kim")
    for user in users:
        await chat.onboard(user, name=user.capitalize())


# -- creating ---------------------------------------------------------------------------------


async def test_citizen_cannot_create_an_event(chat: Chat) -> None:
    await chat.onboard("anna")
    replies = await chat.say("anna", "/newevent")
    assert "koordinator" in replies[0].text.lower() or "coordinator" in replies[0].text.lower()
    replies = await chat.say("anna", "/nytarrangement")
    async with chat.app.uow() as uow:
        assert (await uow.session.execute(select(Event))).first() is None


async def test_create_and_publish_invites_everybody_in_their_language(chat: Chat) -> None:
    await chat.onboard("kim", name="Kim")
    await chat.onboard("anna", name="Anna")
    await chat.onboard("bo", name="Bo", language="en")
    event = await create_event(chat, capacity=10, guests=True, tasks="medbring suppe x3\ntænde bål")
    assert event.starts_at == SATURDAY_10
    assert event.ends_at == SATURDAY_10 + timedelta(hours=3)
    assert event.capacity == 10
    assert event.guests_allowed
    assert event.reminder_offsets == [24 * 60, 120]
    assert event.status == "published"
    published = chat.last_text("kim")
    assert "2" in published
    assert f"ev_{event.link_code}" in published

    delivered = await chat.deliver_outbox()
    assert sorted(d.ref.user_id for d in delivered) == ["anna", "bo"]
    danish = await invitation_for(chat, "anna")
    assert "lørdag 6. juni 2026 kl. 10:00–13:00" in danish.text
    assert "Hald Ege" in danish.text
    assert "medbring suppe" in danish.text
    assert [c.id for c in danish.choices] == [
        "yes",
        "maybe",
        "no",
        "guest",
        "tasks",
        "details",
        "calendar",
    ]
    english = await invitation_for(chat, "bo")
    assert "Saturday 6 June 2026, 10:00–13:00" in english.text
    assert english.choices[0].label == "Count me in"
    # nothing is sent twice
    assert await chat.deliver_outbox() == []


async def test_typed_dates_are_echoed_back_and_the_past_is_refused(chat: Chat) -> None:
    await chat.onboard("kim", name="Kim")
    await chat.say("kim", "/newevent")
    await chat.say("kim", "Bål")
    replies = await chat.say("kim", "i går kl 10")
    assert chat.last_question("kim").expects_text  # still asking when
    replies = await chat.say("kim", "bananer")
    replies = await chat.say("kim", "tomorrow 18:00")
    assert any("når" in m.text.lower() or "end" in m.text.lower() for m in replies)
    assert "2. juni 2026 kl. 18:00" in replies[-1].text  # the start read back at once
    await chat.say("kim", "kl 20")
    confirm = chat.last_question("kim")  # the place question reads the time back
    assert "2. juni 2026 kl. 18:00–20:00" in confirm.text
    await chat.tap("kim", "again")
    await chat.say("kim", "5/12 10-13")
    assert "5. december 2026 kl. 10:00" in chat.last_question("kim").text
    await chat.say("kim", "/back")
    await chat.say("kim", "/cancel")


async def test_a_shared_location_becomes_the_map_pin(chat: Chat) -> None:
    from conversations.core.messages import Location

    await everyone(chat, "anna")
    await chat.say("kim", "/newevent")
    await chat.say("kim", "Bål")
    await chat.say("kim", "lørdag kl 10-12")
    await chat.say("kim", "Skovbrynet")
    await chat.send_location("kim", Location(56.1234, 9.5678))  # just after the name
    await chat.tap("kim", "skip")
    await chat.tap("kim", "usual")
    await chat.tap("kim", "everybody")
    await chat.tap("kim", "publish")
    await chat.deliver_outbox()
    invitation = await invitation_for(chat, "anna")
    assert "openstreetmap.org/?mlat=56.12340&mlon=9.56780" in invitation.text


# -- answering --------------------------------------------------------------------------------


async def test_answers_can_change_and_reminders_follow(chat: Chat) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat)
    await chat.deliver_outbox()
    replies = await answer(chat, "anna", "yes")
    assert "Dejligt" in replies[-1].text
    async with chat.app.uow() as uow:
        reminders = (await uow.session.execute(select(Reminder))).scalars().all()
    assert sorted(r.offset_minutes for r in reminders) == [120, 24 * 60]
    assert {r.due_at for r in reminders} == {
        SATURDAY_10 - timedelta(hours=24),
        SATURDAY_10 - timedelta(hours=2),
    }

    await answer(chat, "anna", "no")
    row = await rsvp_of(chat, event, "anna")
    assert row is not None
    assert row.answer == RsvpAnswer.NO
    async with chat.app.uow() as uow:
        reminders = (await uow.session.execute(select(Reminder))).scalars().all()
    assert {r.status for r in reminders} == {ReminderStatus.CANCELLED}

    await answer(chat, "anna", "maybe")
    async with chat.app.uow() as uow:
        reminders = (await uow.session.execute(select(Reminder))).scalars().all()
    scheduled = [r for r in reminders if r.status == ReminderStatus.SCHEDULED]
    assert [(r.kind, r.offset_minutes) for r in scheduled] == [("nudge", 24 * 60)]


async def test_guest_counts_as_a_place(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, capacity=2, guests=True)
    await chat.deliver_outbox()
    replies = await answer(chat, "anna", "guest")
    assert "gæst" in replies[-1].text.lower() or "guest" in replies[-1].text.lower()
    row = await rsvp_of(chat, event, "anna")
    assert row is not None
    assert (row.answer, row.guests) == (RsvpAnswer.YES, 1)
    await answer(chat, "bo", "yes")
    row = await rsvp_of(chat, event, "bo")
    assert row is not None
    assert row.answer == RsvpAnswer.WAITLISTED
    # anna drops her guest: the place goes to bo, who is asked first
    await answer(chat, "anna", "guest")
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["bo"]
    assert [c.id for c in delivered[0].message.choices] == ["take", "decline"]


async def test_waiting_list_moves_on_when_an_offer_times_out(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna", "bo", "cy", "dan")
    event = await create_event(chat, capacity=2)
    await chat.deliver_outbox()
    for user in ("anna", "bo", "cy", "dan"):
        await answer(chat, user, "yes")
    assert (await rsvp_of(chat, event, "cy")).answer == RsvpAnswer.WAITLISTED  # type: ignore[union-attr]
    replies = await answer(chat, "dan", "yes")
    assert "2" in replies[-1].text  # number two on the waiting list

    await answer(chat, "anna", "no")
    offers = await chat.deliver_outbox()
    assert [d.ref.user_id for d in offers] == ["cy"]
    cy_offer = offers[0].message

    clock.advance(timedelta(hours=2, minutes=1))
    counts = await chat.app.event_jobs.run_once()
    assert counts["offers_lapsed"] == 1
    delivered = await chat.deliver_outbox()
    assert sorted(d.ref.user_id for d in delivered) == ["cy", "dan"]
    assert (await rsvp_of(chat, event, "cy")).answer == RsvpAnswer.NO  # type: ignore[union-attr]

    # cy's old offer no longer works; dan's does
    assert cy_offer.prompt_id is not None
    replies = await chat.press("cy", cy_offer.prompt_id, "take")
    assert (await rsvp_of(chat, event, "cy")).answer == RsvpAnswer.NO  # type: ignore[union-attr]
    await chat.tap("dan", "take")
    assert (await rsvp_of(chat, event, "dan")).answer == RsvpAnswer.YES  # type: ignore[union-attr]
    # a second run changes nothing
    assert (await chat.app.event_jobs.run_once())["offers_lapsed"] == 0


async def test_offer_window_never_runs_past_the_start(chat: Chat, clock: FrozenClock) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, capacity=1)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")
    clock.set(SATURDAY_10 - timedelta(minutes=30))
    await answer(chat, "anna", "no")
    row = await rsvp_of(chat, event, "bo")
    assert row is not None
    assert row.offered_until == SATURDAY_10


async def test_calendar_and_details(chat: Chat) -> None:
    await everyone(chat, "anna")
    await create_event(chat)
    await chat.deliver_outbox()
    replies = await answer(chat, "anna", "calendar")
    attachment = replies[-1].attachment
    assert attachment is not None
    assert attachment.mime_type == "text/calendar"
    assert b"BEGIN:VEVENT" in attachment.content
    assert b"Skovtur med suppe" in attachment.content
    replies = await answer(chat, "anna", "details")
    assert "invitationen" in replies[-1].text
    assert any(c.id == "yes" for c in replies[-1].choices)


async def test_my_events_lists_what_i_said(chat: Chat) -> None:
    await everyone(chat, "anna")
    await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "maybe")
    replies = await chat.say("anna", "/arrangementer")
    assert "Skovtur med suppe" in replies[-1].text
    replies = await chat.tap("anna", 1)
    assert any(c.id == "yes" for c in replies[-1].choices)


# -- deep links -------------------------------------------------------------------------------


async def test_deep_link_opens_the_invitation_for_anyone(chat: Chat) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat, audience="link")
    assert await chat.deliver_outbox() == []
    replies = await chat.say("anna", f"/start ev_{event.link_code}")
    assert "Skovtur med suppe" in replies[-1].text
    await chat.tap("anna", "yes")
    assert (await rsvp_of(chat, event, "anna")).answer == RsvpAnswer.YES  # type: ignore[union-attr]


async def test_deep_link_survives_onboarding(chat: Chat) -> None:
    await chat.onboard("kim", name="Kim")
    event = await create_event(chat, audience="link")
    await chat.say("eva", f"/start ev_{event.link_code}")
    await chat.tap("eva", "da")
    await chat.tap("eva", "yes")
    await chat.say("eva", "Eva")
    while chat.last_question("eva").choices[-1].id == "done":
        await chat.tap("eva", "done")
    await chat.tap("eva", "no")
    replies = await chat.tap("eva", "none")
    assert "Skovtur med suppe" in replies[-1].text


async def test_a_guessed_link_finds_nothing(chat: Chat) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat, audience="link")
    replies = await chat.say("anna", f"/start ev_{event.id}")
    assert "Skovtur" not in replies[-1].text


# -- permissions ------------------------------------------------------------------------------


async def test_someone_elses_invitation_button_does_nothing(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, audience="link")
    await chat.say("anna", f"/start ev_{event.link_code}")
    anna_invitation = await invitation_for(chat, "anna")
    assert anna_invitation.prompt_id is not None
    await chat.press("bo", anna_invitation.prompt_id, "yes")
    assert await rsvp_of(chat, event, "bo") is None


async def test_a_valid_prompt_for_an_event_not_shown_is_refused(chat: Chat) -> None:
    await everyone(chat, "anna")
    secret = await create_event(chat, audience="link")
    person = await person_of(chat, "anna")
    async with chat.app.uow() as uow:
        prompt = await uow.prompts.create(
            platform="fake",
            chat_id="chat-anna",
            user_id="anna",
            person_id=person.id,
            flow="rsvp",
            state="invite",
            choices=[{"id": "yes", "label": "yes", "emoji": None, "aliases": []}],
            context={"event_id": secret.id, "kind": "invite"},
            bound=False,
        )
        await uow.commit()
    replies = await chat.press("anna", prompt.id, "yes")
    assert replies
    assert await rsvp_of(chat, secret, "anna") is None


async def test_attendees_only_for_the_events_own_coordinator(chat: Chat) -> None:
    await everyone(chat, "anna", "lea")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    replies = await chat.say("anna", "/deltagere")
    assert "Anna" not in replies[0].text
    # another coordinator sees none of kim's events
    lea = await person_of(chat, "lea")
    async with chat.app.uow() as uow:
        stored = await uow.persons.get(lea.id)
        assert stored is not None
        await uow.persons.set_role(stored, "coordinator")
        await uow.commit()
    replies = await chat.say("lea", "/attendees")
    assert not replies[-1].choices
    # the admin sees all
    await chat.onboard("admin", name="Admin")
    await chat.say("admin", "/attendees")
    replies = await chat.tap("admin", f"e{event.id}")
    assert "Anna" in replies[-1].text


async def test_coordinator_sees_attendees_and_writes_to_them(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "no")
    await chat.say("kim", "/deltagere")
    replies = await chat.tap("kim", f"e{event.id}")
    assert "Anna" in replies[-1].text
    assert "Bo" in replies[-1].text
    await chat.tap("kim", "write")
    await chat.say("kim", "Husk varmt tøj!")
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["anna"]
    assert "Husk varmt tøj!" in delivered[0].message.text
    async with chat.app.uow() as uow:
        row = await uow.outbox.by_key(f"msg:{event.id}:1:{(await person_of(chat, 'anna')).id}")
    assert row is not None
    assert row.batch == f"msg:{event.id}:1"


async def test_qr_code_for_the_poster(chat: Chat) -> None:
    await chat.onboard("kim", name="Kim")
    event = await create_event(chat, audience="link")
    replies = await chat.tap("kim", "qr")
    assert f"ev_{event.link_code}" in replies[-1].text  # no bot name set: the payload instead
    png = qr_attachment(f"https://t.me/taelmigmed_bot?start=ev_{event.link_code}")
    assert png.content.startswith(b"\x89PNG")
    assert png.is_image


# -- reminders --------------------------------------------------------------------------------


async def test_reminders_come_due_once(chat: Chat, clock: FrozenClock) -> None:
    await everyone(chat, "anna")
    await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    clock.set(SATURDAY_10 - timedelta(hours=24, minutes=-1))
    first = await chat.app.event_jobs.run_once()
    second = await chat.app.event_jobs.run_once()
    assert (first["sent"], second["sent"]) == (1, 0)
    delivered = await chat.deliver_outbox()
    assert len(delivered) == 1
    assert "påmindelse" in delivered[0].message.text.lower()
    clock.set(SATURDAY_10 - timedelta(hours=1))
    assert (await chat.app.event_jobs.run_once())["sent"] == 1
    assert len(await chat.deliver_outbox()) == 1


async def test_a_reminder_is_missed_once_the_event_has_begun(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna")
    await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    clock.set(SATURDAY_10 - timedelta(hours=20))  # the bot was down at the 24 h mark
    assert (await chat.app.event_jobs.run_once())["sent"] == 1  # sent late
    clock.set(SATURDAY_10 + timedelta(minutes=5))  # and down again over the 2 h mark
    counts = await chat.app.event_jobs.run_once()
    assert (counts["sent"], counts["missed"]) == (0, 1)


async def test_maybe_gets_one_gentle_nudge(chat: Chat, clock: FrozenClock) -> None:
    await everyone(chat, "anna")
    await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "maybe")
    clock.set(SATURDAY_10 - timedelta(hours=23))
    await chat.app.event_jobs.run_once()
    clock.set(SATURDAY_10 - timedelta(hours=1))
    await chat.app.event_jobs.run_once()
    delivered = await chat.deliver_outbox()
    assert len(delivered) == 1
    assert any(c.id == "yes" for c in delivered[0].message.choices)


async def test_quiet_hours_hold_invitations_but_not_late_reminders(
    chat: Chat, clock: FrozenClock
) -> None:
    await chat.onboard("kim", name="Kim")
    await chat.say("anna", "/start")
    await chat.tap("anna", "da")
    await chat.tap("anna", "yes")
    await chat.say("anna", "Anna")
    while chat.last_question("anna").choices[-1].id == "done":
        await chat.tap("anna", "done")
    await chat.tap("anna", "no")  # citizens' initiatives
    await chat.say("anna", "22-8")
    clock.set(datetime(2026, 6, 1, 21, 0, tzinfo=UTC))  # 23:00 in Copenhagen
    await create_event(chat)
    assert await chat.deliver_outbox() == []
    async with chat.app.uow() as uow:
        row = (
            (await uow.session.execute(select(OutboxMessage).where(OutboxMessage.kind != "reply")))
            .scalars()
            .one()
        )
    assert row.next_attempt_at == datetime(2026, 6, 2, 6, 0, tzinfo=UTC)  # 08:00 local
    clock.set(datetime(2026, 6, 2, 6, 0, tzinfo=UTC))
    assert len(await chat.deliver_outbox()) == 1
    await answer(chat, "anna", "yes")
    # the 2 h reminder at 06:00 local (quiet) still goes out at once
    clock.set(SATURDAY_10 - timedelta(hours=2))
    await chat.app.event_jobs.run_once()
    async with chat.app.uow() as uow:
        rows = (
            (
                await uow.session.execute(
                    select(OutboxMessage).where(OutboxMessage.kind == "reminder")
                )
            )
            .scalars()
            .all()
        )
    assert [r.next_attempt_at for r in rows] == [SATURDAY_10 - timedelta(hours=2)]


# -- changing and cancelling ------------------------------------------------------------------


async def test_changing_the_time_tells_everyone_and_moves_reminders(chat: Chat) -> None:
    await everyone(chat, "anna", "bo", "cy")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "maybe")
    await answer(chat, "cy", "no")
    await chat.say("kim", "/retarrangement")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", "time")
    await chat.say("kim", "søndag kl 11")
    await chat.say("kim", "14")
    confirm = chat.last_question("kim")
    assert "→" in confirm.text
    await chat.tap("kim", "yes")
    delivered = await chat.deliver_outbox()
    assert sorted(d.ref.user_id for d in delivered) == ["anna", "bo"]
    text = next(d.message.text for d in delivered if d.ref.user_id == "anna")
    assert "lørdag 6. juni 2026 kl. 10:00–13:00 → søndag 7. juni 2026 kl. 11:00–14:00" in text
    sunday = datetime(2026, 6, 7, 9, 0, tzinfo=UTC)
    async with chat.app.uow() as uow:
        reminders = (
            (await uow.session.execute(select(Reminder).where(Reminder.status == "scheduled")))
            .scalars()
            .all()
        )
    assert sorted(r.due_at for r in reminders) == [
        sunday - timedelta(hours=24),
        sunday - timedelta(hours=24),
        sunday - timedelta(hours=2),
    ]


async def test_cancelling_tells_those_concerned_and_stops_what_is_pending(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat)
    anna_invite = (await chat.deliver_outbox())[0]
    assert anna_invite.ref.user_id == "anna"
    await answer(chat, "anna", "yes")
    # bo's invitation was delivered too; put one back to pending to stand for a slow queue
    async with chat.app.uow() as uow:
        bo = await person_of(chat, "bo")
        row = await uow.outbox.by_key(f"invite:{event.id}:{bo.id}")
        assert row is not None
        row.status = OutboxStatus.PENDING
        await uow.commit()
    await chat.say("kim", "/aflys")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", "skip")  # no reason given
    await chat.tap("kim", "yes")
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["anna"]
    assert "aflyst" in delivered[0].message.text
    async with chat.app.uow() as uow:
        row = await uow.outbox.by_key(f"invite:{event.id}:{bo.id}")
        reminders = (await uow.session.execute(select(Reminder))).scalars().all()
    assert row is not None
    assert row.status == OutboxStatus.CANCELLED
    assert {r.status for r in reminders} == {ReminderStatus.CANCELLED}
    replies = await answer(chat, "anna", "no")
    assert "aflyst" in replies[-1].text


async def test_answers_close_when_the_event_begins(chat: Chat, clock: FrozenClock) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat)
    await chat.deliver_outbox()
    clock.set(SATURDAY_10 + timedelta(minutes=1))
    await answer(chat, "anna", "yes")
    assert await rsvp_of(chat, event, "anna") is None


async def test_invitations_at_a_set_time_wait_and_follow_a_change(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna")
    await chat.say("kim", "/newevent")
    await chat.say("kim", "Bål")
    await chat.say("kim", "lørdag kl 10-12")
    await chat.say("kim", "Skovbrynet")
    await chat.say("kim", "1")  # a capacity of one, not the first button
    await chat.tap("kim", "usual")
    await chat.tap("kim", "everybody")
    await chat.tap("kim", "later")
    await chat.say("kim", "i morgen kl 9")
    preview = chat.last_question("kim")
    assert "tirsdag 2. juni 2026 kl. 09:00" in preview.text
    await chat.tap("kim", "publish")
    async with chat.app.uow() as uow:
        event = (await uow.session.execute(select(Event))).scalars().one()
    assert event.capacity == 1
    assert await chat.deliver_outbox() == []
    assert "Bål" not in (await chat.say("anna", "/events"))[-1].text

    await chat.say("kim", "/editevent")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", "place")
    await chat.say("kim", "Shelterpladsen")
    await chat.tap("kim", "yes")

    clock.set(datetime(2026, 6, 2, 7, 0, tzinfo=UTC))
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["anna"]
    assert "Shelterpladsen" in delivered[0].message.text


async def test_back_in_the_middle_of_creating(chat: Chat) -> None:
    await chat.onboard("kim", name="Kim")
    await chat.say("kim", "/newevent")
    await chat.say("kim", "Bål")
    await chat.say("kim", "lørdag kl 10-12")
    replies = await chat.say("kim", "/tilbage")
    assert replies[-1].expects_text
    assert "lørdag kl 10" in replies[-1].text


async def test_the_flow_itself_checks_the_role(chat: Chat) -> None:
    await chat.onboard("lea", name="Lea")

    async def set_role(role: str) -> None:
        lea = await person_of(chat, "lea")
        async with chat.app.uow() as uow:
            stored = await uow.persons.get(lea.id)
            assert stored is not None
            await uow.persons.set_role(stored, role)
            await uow.commit()

    await set_role("coordinator")
    await chat.say("lea", "/newevent")
    await set_role("citizen")  # the role is taken away half-way
    replies = await chat.say("lea", "Skovtur")
    assert "coordinator" in replies[-1].text.lower() or "koordinator" in replies[-1].text.lower()
    async with chat.app.uow() as uow:
        assert await uow.conversations.get("fake", "chat-lea", "lea") is None


async def test_a_waiting_list_offer_waits_for_the_morning(chat: Chat, clock: FrozenClock) -> None:
    await everyone(chat, "anna")
    await chat.say("bo", "/start")
    await chat.tap("bo", "da")
    await chat.tap("bo", "yes")
    await chat.say("bo", "Bo")
    while chat.last_question("bo").choices[-1].id == "done":
        await chat.tap("bo", "done")
    await chat.tap("bo", "no")  # citizens' initiatives
    await chat.say("bo", "22-8")
    event = await create_event(chat, capacity=1)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")
    clock.set(datetime(2026, 6, 2, 21, 0, tzinfo=UTC))  # 23:00 local on Tuesday
    await answer(chat, "anna", "no")
    assert await chat.deliver_outbox() == []
    row = await rsvp_of(chat, event, "bo")
    morning = datetime(2026, 6, 3, 6, 0, tzinfo=UTC)  # 08:00 local
    assert row is not None
    assert row.offered_until == morning + timedelta(hours=2)
    clock.set(morning)
    assert [d.ref.user_id for d in await chat.deliver_outbox()] == ["bo"]


async def test_the_event_jobs_start_and_stop(chat: Chat) -> None:
    chat.app.event_jobs.start()
    chat.app.event_jobs.stop()


async def test_forgetting_keeps_the_count_and_frees_the_place(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, capacity=1)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")
    await chat.say("anna", "/forget")
    await chat.tap("anna", "delete")
    async with chat.app.uow() as uow:
        counts = await uow.events.answer_counts(event.id)
        assert counts == {"yes": 1, "waitlisted": 1}
        assert (await uow.session.execute(select(Reminder))).scalars().all() == []
    counts = await chat.app.event_jobs.run_once()
    assert counts["places_offered"] == 1
    assert [d.ref.user_id for d in await chat.deliver_outbox()] == ["bo"]
    await chat.say("kim", "/attendees")
    replies = await chat.tap("kim", f"e{event.id}")
    assert "1 uden navn" in replies[-1].text


async def test_reminders_after_a_move_come_again_but_never_pointlessly(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    clock.set(SATURDAY_10 - timedelta(hours=23))
    assert (await chat.app.event_jobs.run_once())["sent"] == 1  # the day-before reminder

    async def move(when: str) -> None:
        await chat.say("kim", "/editevent")
        await chat.tap("kim", f"e{event.id}")
        await chat.tap("kim", "time")
        await chat.say("kim", when)
        await chat.tap("kim", "yes")

    await move("søndag kl 10-12")  # a day later: the day-before reminder is due again
    async with chat.app.uow() as uow:
        rows = await uow.events.reminders_for_event(event.id)
    assert sorted((r.offset_minutes, r.status) for r in rows) == [
        (120, "scheduled"),
        (24 * 60, "scheduled"),
    ]
    await move("i dag kl 20-22")  # Friday evening, 9 hours away: no "tomorrow" reminder
    async with chat.app.uow() as uow:
        rows = await uow.events.reminders_for_event(event.id)
    assert sorted((r.offset_minutes, r.status) for r in rows) == [
        (120, "scheduled"),
        (24 * 60, "cancelled"),
    ]
    clock.set(datetime(2026, 6, 5, 16, 0, tzinfo=UTC))  # 18:00 local, two hours before
    assert (await chat.app.event_jobs.run_once())["sent"] == 1
    keys = []
    async with chat.app.uow() as uow:
        for row in (await uow.session.execute(select(OutboxMessage))).scalars():
            keys.append(row.dedupe_key)
    person = await person_of(chat, "anna")
    assert f"reminder:{event.id}:{person.id}:1440" in keys
    assert f"reminder:{event.id}:{person.id}:120:r2" in keys


async def test_a_broadcast_stores_one_prompt_and_one_row_per_person(
    chat: Chat, clock: FrozenClock
) -> None:
    from bot.i18n import catalogs
    from conversations.core.services import Services
    from conversations.events.rules.invitations import publish
    from storage.models import Identity, Invitation, Person, Prompt

    now = clock.now()
    async with chat.app.uow() as uow:
        for i in range(120):
            person = Person(
                language="en" if i % 4 == 0 else "da",
                consent="given",
                status="active" if i % 10 else "stopped",  # every tenth has paused messages
                created_at=now,
                updated_at=now,
            )
            uow.session.add(person)
            await uow.session.flush()
            uow.session.add(
                Identity(
                    person_id=person.id,
                    platform="fake",
                    user_id=f"p{i}",
                    chat_id=f"chat-p{i}",
                    blocked_at=now if i == 7 else None,  # one has blocked the bot
                    created_at=now,
                )
            )
        event = await uow.events.create(
            title="Stor skovtur",
            starts_at=SATURDAY_10,
            journey_steps=[],
            reminder_offsets=[],
            audience={"kind": "everybody"},
        )
        services = Services(uow, catalogs(), "Europe/Copenhagen", chat.app.clock)
        first = await publish(services, event)
        again = await publish(services, event)
        await uow.commit()
        rows = (
            (await uow.session.execute(select(OutboxMessage).where(OutboxMessage.kind != "reply")))
            .scalars()
            .all()
        )
        prompts = (await uow.session.execute(select(Prompt))).scalars().all()
        invited = (await uow.session.execute(select(Invitation))).scalars().all()
    assert (first, again) == (107, 0)
    assert len(rows) == len({r.dedupe_key for r in rows}) == 107
    assert len(invited) == 107
    by_id = {p.id: p for p in prompts}
    for row in rows:
        prompt = by_id[row.payload["prompt_id"]]
        assert (prompt.user_id, prompt.person_id) == (row.user_id, row.person_id)


async def onboard_with_quiet_hours(chat: Chat, user: str, hours: str) -> None:
    await chat.say(user, "/start")
    await chat.tap(user, "da")
    await chat.tap(user, "yes")
    await chat.say(user, user.capitalize())
    while chat.last_question(user).choices[-1].id == "done":
        await chat.tap(user, "done")
    await chat.tap(user, "no")  # citizens' initiatives
    await chat.say(user, hours)


async def test_notices_keep_quiet_hours_unless_the_event_is_close(
    chat: Chat, clock: FrozenClock
) -> None:
    await chat.onboard("kim", name="Kim")
    await onboard_with_quiet_hours(chat, "anna", "22-8")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    clock.set(datetime(2026, 6, 4, 21, 0, tzinfo=UTC))  # Thursday 23:00 local
    await chat.say("kim", "/deltagere")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", "write")
    await chat.say("kim", "Vi mødes ved p-pladsen")
    assert await chat.deliver_outbox() == []  # waits for the morning
    clock.set(datetime(2026, 6, 6, 5, 0, tzinfo=UTC))  # 07:00 local, quiet, 3 h before
    await chat.say("kim", "/aflys")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", "skip")  # no reason given
    await chat.tap("kim", "yes")
    delivered = await chat.deliver_outbox()
    texts = [d.message.text for d in delivered]
    assert len(texts) == 2  # the held message (its morning came) and the cancellation
    assert any("aflyst" in text for text in texts)


async def test_audience_by_interest_and_by_an_earlier_event(chat: Chat, clock: FrozenClock) -> None:
    await chat.onboard("kim", name="Kim")
    await chat.say("anna", "/start")
    await chat.tap("anna", "da")
    await chat.tap("anna", "yes")
    await chat.say("anna", "Anna")
    await chat.tap("anna", 1)  # the first interest
    while chat.last_question("anna").choices[-1].id == "done":
        await chat.tap("anna", "done")
    await chat.tap("anna", "no")
    await chat.tap("anna", "none")
    await chat.onboard("bo", name="Bo")
    anna = await person_of(chat, "anna")
    async with chat.app.uow() as uow:
        (topic_id,) = await uow.topics.chosen_ids(anna.id)

    await chat.say("kim", "/newevent")
    await chat.say("kim", "Fuglekig")
    await chat.say("kim", "lørdag kl 7-9")
    await chat.say("kim", "Engen")
    await chat.tap("kim", "skip")
    await chat.tap("kim", "choose")
    await chat.tap("kim", "no")
    await chat.tap("kim", "keep")
    await chat.tap("kim", "done")
    await chat.tap("kim", "none")
    await chat.tap("kim", "done")  # access
    await chat.tap("kim", "skip")  # getting there
    await chat.tap("kim", "topics")
    await chat.tap("kim", "done")  # nothing chosen yet: asked again
    await chat.tap("kim", f"t{topic_id}")
    assert chat.last_question("kim").choices[0].label.startswith("✅")
    await chat.tap("kim", "done")
    await chat.tap("kim", "publish")
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["anna"]
    await answer(chat, "anna", "yes")

    clock.set(datetime(2026, 6, 7, 8, 0, tzinfo=UTC))  # the day after
    await chat.say("kim", "/newevent")
    await chat.say("kim", "Fuglekig igen")
    await chat.say("kim", "lørdag kl 7-9")
    await chat.say("kim", "Engen")
    await chat.tap("kim", "skip")
    await chat.tap("kim", "usual")
    await chat.tap("kim", "attendees")
    earlier = chat.last_question("kim")
    assert "Fuglekig" in earlier.choices[0].label
    await chat.tap("kim", earlier.choices[0].id)
    preview = chat.last_question("kim")
    assert "Fuglekig" in preview.text
    await chat.tap("kim", "publish")
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["anna"]


async def test_two_people_tapping_at_once_for_the_last_place(chat: Chat) -> None:
    import asyncio

    await everyone(chat, "anna", "bo")
    event = await create_event(chat, capacity=1)
    await chat.deliver_outbox()
    anna, bo = await invitation_for(chat, "anna"), await invitation_for(chat, "bo")
    assert anna.prompt_id is not None
    assert bo.prompt_id is not None
    await asyncio.gather(
        chat.press("anna", anna.prompt_id, "yes"), chat.press("bo", bo.prompt_id, "yes")
    )
    answers = sorted(
        [(await rsvp_of(chat, event, u)).answer for u in ("anna", "bo")]  # type: ignore[union-attr]
    )
    assert answers == [RsvpAnswer.WAITLISTED, RsvpAnswer.YES]


async def test_a_typed_answer_to_an_invitation_counts_as_the_tap(chat: Chat) -> None:
    """Outside any conversation, the label or the number answers the newest invitation."""
    await everyone(chat, "anna", "bo")
    event = await create_event(chat)
    await chat.deliver_outbox()
    replies = await chat.say("anna", "tæl mig med")
    assert "Dejligt" in replies[-1].text
    await chat.say("bo", "2")  # the second button: maybe
    anna, bo = await rsvp_of(chat, event, "anna"), await rsvp_of(chat, event, "bo")
    assert anna is not None
    assert anna.answer == RsvpAnswer.YES
    assert bo is not None
    assert bo.answer == RsvpAnswer.MAYBE


async def test_a_reminder_job_that_dies_half_way_loses_and_repeats_nothing(
    chat: Chat, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the reminders were turned into messages but before the job's
    transaction committed: nothing of it stays, and the next run sends each reminder once."""

    await everyone(chat, "anna", "bo")
    await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")
    clock.set(SATURDAY_10 - timedelta(hours=24, minutes=-1))

    async def dies(*args: object, **kwargs: object) -> int:
        raise SystemExit("killed")  # like the process going down mid-transaction

    monkeypatch.setattr(scheduler, "fill_free_places", dies)
    with pytest.raises(SystemExit):
        await chat.app.event_jobs.run_once()
    async with chat.app.uow() as uow:
        kinds = (
            (
                await uow.session.execute(
                    select(OutboxMessage.kind).where(OutboxMessage.kind != "reply")
                )
            )
            .scalars()
            .all()
        )
        statuses = (await uow.session.execute(select(Reminder.status))).scalars().all()
    assert "reminder" not in kinds
    assert ReminderStatus.SENT not in statuses

    monkeypatch.undo()
    await chat.app.event_jobs.run_once()  # the restarted process
    await chat.app.event_jobs.run_once()  # and a job that fires twice
    before = len(chat.transport.sent)
    await chat.app.drain_outbox()
    to_citizens = [d for d in chat.transport.sent[before:] if d.ref.user_id != "kim"]
    assert sorted(d.ref.user_id for d in to_citizens) == ["anna", "bo"]
    assert all("påmindelse" in d.message.text.lower() for d in to_citizens)
    async with chat.app.uow() as uow:
        rows = (
            await uow.session.execute(
                select(OutboxMessage.status).where(OutboxMessage.kind == "reminder")
            )
        ).scalars()
        assert sorted(rows) == [OutboxStatus.SENT, OutboxStatus.SENT]


# -- conversations kept by an earlier version -------------------------------------------------


async def resume(chat: Chat, user: str, flow: str, state: str, data: dict[str, object]) -> None:
    """Put `user`'s conversation where an earlier version left it, and have it asked again."""
    ref = chat.ref(user)
    async with chat.app.uow() as uow:
        conversation = await uow.conversations.get(ref.platform, ref.chat_id, ref.user_id)
        assert conversation is not None
        assert conversation.flow == flow
        conversation.state, conversation.data = state, data
        await uow.commit()
    await chat.say(user, "/help")


async def test_a_new_event_kept_before_typed_data_still_publishes(chat: Chat) -> None:
    """Every key written out, times as ISO text, tasks as [title, hands]: as stored then."""
    await everyone(chat, "anna")
    await chat.say("kim", "/newevent")
    await resume(
        chat,
        "kim",
        "newevent",
        "preview",
        {
            "title": "Skovtur",
            "text": "",
            "start": "2026-06-06T08:00:00+00:00",
            "end": "2026-06-06T11:00:00+00:00",
            "place": "Hald Ege",
            "lat": 56.4,
            "lon": 9.3,
            "capacity": None,
            "guests": True,
            "journey": ["turen", "maden"],
            "tasks": [["medbring suppe", 3], ["tænde bål", 1]],
            "reminders": [],
            "topic_ids": [],
            "audience": {"kind": "everybody"},
            "send_at": None,
        },
    )
    preview = chat.last_question("kim").text
    assert "• medbring suppe ×3" in preview
    await chat.tap("kim", "publish")
    anna = await person_of(chat, "anna")
    async with chat.app.uow() as uow:
        event = (await uow.session.execute(select(Event))).scalars().one()
        tasks = [(t.title, t.hands) for t in await uow.events.tasks(event.id)]
        invited = await uow.events.is_invited(event.id, anna.id)
    assert (event.starts_at, event.ends_at) == (SATURDAY_10, SATURDAY_10 + timedelta(hours=3))
    assert (event.latitude, event.longitude, event.guests_allowed) == (56.4, 9.3, True)
    assert event.journey_steps == ["turen", "maden"]
    assert event.reminder_offsets == []
    assert event.audience == {"kind": "everybody"}
    assert tasks == [("medbring suppe", 3), ("tænde bål", 1)]
    assert invited


async def test_a_change_kept_before_typed_data_is_still_saved(chat: Chat) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat)
    await chat.say("kim", "/editevent")
    await chat.tap("kim", f"e{event.id}")
    later = SATURDAY_10 + timedelta(days=1)
    await resume(
        chat,
        "kim",
        "editevent",
        "confirm",
        {"event_id": event.id, "start": later.isoformat(), "end": None},
    )
    await chat.tap("kim", "yes")
    async with chat.app.uow() as uow:
        changed = await uow.events.get(event.id)
    assert changed is not None
    assert (changed.starts_at, changed.ends_at, changed.revision) == (later, None, 1)


async def test_a_capacity_in_other_digits_is_asked_again_not_a_crash(chat: Chat) -> None:
    await everyone(chat)
    await chat.say("kim", "/newevent")
    await chat.say("kim", "Bål")
    await chat.say("kim", "lørdag kl 10-12")
    await chat.say("kim", "Skovbrynet")
    for not_a_number in ("²", "١٢", "0", "10001"):
        replies = await chat.say("kim", not_a_number)
        assert "tal" in replies[0].text.lower(), replies[0].text  # "Skriv et tal, fx 20."
        assert chat.last_question("kim").choices[0].id == "skip"  # still the same question
    await chat.say("kim", "12")
    assert chat.last_question("kim").choices[0].id == "usual"  # on to the rest
