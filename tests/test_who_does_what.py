"""Who does what, as chats: names per task in /attendees and /tasks, writing to the people
of one task, and missing hands asked for again once, a while before the event, of those
coming first, then of the others invited, never of those who said no."""

from __future__ import annotations

from datetime import timedelta

from conversations.tasks.rules.pledges import TAKE
from storage.clock import FrozenClock
from tests.fakes import Chat, Delivered
from tests.test_events import answer, create_event, everyone
from tests.test_onboarding import person_of
from tests.test_pledges import take_task, tasks_of


async def test_attendees_and_tasks_show_who_took_each_task(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, tasks="medbring suppe x2\ntænde bål")
    await chat.deliver_outbox()
    soup, _fire = await tasks_of(chat, event)
    await take_task(chat, "anna", soup)
    await take_task(chat, "bo", soup)
    await chat.say("kim", "/deltagere")
    replies = await chat.tap("kim", f"e{event.id}")
    assert "medbring suppe ×2: Anna, Bo" in replies[-1].text
    assert "tænde bål ×1: – (1 mangler)" in replies[-1].text
    await chat.say("kim", "/opgaver")
    replies = await chat.tap("kim", f"e{event.id}")
    assert "(Anna, Bo)" in replies[-1].text


async def test_write_to_the_people_of_one_task(chat: Chat) -> None:
    await everyone(chat, "anna", "bo", "cai")
    event = await create_event(chat, tasks="medbring suppe x2\ntænde bål")
    await chat.deliver_outbox()
    soup, fire = await tasks_of(chat, event)
    await take_task(chat, "anna", soup)
    await take_task(chat, "bo", fire)
    await answer(chat, "cai", "yes")
    await chat.deliver_outbox()
    await chat.say("kim", "/deltagere")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", "writetask")
    asked = chat.last_question("kim")
    assert [c.id for c in asked.choices] == [f"t{soup.id}", f"t{fire.id}", "back"]
    await chat.tap("kim", f"t{soup.id}")
    await chat.say("kim", "Husk en stor gryde!")
    delivered = await chat.deliver_outbox()
    about = [d for d in delivered if "gryde" in d.message.text]
    assert [d.ref.user_id for d in about] == ["anna"]
    assert "medbring suppe" in about[0].message.text


async def test_missing_hands_are_asked_for_again_once_before_the_event(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna", "bo", "cai", "dan")
    event = await create_event(chat, tasks="tænde bål")
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "no")
    await chat.deliver_outbox()
    # three days before: not yet
    clock.set(event.starts_at - timedelta(hours=72))
    await chat.app.event_jobs.run_once()
    assert not [d for d in await chat.deliver_outbox() if "mangler en hånd" in d.message.text]
    # 47 hours before: those coming are asked first (anna), not bo who said no
    clock.set(event.starts_at - timedelta(hours=47))
    counts = await chat.app.event_jobs.run_once()
    assert counts["hands_asked"] == 1
    asked = [d for d in await chat.deliver_outbox() if "mangler en hånd" in d.message.text]
    assert [d.ref.user_id for d in asked] == ["anna"]
    # once only
    clock.set(event.starts_at - timedelta(hours=30))
    assert (await chat.app.event_jobs.run_once())["hands_asked"] == 0
    anna = await person_of(chat, "anna")
    async with chat.app.uow() as uow:
        asks = await uow.pledges.asks((await tasks_of(chat, event))[0].id)
    assert set(asks) == {anna.id}


async def test_the_job_wakes_when_hands_are_due(chat: Chat, clock: FrozenClock) -> None:
    await everyone(chat)
    event = await create_event(chat, tasks="tænde bål")
    due = await chat.app.event_jobs.next_due_at()
    assert due is not None
    assert due <= event.starts_at - timedelta(hours=48)


