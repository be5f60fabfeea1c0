"""Running an event together, as chats: the creator adds a co-organiser (a citizen who is
coming, or another coordinator); they see who comes, write to them and read the report,
everything they do is logged; they cannot edit or cancel; and /report before the start
shows how it looks now."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from storage.clock import FrozenClock
from storage.models import OrganiserAction
from tests.fakes import Chat
from tests.test_events import SATURDAY_10, answer, create_event, everyone, invitation_for
from tests.test_onboarding import person_of
from tests.test_pledges import take_task, tasks_of


async def make_coordinator(chat: Chat, user: str) -> None:
    person = await person_of(chat, user)
    async with chat.app.uow() as uow:
        stored = await uow.persons.get(person.id)
        assert stored is not None
        await uow.persons.set_role(stored, "coordinator")
        await uow.commit()


async def add_helper(chat: Chat, event_id: int, user: str) -> None:
    helper = await person_of(chat, user)
    await chat.say("kim", "/medarrangoerer")
    await chat.tap("kim", f"e{event_id}")
    await chat.tap("kim", "add")
    await chat.tap("kim", f"a{helper.id}")


async def logged(chat: Chat) -> list[str]:
    async with chat.app.uow() as uow:
        rows = await uow.session.execute(select(OrganiserAction).order_by(OrganiserAction.id))
        return [row.action for row in rows.scalars()]


async def test_a_citizen_helper_sees_and_writes_to_those_coming_and_it_is_logged(
    chat: Chat,
) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")
    await add_helper(chat, event.id, "anna")
    assert "Anna" in chat.last_question("kim").text  # the list of helpers
    await chat.tap("kim", "done")
    delivered = await chat.deliver_outbox()
    told = next(d.message for d in delivered if d.ref.user_id == "anna")
    assert "Kim" in told.text
    assert "Skovtur med suppe" in told.text
    assert told.prompt_id is not None
    # anna, a citizen, opens the list from her button (typing /deltagere: see below)
    replies = await chat.press("anna", told.prompt_id, "list")
    assert "Bo" in replies[-1].text
    await chat.tap("anna", "write")
    await chat.say("anna", "Vi mødes ved bålet!")
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered if "bålet" in d.message.text] == ["bo"]
    assert await logged(chat) == ["viewed", "wrote"]
    # and from her list, the report (before the start: how it looks now)
    replies = await chat.press("anna", told.prompt_id, "list")
    replies = await chat.tap("anna", "report")
    assert "sådan ser det ud nu" in replies[-1].text
    assert "Kommer (2): Anna, Bo" in replies[-1].text
    assert await logged(chat) == ["viewed", "wrote", "viewed", "report"]
    # the creator reads what she did
    await chat.say("kim", "/coorganisers")
    replies = await chat.tap("kim", f"e{event.id}")
    assert "Anna skrev til dem, der kommer" in replies[-1].text
    # she cannot change or cancel it: those tools are for the creator and admins
    replies = await chat.say("anna", "/aflys")
    assert "koordinator" in replies[-1].text.lower()


async def test_a_coordinator_co_organiser_reads_the_live_report_but_cannot_cancel(
    chat: Chat,
) -> None:
    await everyone(chat, "anna", "bo", "lea")
    await make_coordinator(chat, "lea")
    event = await create_event(chat, capacity=1, tasks="medbring suppe x2")
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")  # full: bo waits
    [soup] = await tasks_of(chat, event)
    await take_task(chat, "anna", soup)
    # before lea is added she sees no report on kim's event
    replies = await chat.say("lea", "/rapport")
    assert not replies[-1].choices
    await add_helper(chat, event.id, "lea")
    await chat.say("lea", "/rapport")
    replies = await chat.tap("lea", f"e{event.id}")
    live = replies[-1].text
    assert "sådan ser det ud nu" in live
    assert "Kommer (1): Anna" in live
    assert "Venteliste (1): Bo" in live
    assert "medbring suppe ×2: Anna (1 mangler)" in live
    assert await logged(chat) == ["report"]
    # lea's cancel tool lists none of kim's events
    replies = await chat.say("lea", "/aflys")
    assert not replies[-1].choices
    # taken off, she sees no more
    lea = await person_of(chat, "lea")
    await chat.say("kim", "/coorganisers")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", f"x{lea.id}")
    replies = await chat.say("lea", "/rapport")
    assert not replies[-1].choices


async def test_only_a_candidate_can_be_added(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await chat.say("kim", "/coorganisers")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", "add")
    asked = chat.last_question("kim")
    bo = await person_of(chat, "bo")
    assert f"a{bo.id}" not in [c.id for c in asked.choices]  # bo did not say yes
    assert asked.prompt_id is not None
    await chat.press("kim", asked.prompt_id, f"a{bo.id}")
    async with chat.app.uow() as uow:
        assert not await uow.organisers.is_organiser(event.id, bo.id)
    # a citizen cannot open the tool at all
    replies = await chat.say("anna", "/coorganisers")
    assert "koordinator" in replies[-1].text.lower()
    assert (await invitation_for(chat, "bo")).prompt_id is not None


async def test_mydata_shows_and_forget_removes_helping_and_checking_in(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await add_helper(chat, event.id, "anna")
    clock.set(SATURDAY_10)
    await chat.say("anna", "/her")
    replies = await chat.say("anna", "/minedata")
    exported = json.loads(replies[-1].attachment.content)  # type: ignore[union-attr]
    assert [row["event_id"] for row in exported["event_organisers"]] == [event.id]
    assert [row["via"] for row in exported["check_ins"]] == ["self"]
    await chat.say("anna", "/glem")
    await chat.tap("anna", "delete")
    async with chat.app.uow() as uow:
        assert await uow.organisers.organisers(event.id) == []
        assert await uow.check_ins.count(event.id) == 1  # how many came stays, no name
        assert await uow.check_ins.checked_in(event.id) == set()


async def test_a_citizen_co_organiser_reaches_her_tools_by_command_only_on_her_events(
    backend_chat: Chat, clock: FrozenClock
) -> None:
    chat = backend_chat
    await everyone(chat, "anna", "bo", "cai")
    event = await create_event(chat, tasks="tænde bål x2")
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")
    [fire] = await tasks_of(chat, event)
    await take_task(chat, "bo", fire)
    other = await create_event(chat, when="søndag kl 10-12")  # kim's, anna does not help
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")  # she is coming to that one too
    # before she is added, a citizen gets the coordinators' answer
    for command in ("/deltagere", "/rapport"):
        replies = await chat.say("anna", command)
        assert "koordinator" in replies[-1].text.lower()
    await add_helper(chat, event.id, "anna")
    await chat.tap("kim", "done")
    await chat.deliver_outbox()

    # /deltagere: only her event is offered, and a forged tap on kim's other one is refused
    replies = await chat.say("anna", "/deltagere")
    assert [c.id for c in replies[-1].choices] == [f"e{event.id}"]
    asked = replies[-1]
    assert asked.prompt_id is not None
    refused = await chat.press("anna", asked.prompt_id, f"e{other.id}")
    assert "Bo" not in "".join(r.text for r in refused)
    replies = await chat.tap("anna", f"e{event.id}")
    assert "Bo" in replies[-1].text
    # checking people in, from the list, once it is open
    clock.set(SATURDAY_10)
    await chat.say("anna", "/deltagere")
    await chat.tap("anna", f"e{event.id}")
    await chat.tap("anna", "tick")
    bo = await person_of(chat, "bo")
    await chat.tap("anna", f"p{bo.id}")
    async with chat.app.uow() as uow:
        assert await uow.check_ins.checked_in(event.id) == {bo.id}
    await chat.tap("anna", "done")

    # /opgaver: she reads who does what, and nothing there changes a task
    replies = await chat.say("anna", "/opgaver")
    assert [c.id for c in replies[-1].choices] == [f"e{event.id}"]
    replies = await chat.tap("anna", f"e{event.id}")
    listed = replies[-1]
    assert "tænde bål: 1 af 2 hænder (Bo)" in listed.text
    assert "Det er kun arrangøren, der kan ændre opgaverne." in listed.text
    assert [c.id for c in listed.choices] == ["done"]
    assert listed.prompt_id is not None
    await chat.press("anna", listed.prompt_id, f"t{fire.id}")  # a forged tap on the task
    async with chat.app.uow() as uow:
        [still] = await uow.events.tasks(event.id)
        assert (still.title, still.hands, still.closed_at) == ("tænde bål", 2, None)

    # /rapport: her event's live view; kim's other event is not hers to read
    clock.set(SATURDAY_10 - timedelta(hours=1))
    replies = await chat.say("anna", "/rapport")
    assert [c.id for c in replies[-1].choices] == [f"e{event.id}"]
    asked = replies[-1]
    assert asked.prompt_id is not None
    replies = await chat.press("anna", asked.prompt_id, f"e{other.id}")  # not offered
    assert "sådan ser det ud nu" not in "".join(r.text for r in replies)
    await chat.say("anna", "/rapport")
    replies = await chat.tap("anna", f"e{event.id}")
    assert "sådan ser det ud nu" in replies[-1].text
    # she never edits or cancels
    for command in ("/retarrangement", "/aflys", "/medarrangoerer"):
        replies = await chat.say("anna", command)
        assert "koordinator" in replies[-1].text.lower()
    assert "tasks" in await logged(chat)
    assert "checked_in" in await logged(chat)
