"""A minimal event in at most eight interactions, and everything else still reachable."""

from __future__ import annotations

from sqlalchemy import select

from conversations.core.messages import Location
from conversations.events.rules.journey import DEFAULT_JOURNEY
from storage.models import Event
from tests.fakes import Chat
from tests.test_events import everyone, invitation_for


class Counted:
    """The coordinator's side of the chat, counting every message and tap."""

    def __init__(self, chat: Chat, user: str) -> None:
        self.chat, self.user, self.interactions = chat, user, 0

    async def say(self, text: str) -> None:
        self.interactions += 1
        await self.chat.say(self.user, text)

    async def tap(self, choice: str) -> None:
        self.interactions += 1
        await self.chat.tap(self.user, choice)

    async def pin(self, location: Location) -> None:
        self.interactions += 1
        await self.chat.send_location(self.user, location)


async def only_event(chat: Chat) -> Event:
    async with chat.app.uow() as uow:
        return (await uow.session.execute(select(Event))).scalars().one()


async def test_title_time_place_capacity_and_everybody_now_in_eight(chat: Chat) -> None:
    await everyone(chat, "anna")
    kim = Counted(chat, "kim")
    await kim.say("/nytarrangement")
    await kim.say("Skovtur med suppe")
    await kim.say("på lørdag kl. 10-13")
    await kim.say("Hald Ege")
    await kim.say("20")
    await kim.tap("usual")
    await kim.tap("everybody")
    await kim.tap("publish")
    assert kim.interactions <= 8
    event = await only_event(chat)
    assert (event.title, event.place, event.capacity) == ("Skovtur med suppe", "Hald Ege", 20)
    assert event.reminder_offsets == [24 * 60, 120]
    assert list(event.journey_steps) == list(DEFAULT_JOURNEY)
    assert not event.guests_allowed
    await chat.deliver_outbox()
    assert "lørdag 6. juni 2026 kl. 10:00–13:00" in (await invitation_for(chat, "anna")).text


async def test_the_map_pin_is_taken_with_the_place_without_a_question_of_its_own(
    chat: Chat,
) -> None:
    await everyone(chat)
    kim = Counted(chat, "kim")
    await kim.say("/nytarrangement")
    await kim.say("Skovtur")
    await kim.say("lørdag kl 10-13")
    await kim.pin(Location(56.4, 9.3, "Hald Ege"))  # a pin with a name answers the place
    assert "hvor mange" in chat.last_question("kim").text.lower()
    await kim.tap("skip")
    await kim.tap("usual")
    await kim.tap("everybody")
    await kim.tap("publish")
    assert kim.interactions <= 8
    event = await only_event(chat)
    assert (event.place, event.latitude, event.longitude) == ("Hald Ege", 56.4, 9.3)


async def test_text_guests_tasks_and_a_send_time_are_reachable_from_the_preview(
    chat: Chat,
) -> None:
    await everyone(chat, "anna")
    await chat.say("kim", "/nytarrangement")
    await chat.say("kim", "Bål")
    await chat.say("kim", "lørdag kl 18-21")
    await chat.say("kim", "Engen")
    await chat.tap("kim", "skip")
    await chat.tap("kim", "usual")
    await chat.tap("kim", "everybody")
    preview = chat.last_question("kim")
    assert {"publish", "later", "text", "more", "discard"} <= {c.id for c in preview.choices}
    await chat.tap("kim", "text")
    await chat.say("kim", "Vi tænder bål og synger.")
    assert "Vi tænder bål og synger." in chat.last_question("kim").text  # the preview again
    await chat.tap("kim", "more")
    await chat.tap("kim", "yes")  # guests
    await chat.tap("kim", "keep")
    await chat.say("kim", "medbring brænde x2")
    await chat.tap("kim", "done")
    await chat.tap("kim", "none")  # no reminders
    await chat.tap("kim", "step_free")
    await chat.tap("kim", "done")
    await chat.tap("kim", "skip")  # back at the preview: the audience was chosen already
    await chat.tap("kim", "later")
    await chat.say("kim", "i morgen kl 9")
    await chat.tap("kim", "publish")
    event = await only_event(chat)
    assert event.invitation == "Vi tænder bål og synger."
    assert event.guests_allowed
    assert event.reminder_offsets == []
    assert event.send_at is not None
    async with chat.app.uow() as uow:
        assert [t.title for t in await uow.events.tasks(event.id)] == ["medbring brænde"]


