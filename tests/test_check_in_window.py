"""The check-in window as settings, as a chat: a municipality that opens checking in half
an hour before the start and keeps it open 45 minutes after the end (TMM_CHECK_IN_*), and
what people are told says so."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.settings import Settings
from storage.clock import FrozenClock
from tests.fakes import Chat
from tests.test_check_in import checked_in
from tests.test_events import SATURDAY_10, answer, create_event, everyone
from tests.test_onboarding import person_of

END = SATURDAY_10 + timedelta(hours=3)  # the event is 10-13


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admins=["fake:admin"],
        coordinators=["fake:kim"],
        check_in_opens_minutes=30,
        check_in_closes_minutes=45,
        _env_file=None,  # type: ignore[call-arg]
    )


async def test_checking_in_opens_and_closes_as_the_settings_say(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna", "bo", "cai")
    event = await create_event(chat)
    await chat.deliver_outbox()
    for user in ("anna", "bo", "cai"):
        await answer(chat, user, "yes")
    window = "Man kan tjekke ind fra 30 minutter før start til 45 minutter efter, det er slut."

    clock.set(SATURDAY_10 - timedelta(minutes=40))  # an hour before would be open by default
    replies = await chat.say("anna", "/her")
    assert replies[-1].text == f"Der er ikke noget at tjekke ind til lige nu. {window}"
    clock.set(SATURDAY_10 - timedelta(minutes=29))
    assert "Velkommen" in (await chat.say("anna", "/her"))[-1].text
    clock.set(END + timedelta(minutes=44))  # after the end, still open
    assert "Velkommen" in (await chat.say("bo", "/her"))[-1].text
    clock.set(END + timedelta(minutes=46))
    assert "ikke noget at tjekke ind" in (await chat.say("cai", "/her"))[-1].text
    anna, bo = await person_of(chat, "anna"), await person_of(chat, "bo")
    assert await checked_in(chat, event) == {anna.id, bo.id}

    # the check-in QR says the same window
    await chat.say("kim", "/deltagere")
    await chat.tap("kim", f"e{event.id}")
    replies = await chat.tap("kim", "checkinqr")
    assert window in replies[-1].text
    # ticking names: until a day after checking in closed
    clock.set(END + timedelta(minutes=45) + timedelta(hours=23))
    await chat.say("kim", "/deltagere")
    await chat.tap("kim", f"e{event.id}")
    replies = await chat.tap("kim", "tick")
    assert "Tryk på navnene" in replies[-1].text
    clock.set(END + timedelta(minutes=45) + timedelta(hours=25))
    await chat.say("kim", "/deltagere")
    await chat.tap("kim", f"e{event.id}")
    replies = await chat.tap("kim", "tick")
    assert f"{window} Navne kan krydses af indtil en dag efter." in [r.text for r in replies]
