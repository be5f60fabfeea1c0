"""Tasks on an event: pledge, let go, full tasks, asking again, and organisers changing tasks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from conversations.core.messages import OutMessage
from conversations.tasks.flows.manage_tasks import TASK, ManageTasks, ManageTasksData
from conversations.tasks.rules.pledges import LET_GO, NOT_THIS_TIME, TAKE
from storage.clock import FrozenClock
from storage.models import Event, EventTask, Pledge, TaskAsk
from tests.fakes import Chat
from tests.test_events import answer, create_event, everyone, invitation_for, rsvp_of
from tests.test_onboarding import person_of


async def tasks_of(chat: Chat, event: Event) -> list[EventTask]:
    async with chat.app.uow() as uow:
        return list(await uow.events.tasks(event.id))


async def open_tasks(chat: Chat, user: str) -> OutMessage:
    replies = await answer(chat, user, "tasks")
    assert replies, f"{user} got no task list"
    return replies[-1]


async def take_task(chat: Chat, user: str, task: EventTask) -> list[OutMessage]:
    listing = await open_tasks(chat, user)
    assert listing.prompt_id is not None
    return await chat.press(user, listing.prompt_id, f"t{task.id}")


async def active_pledges(chat: Chat, task: EventTask) -> list[int]:
    async with chat.app.uow() as uow:
        return await uow.pledges.pledgers(task.id)


async def test_pledge_a_task_and_see_hands_missing(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, tasks="medbring suppe x2\ntænde bål")
    await chat.deliver_outbox()
    invitation = await invitation_for(chat, "anna")
    assert "Tæl mig med til en opgave" in [c.label for c in invitation.choices]
    soup, fire = await tasks_of(chat, event)
    listing = await open_tasks(chat, "anna")
    assert "medbring suppe (2 mangler)" in listing.text
    replies = await chat.press("anna", listing.prompt_id or "", f"t{soup.id}")
    assert "medbring suppe" in replies[-1].text
    anna = await person_of(chat, "anna")
    assert await active_pledges(chat, soup) == [anna.id]
    # taking a task means coming
    rsvp = await rsvp_of(chat, event, "anna")
    assert rsvp is not None
    assert rsvp.answer == "yes"
    # bo now sees one hand missing on the soup
    listing = await open_tasks(chat, "bo")
    assert "medbring suppe (1 mangler)" in listing.text
    # taking it twice changes nothing
    await take_task(chat, "anna", fire)
    replies = await chat.press("anna", listing.prompt_id or "", f"t{soup.id}")
    assert await active_pledges(chat, soup) == [anna.id]


async def test_pledged_task_is_in_the_reminder(chat: Chat, clock: FrozenClock) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat, tasks="medbring suppe x3")
    await chat.deliver_outbox()
    (soup,) = await tasks_of(chat, event)
    await take_task(chat, "anna", soup)
    clock.set(event.starts_at - timedelta(hours=23))
    await chat.app.event_jobs.run_once()
    delivered = await chat.deliver_outbox()
    reminder = [d for d in delivered if d.ref.user_id == "anna"][-1].message.text
    assert "Din opgave: medbring suppe" in reminder


async def test_withdraw_early_frees_the_hand_quietly(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, tasks="tænde bål")
    await chat.deliver_outbox()
    (fire,) = await tasks_of(chat, event)
    await take_task(chat, "anna", fire)
    listing = await open_tasks(chat, "anna")
    assert any(c.id == f"w{fire.id}" for c in listing.choices)
    replies = await chat.press("anna", listing.prompt_id or "", f"w{fire.id}")
    assert "tænde bål" in replies[-1].text
    assert await active_pledges(chat, fire) == []
    # days before the event: nobody is bothered
    assert await chat.deliver_outbox() == []


async def test_full_task_takes_no_more_pledges(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, tasks="tænde bål")
    await chat.deliver_outbox()
    (fire,) = await tasks_of(chat, event)
    bo_listing = await open_tasks(chat, "bo")  # bo opens the list before anna takes it
    await take_task(chat, "anna", fire)
    replies = await chat.press("bo", bo_listing.prompt_id or "", f"t{fire.id}")
    assert "hurtigere" in replies[-1].text
    anna = await person_of(chat, "anna")
    assert await active_pledges(chat, fire) == [anna.id]


async def test_two_people_racing_for_the_last_hand(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, tasks="tænde bål")
    await chat.deliver_outbox()
    (fire,) = await tasks_of(chat, event)
    anna, bo = await open_tasks(chat, "anna"), await open_tasks(chat, "bo")
    await asyncio.gather(
        chat.press("anna", anna.prompt_id or "", f"t{fire.id}"),
        chat.press("bo", bo.prompt_id or "", f"t{fire.id}"),
    )
    assert len(await active_pledges(chat, fire)) == 1


async def test_forged_task_button_is_refused(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, tasks="tænde bål")
    await chat.deliver_outbox()
    (fire,) = await tasks_of(chat, event)
    anna = await open_tasks(chat, "anna")
    # bo presses anna's prompt, and anna presses a choice her list never had
    await chat.press("bo", anna.prompt_id or "", f"t{fire.id}")
    await chat.press("anna", anna.prompt_id or "", f"t{fire.id + 99}")
    assert await active_pledges(chat, fire) == []


async def test_late_withdrawal_asks_again_once_and_never_decliners(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna", "bo", "cai", "dan")
    event = await create_event(chat, tasks="tænde bål")
    await chat.deliver_outbox()
    (fire,) = await tasks_of(chat, event)
    await answer(chat, "bo", "yes")
    await answer(chat, "cai", "yes")
    # cai had said no to the fire task when asked before
    async with chat.app.uow() as uow:
        cai = await person_of(chat, "cai")
        await uow.pledges.note_ask(fire.id, cai.id, declined=True)
        await uow.commit()
    await take_task(chat, "anna", fire)
    clock.set(event.starts_at - timedelta(hours=20))
    listing = await open_tasks(chat, "anna")
    await chat.press("anna", listing.prompt_id or "", f"w{fire.id}")
    delivered = await chat.deliver_outbox()
    to = {d.ref.user_id: d.message for d in delivered}
    assert "kim" in to
    assert "tænde bål" in to["kim"].text
    # first those coming: bo; not cai (declined), not anna (let it go), not dan (not coming)
    assert "bo" in to
    assert "tænde bål" in to["bo"].text
    assert "cai" not in to
    assert "anna" not in to
    assert "dan" not in to

    # bo says not this time; the next one to let go asks the rest, never bo again
    await chat.press("bo", to["bo"].prompt_id or "", f"n{fire.id}")
    await take_task(chat, "dan", fire)
    listing = await open_tasks(chat, "dan")
    await chat.press("dan", listing.prompt_id or "", f"w{fire.id}")
    delivered = await chat.deliver_outbox()
    asked = {d.ref.user_id for d in delivered if f"t{fire.id}" in [c.id for c in d.message.choices]}
    assert asked == set()  # bo declined, cai declined, anna and dan let it go
    async with chat.app.uow() as uow:
        rows = (await uow.session.execute(select(TaskAsk))).scalars().all()
        assert all(r.asked_at is None or r.person_id != cai.id for r in rows)


async def test_asked_person_can_take_the_hand(chat: Chat, clock: FrozenClock) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, tasks="tænde bål")
    await chat.deliver_outbox()
    (fire,) = await tasks_of(chat, event)
    await take_task(chat, "anna", fire)
    clock.set(event.starts_at - timedelta(hours=10))
    listing = await open_tasks(chat, "anna")
    await chat.press("anna", listing.prompt_id or "", f"w{fire.id}")
    delivered = await chat.deliver_outbox()
    ask = next(d.message for d in delivered if d.ref.user_id == "bo")  # the audience tier
    await chat.press("bo", ask.prompt_id or "", f"t{fire.id}")
    bo = await person_of(chat, "bo")
    assert await active_pledges(chat, fire) == [bo.id]


async def test_organiser_changes_and_closes_a_task_and_pledgers_are_told(chat: Chat) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat, tasks="medbring suppe x3")
    await chat.deliver_outbox()
    (soup,) = await tasks_of(chat, event)
    await take_task(chat, "anna", soup)
    await chat.say("kim", "/opgaver")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", f"t{soup.id}")
    await chat.tap("kim", "rename")
    await chat.say("kim", "medbring varm suppe")
    await chat.tap("kim", f"t{soup.id}")
    await chat.tap("kim", "hands")
    await chat.say("kim", "2")
    await chat.tap("kim", "add")
    await chat.say("kim", "bære hængekøjer x2")
    await chat.tap("kim", f"t{soup.id}")
    await chat.tap("kim", "close")
    delivered = [d.message.text for d in await chat.deliver_outbox() if d.ref.user_id == "anna"]
    assert any("medbring suppe → medbring varm suppe" in t for t in delivered)
    assert any("2" in t and "medbring varm suppe" in t for t in delivered)
    assert any("ikke længere brug for medbring varm suppe" in t for t in delivered)
    assert await active_pledges(chat, soup) == []
    tasks = await tasks_of(chat, event)
    assert [t.title for t in tasks if t.closed_at is None] == ["bære hængekøjer"]


async def test_citizen_cannot_manage_someone_elses_tasks(chat: Chat) -> None:
    await everyone(chat, "anna")
    await create_event(chat, tasks="medbring suppe x3")
    replies = await chat.say("anna", "/opgaver")
    assert "initiativ" in replies[-1].text


async def test_forget_anonymises_pledges_and_frees_the_hand(chat: Chat) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat, tasks="tænde bål")
    await chat.deliver_outbox()
    (fire,) = await tasks_of(chat, event)
    await take_task(chat, "anna", fire)
    await chat.say("anna", "/glem")
    await chat.tap("anna", "delete")
    async with chat.app.uow() as uow:
        rows = (await uow.session.execute(select(Pledge))).scalars().all()
        assert [r.person_id for r in rows] == [None]  # the count stays, the name goes
        assert await uow.pledges.held(fire.id) == 0


async def test_saying_no_lets_go_of_the_tasks(chat: Chat) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat, tasks="tænde bål")
    await chat.deliver_outbox()
    (fire,) = await tasks_of(chat, event)
    await take_task(chat, "anna", fire)
    replies = await answer(chat, "anna", "no")
    assert "tænde bål" in replies[-1].text
    assert await active_pledges(chat, fire) == []


def test_task_conversations_stored_before_typed_data_still_load() -> None:
    flow = ManageTasks()
    data = flow.load({"event_id": 3, "task_id": 7})
    assert data == ManageTasksData(event_id=3, task_id=7)
    assert data.stored() == {"event_id": 3, "task_id": 7}  # the same keys as before
    assert flow.load({}).stored() == {}


def test_task_button_ids_stay_as_stored_prompts_have_them() -> None:
    assert [TAKE.of(3), LET_GO.of(3), NOT_THIS_TIME.of(3), TASK.of(3)] == ["t3", "w3", "n3", "t3"]
    assert [TAKE.parse("t3"), LET_GO.parse("w3"), NOT_THIS_TIME.parse("n3")] == [3, 3, 3]
    assert TAKE.parse("w3") is None
    assert TAKE.parse("t3x") is None
    assert LET_GO.parse("w") is None


async def test_a_task_change_stored_before_typed_data_goes_on(chat: Chat) -> None:
    await everyone(chat)
    event = await create_event(chat, tasks="tænde bål")
    (fire,) = await tasks_of(chat, event)
    await chat.say("kim", "/opgaver")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", f"t{fire.id}")
    await chat.tap("kim", "hands")
    async with chat.app.uow() as uow:  # as an older version left it: ids as they came
        ref = chat.ref("kim")
        conversation = await uow.conversations.get(ref.platform, ref.chat_id, ref.user_id)
        assert conversation is not None
        assert conversation.data == {"event_id": event.id, "task_id": fire.id}
        conversation.data = {"event_id": str(event.id), "task_id": fire.id}
        await uow.commit()
    replies = await chat.say("kim", "3")
    assert "tænde bål: 0 af 3 hænder" in replies[-1].text


def test_a_typed_number_is_only_ascii_digits() -> None:
    from conversations.core.words import whole_number

    assert whole_number(" 3 ") == 3
    assert whole_number("50", at_most=50) == 50
    for not_a_number in ("", "²", "١٢", "3.5", "-2", "51x", "9" * 30):
        assert whole_number(not_a_number, at_most=50) is None
    assert whole_number("51", at_most=50) is None