async def test_the_text_can_come_under_the_title(chat: Chat) -> None:
    await everyone(chat)
    await chat.say("kim", "/nytarrangement")
    await chat.say("kim", "Skovtur\nVi går en tur i skoven.\nTag gummistøvler på.")
    await chat.say("kim", "lørdag kl 10-13")
    await chat.say("kim", "Hald Ege")
    await chat.tap("kim", "skip")
    await chat.tap("kim", "usual")
    await chat.tap("kim", "everybody")
    preview = chat.last_question("kim")
    assert "Vi går en tur i skoven.\nTag gummistøvler på." in preview.text
    assert "text" not in {c.id for c in preview.choices}
    await chat.tap("kim", "publish")
    assert (await only_event(chat)).title == "Skovtur"


async def test_a_wrong_time_can_be_changed_from_the_place_question(chat: Chat) -> None:
    await everyone(chat)
    await chat.say("kim", "/nytarrangement")
    await chat.say("kim", "Skovtur")
    replies = await chat.say("kim", "fredag kl 10-12")
    assert "fredag 5. juni 2026 kl. 10:00–12:00" in replies[-1].text
    await chat.tap("kim", "again")
    replies = await chat.say("kim", "lørdag kl 10-12")
    assert "lørdag 6. juni 2026 kl. 10:00–12:00" in replies[-1].text


async def test_access_and_getting_there_are_in_every_invitation(chat: Chat) -> None:
    await everyone(chat, "anna")
    await chat.onboard("bo", name="Bo", language="en")
    await chat.say("kim", "/nytarrangement")
    await chat.say("kim", "Skovtur")
    await chat.say("kim", "lørdag kl 10-13")
    await chat.say("kim", "Hald Ege")
    await chat.tap("kim", "skip")
    await chat.tap("kim", "usual")
    await chat.tap("kim", "everybody")
    await chat.tap("kim", "access")
    await chat.tap("kim", "step_free")
    await chat.tap("kim", "toilet")
    await chat.tap("kim", "seating")
    await chat.tap("kim", "seating")  # tapped again: taken off
    assert [c.label.startswith("✅") for c in chat.last_question("kim").choices[:3]] == [
        True,
        True,
        False,
    ]
    await chat.tap("kim", "done")
    await chat.say("kim", "Bus 12 til Hald Ege, 5 minutters gang. Tag varmt tøj med.")
    preview = chat.last_question("kim")
    assert "♿ Trinfri adgang · 🚻 Toilet" in preview.text
    assert "access" not in {c.id for c in preview.choices}
    await chat.tap("kim", "publish")
    event = await only_event(chat)
    assert event.access_features == ["step_free", "toilet"]
    await chat.deliver_outbox()
    danish = (await invitation_for(chat, "anna")).text
    assert "♿ Trinfri adgang · 🚻 Toilet" in danish
    assert "🚌 Bus 12 til Hald Ege, 5 minutters gang. Tag varmt tøj med." in danish
    assert "Pladser at sidde" not in danish
    english = (await invitation_for(chat, "bo")).text
    assert "♿ Step-free access · 🚻 Toilet" in english


async def test_questions_in_the_flow_take_typed_answers_too(chat: Chat) -> None:
    await everyone(chat)
    await chat.say("kim", "/nytarrangement")
    await chat.say("kim", "Skovtur")
    await chat.say("kim", "lørdag kl 10-13")
    await chat.say("kim", "Hald Ege")
    await chat.say("kim", "ingen")  # no limit
    await chat.say("kim", "jeg vælger selv")
    await chat.say("kim", "ja tak")  # guests
    await chat.say("kim", "keep")
    await chat.say("kim", "færdig")
    await chat.say("kim", "nej")  # no reminders
    await chat.say("kim", "Trinfri adgang")
    await chat.say("kim", "færdig")
    await chat.say("kim", "spring over")
    await chat.say("kim", "alle")
    await chat.say("kim", "udgiv")
    event = await only_event(chat)
    assert event.guests_allowed
    assert event.capacity is None
    assert event.reminder_offsets == []
    assert event.access_features == ["step_free"]