async def test_the_attendee_list_as_a_printable_sign_in_sheet_and_csv(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    await chat.onboard("zoë", name="Zoë Ærø", language="en")
    event = await create_event(chat, guests=True, tasks="medbring suppe x2")
    await chat.deliver_outbox()
    (soup,) = await tasks_of(chat, event)
    await answer(chat, "anna", "yes")
    await answer(chat, "anna", "guest")
    await take_task(chat, "anna", soup)
    await answer(chat, "zoë", "yes")
    await answer(chat, "bo", "no")
    await chat.say("kim", "/deltagere")
    await chat.tap("kim", f"e{event.id}")
    replies = await chat.tap("kim", "sheet")
    pdf, table = (m.attachment for m in replies[-2:])
    assert pdf is not None
    assert table is not None
    assert pdf.mime_type == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "krydse af" in replies[-2].text  # in the coordinator's language
    rows = table.content.decode("utf-8-sig").splitlines()
    assert rows[0] == "Navn,Gæster,Opgave,Tjekket ind"
    assert rows[1:] == ["Anna,1,medbring suppe,", "Zoë Ærø,0,,"]  # bo said no
    assert b"/Count 1" in pdf.content  # two names and the empty lines fit one A4 page
    # Zoë Ærø's letters are drawn: the embedded font holds their glyphs
    assert b"/edieresis" in pdf.content
    assert b"/AE" in pdf.content


def asked_for_hands(delivered: list[Delivered]) -> list[tuple[str, str]]:
    """Who was asked for which task (by the ask's first line), in order."""
    return sorted(
        (d.ref.user_id, d.message.text.split(": ")[1].split(".")[0])
        for d in delivered
        if "mangler en hånd" in d.message.text
    )


async def test_missing_hands_are_asked_of_those_coming_then_of_the_audience(
    backend_chat: Chat, clock: FrozenClock
) -> None:
    chat = backend_chat
    await everyone(chat, "anna", "bo", "cai", "dan")
    event = await create_event(chat, tasks="tænde bål x2\nmedbring kage")
    await chat.deliver_outbox()
    _fire, cake = await tasks_of(chat, event)
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "no")
    await answer(chat, "cai", "maybe")  # dan never answers
    await chat.deliver_outbox()

    # step one, 47 hours before: only those coming, for both tasks
    clock.set(event.starts_at - timedelta(hours=47))
    assert (await chat.app.event_jobs.run_once())["hands_asked"] == 2
    delivered = await chat.deliver_outbox()
    assert asked_for_hands(delivered) == [("anna", "medbring kage"), ("anna", "tænde bål")]
    [cake_ask] = [d.message for d in delivered if "medbring kage" in d.message.text]
    assert cake_ask.prompt_id is not None
    await chat.press("anna", cake_ask.prompt_id, TAKE.of(cake.id))  # anna brings the cake
    # nothing more until the second step is due
    clock.set(event.starts_at - timedelta(hours=30))
    assert (await chat.app.event_jobs.run_once())["hands_asked"] == 0
    due = await chat.app.event_jobs.next_due_at(after=clock.now())
    assert due == event.starts_at - timedelta(hours=24)

    # step two, 23 hours before: the others invited, for the task still missing hands only;
    # never bo (he said no), nor anna again
    clock.set(event.starts_at - timedelta(hours=23))
    assert (await chat.app.event_jobs.run_once())["hands_asked"] == 2
    delivered = await chat.deliver_outbox()
    assert asked_for_hands(delivered) == [("cai", "tænde bål"), ("dan", "tænde bål")]
    # once
    clock.set(event.starts_at - timedelta(hours=3))
    assert (await chat.app.event_jobs.run_once())["hands_asked"] == 0
    assert asked_for_hands(await chat.deliver_outbox()) == []


async def test_with_nobody_coming_the_audience_is_asked_at_once(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "bo", "cai")
    event = await create_event(chat, tasks="tænde bål")
    await chat.deliver_outbox()
    await answer(chat, "bo", "no")
    clock.set(event.starts_at - timedelta(hours=47))
    assert (await chat.app.event_jobs.run_once())["hands_asked"] == 1
    assert asked_for_hands(await chat.deliver_outbox()) == [("cai", "tænde bål")]
    clock.set(event.starts_at - timedelta(hours=23))
    assert (await chat.app.event_jobs.run_once())["hands_asked"] == 0
