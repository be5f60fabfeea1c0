"""Initiatives by everyday activists: posting, the list, push limits, backing, hiding, and who
may do what."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.clock import FrozenClock
from storage.models import Event, EventStatus, ModerationLog, PushState
from tests.fakes import Chat
from tests.test_onboarding import person_of


async def hears_initiatives(chat: Chat, user: str) -> None:
    await chat.say(user, "/indstillinger initiativer")
    await chat.tap(user, "yes")


async def people(chat: Chat, *hearing: str, others: tuple[str, ...] = ()) -> None:
    await chat.onboard("kim", name="Kim")
    await chat.onboard("anna", name="Anna")
    for user in (*hearing, *others):
        await chat.onboard(user, name=user.capitalize())
    for user in hearing:
        await hears_initiatives(chat, user)


async def post_initiative(
    chat: Chat,
    user: str = "anna",
    *,
    title: str = "Bålaften i parken",
    idea: bool = False,
    tasks: str | None = "medbring kage x2",
) -> Event:
    await chat.say(user, "/initiativ")
    await chat.say(user, title)
    await chat.say(user, "Vi tænder bål og hygger.")
    if idea:
        await chat.tap(user, "idea")
    else:
        await chat.say(user, "lørdag kl 18-21")
    await chat.say(user, "Byparken")
    if tasks:
        await chat.say(user, tasks)
    await chat.tap(user, "done")  # tasks
    await chat.tap(user, "done")  # topics: none, so everyone who wants to hear
    await chat.tap(user, "publish")
    async with chat.app.uow() as uow:
        event = (
            (await uow.session.execute(select(Event).order_by(Event.id.desc()))).scalars().first()
        )
    assert event is not None
    return event


async def reload(chat: Chat, event: Event) -> Event:
    async with chat.app.uow() as uow:
        fresh = await uow.events.get(event.id)
    assert fresh is not None
    return fresh


async def moderation(chat: Chat, event: Event) -> list[tuple[str, str]]:
    async with chat.app.uow() as uow:
        rows = (
            (
                await uow.session.execute(
                    select(ModerationLog).where(ModerationLog.event_id == event.id)
                )
            )
            .scalars()
            .all()
        )
        return [(r.action, r.reason) for r in rows]


async def open_as(chat: Chat, user: str, event: Event) -> list:  # type: ignore[type-arg]
    await chat.say(user, "/initiativer")
    return await chat.tap(user, f"i{event.id}")


async def approve(chat: Chat, event: Event) -> None:
    await open_as(chat, "kim", event)
    await chat.tap("kim", "approve")


async def test_posting_lists_at_once_and_the_first_push_waits_for_a_coordinator(
    chat: Chat,
) -> None:
    await people(chat, "bo", "cai", others=("dan",))
    event = await post_initiative(chat)
    assert "/start ev_" in chat.last_text("anna")
    assert "koordinator" in chat.last_text("anna")
    assert event.origin == "initiative"
    assert event.status == EventStatus.PUBLISHED
    assert event.push_state == PushState.AWAITING_APPROVAL
    # nobody is pushed yet; only the coordinator hears that it waits
    assert [d.ref.user_id for d in await chat.deliver_outbox()] == ["kim"]

    # listed at once: bo opens it and says yes, and takes a task, as for events
    replies = await open_as(chat, "bo", event)
    invitation = replies[-1]
    assert "Bålaften i parken" in invitation.text
    assert "medbring kage" in invitation.text
    assert not any(c.id in ("back", "hide", "approve") for r in replies for c in r.choices)
    await chat.press("bo", invitation.prompt_id or "", "yes")
    async with chat.app.uow() as uow:
        bo = await person_of(chat, "bo")
        rsvp = await uow.events.rsvp(event.id, bo.id)
        assert rsvp is not None
        assert rsvp.answer == "yes"

    # the coordinator sees the queue and approves: those who want to hear get it
    await chat.say("kim", "/initiativer")
    assert "⏳" in chat.last_question("kim").text
    await approve(chat, event)
    delivered = await chat.deliver_outbox()
    assert {d.ref.user_id for d in delivered} == {"bo", "cai"}  # not dan, not the author
    assert (await reload(chat, event)).push_state == PushState.PUSHED
    assert [a for a, _ in await moderation(chat, event)] == ["approve"]


async def test_second_push_the_same_day_waits_for_the_next_day(
    chat: Chat, clock: FrozenClock
) -> None:
    await people(chat, "cai")
    first = await post_initiative(chat)
    await approve(chat, first)
    await chat.deliver_outbox()
    clock.advance(timedelta(hours=2))
    second = await post_initiative(chat, title="Kagebord ved søen")
    assert second.push_state == PushState.DEFERRED
    assert "i dag" in chat.last_text("anna")
    assert await chat.deliver_outbox() == []
    await chat.app.event_jobs.run_once()
    assert await chat.deliver_outbox() == []
    clock.advance(timedelta(hours=22, minutes=1))
    counts = await chat.app.event_jobs.run_once()
    assert counts["initiatives_pushed"] == 1
    delivered = await chat.deliver_outbox()
    assert any(d.ref.user_id == "cai" and "Kagebord" in d.message.text for d in delivered)


async def test_an_idea_without_a_date(chat: Chat) -> None:
    await people(chat, "bo")
    event = await post_initiative(chat, title="Fælles køkkenhave", idea=True, tasks=None)
    assert event.idea
    replies = await open_as(chat, "bo", event)
    assert "En idé" in replies[-1].text


async def test_coordinator_backs_with_a_note_and_pushes_it_wider(chat: Chat) -> None:
    await people(chat, "bo")
    event = await post_initiative(chat)
    await open_as(chat, "kim", event)
    await chat.tap("kim", "back")
    await chat.say("kim", "Vi giver brænde og kaffe")
    await chat.tap("kim", "yes")
    delivered = await chat.deliver_outbox()
    told = [d.message.text for d in delivered if d.ref.user_id == "anna"]
    assert any("støtter" in t and "brænde og kaffe" in t for t in told)
    invitation = next(d.message for d in delivered if d.ref.user_id == "bo")
    assert "Støttet af kommunen" in invitation.text
    assert "brænde og kaffe" in invitation.text
    actions = [a for a, _ in await moderation(chat, event)]
    assert actions == ["back", "approve", "push_wider"]
    fresh = await reload(chat, event)
    kim = await person_of(chat, "kim")
    assert fresh.backed_by_id == kim.id


async def test_coordinator_hides_and_the_author_is_told_why(chat: Chat) -> None:
    await people(chat, "bo")
    event = await post_initiative(chat)
    bo_view = await open_as(chat, "bo", event)
    await open_as(chat, "kim", event)
    await chat.tap("kim", "hide")
    await chat.say("kim", "Parken er lukket for bål i sommer.")
    delivered = await chat.deliver_outbox()
    (told,) = [d.message.text for d in delivered if d.ref.user_id == "anna"]
    assert "Parken er lukket for bål i sommer." in told
    assert not any(d.ref.user_id == "bo" for d in delivered)  # bo only looked
    assert (await reload(chat, event)).status == EventStatus.HIDDEN
    assert await moderation(chat, event) == [("hide", "Parken er lukket for bål i sommer.")]
    replies = await chat.say("bo", "/initiativer")
    assert "Bålaften" not in replies[-1].text
    await chat.press("bo", bo_view[-1].prompt_id or "", "yes")  # an old invitation
    async with chat.app.uow() as uow:
        bo = await person_of(chat, "bo")
        assert await uow.events.rsvp(event.id, bo.id) is None


async def test_a_citizen_cannot_back_approve_or_hide(chat: Chat) -> None:
    await people(chat, "bo")
    event = await post_initiative(chat)
    await open_as(chat, "kim", event)
    moderation_prompt = chat.last_question("kim").prompt_id or ""
    for choice in ("approve", "back", "hide"):
        await chat.press("bo", moderation_prompt, choice)  # kim's buttons, pressed by bo
        await chat.press("anna", moderation_prompt, choice)  # nor the author
    fresh = await reload(chat, event)
    assert fresh.push_state == PushState.AWAITING_APPROVAL
    assert fresh.backed_by_id is None
    assert fresh.status == EventStatus.PUBLISHED
    assert await moderation(chat, event) == []


async def test_author_sees_who_joins_and_no_one_else_can(chat: Chat) -> None:
    await people(chat, "bo")
    event = await post_initiative(chat)
    replies = await open_as(chat, "bo", event)
    await chat.press("bo", replies[-1].prompt_id or "", "yes")
    await chat.say("anna", "/mineinitiativer")
    view = await chat.tap("anna", f"e{event.id}")
    assert "Bo" in view[-1].text
    anna_prompt = chat.last_question("anna").prompt_id or ""

    # bo has none of his own, and can't use anna's view or change her tasks
    replies = await chat.say("bo", "/mineinitiativer")
    assert "ingen initiativer" in replies[-1].text.lower()
    await chat.press("bo", anna_prompt, "write")
    replies = await chat.say("bo", "/opgaver")
    assert "Bålaften" not in replies[-1].text
    # the author manages her own tasks
    await chat.say("anna", "/opgaver")
    listing = await chat.tap("anna", f"e{event.id}")
    assert "medbring kage" in listing[-1].text


async def test_author_is_reminded_like_those_coming(chat: Chat, clock: FrozenClock) -> None:
    await people(chat)
    event = await post_initiative(chat)
    clock.set(event.starts_at - timedelta(hours=23))
    await chat.app.event_jobs.run_once()
    delivered = await chat.deliver_outbox()
    assert any(d.ref.user_id == "anna" and "Bålaften" in d.message.text for d in delivered)


async def test_push_goes_to_those_who_chose_its_area(chat: Chat) -> None:
    await people(chat, "cai", "dan")
    await chat.say("cai", "/indstillinger omraader")
    await chat.tap("cai", "Nord")
    await chat.tap("cai", "done")
    await chat.say("dan", "/indstillinger omraader")
    await chat.tap("dan", "Syd")
    await chat.tap("dan", "done")
    await chat.say("anna", "/initiativ")
    await chat.say("anna", "Loppemarked")
    await chat.tap("anna", "skip")
    await chat.say("anna", "lørdag kl 10-14")
    await chat.tap("anna", "skip")  # no place yet
    await chat.tap("anna", "done")  # no tasks
    await chat.tap("anna", "Nord")
    await chat.tap("anna", "done")
    assert "Nord" in chat.last_question("anna").text  # the preview names the area
    await chat.tap("anna", "publish")
    async with chat.app.uow() as uow:
        (event,) = await uow.initiatives.initiatives_by((await person_of(chat, "anna")).id)
    await chat.deliver_outbox()  # the coordinator hears of the queue
    await approve(chat, event)
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["cai"]


async def test_coordinators_by_any_route_hear_of_the_queue(chat: Chat) -> None:
    # kim is named in the settings, and so is the admin; lis is granted the role (as on
    # the command line), bo redeems a code; dan is a citizen
    await people(chat, others=("lis", "bo", "dan", "admin"))
    async with chat.app.uow() as uow:
        lis = await uow.persons.get((await person_of(chat, "lis")).id)
        assert lis is not None
        await uow.persons.set_role(lis, "coordinator")
        code = await uow.invites.create(
            "coordinator", valid_for=timedelta(days=1), created_by=None, note=None
        )
        await uow.commit()
    await chat.say("bo", f"/koordinator {code}")
    await post_initiative(chat)
    delivered = await chat.deliver_outbox()
    assert sorted(d.ref.user_id for d in delivered) == ["admin", "bo", "kim", "lis"]
    assert all("Bålaften i parken" in d.message.text for d in delivered)


async def hide(chat: Chat, event: Event, reason: str, coordinator: str = "kim") -> None:
    await open_as(chat, coordinator, event)
    await chat.tap(coordinator, "hide")
    await chat.say(coordinator, reason)


async def show_again_from_the_hidden_list(
    chat: Chat, event: Event, coordinator: str = "kim"
) -> list:  # type: ignore[type-arg]
    await chat.say(coordinator, "/initiativer")
    listing = await chat.tap(coordinator, "hidden")
    assert event.title in listing[-1].text
    await chat.tap(coordinator, f"i{event.id}")
    return await chat.tap(coordinator, "unhide")


async def test_a_hidden_initiative_is_shown_again_and_those_concerned_are_told(
    chat: Chat,
) -> None:
    await people(chat, "cai", others=("bo",))
    event = await post_initiative(chat)
    await approve(chat, event)
    await chat.deliver_outbox()  # cai hears of it
    joined = await open_as(chat, "bo", event)
    await chat.press("bo", joined[-1].prompt_id or "", "yes")
    await hide(chat, event, "Vi skal lige tale om bålet.")
    await chat.deliver_outbox()
    bo = await person_of(chat, "bo")
    async with chat.app.uow() as uow:
        assert all(r.status == "cancelled" for r in await uow.events.reminders_of(event.id, bo.id))

    await chat.say("kim", "/initiativer")
    assert "skjult" in chat.last_question("kim").text
    replies = await show_again_from_the_hidden_list(chat, event)
    assert "Vist igen" in replies[0].text
    assert not any(c.id == "unhide" for c in replies[-1].choices)  # now it can be hidden again
    assert any(c.id == "hide" for c in replies[-1].choices)

    fresh = await reload(chat, event)
    assert fresh.status == EventStatus.PUBLISHED
    assert fresh.hidden_reason is None
    assert fresh.push_state == PushState.PUSHED
    assert [a for a, _ in await moderation(chat, event)] == ["approve", "hide", "unhide"]
    delivered = await chat.deliver_outbox()
    told = {d.ref.user_id: d.message.text for d in delivered}
    assert set(told) == {"anna", "bo"}  # cai already had the invitation: not sent twice
    assert "synligt igen" in told["anna"]
    assert "tilbage på listen" in told["bo"]
    async with chat.app.uow() as uow:
        reminders = await uow.events.reminders_of(event.id, bo.id)
        assert any(r.status == "scheduled" for r in reminders)
    replies = await chat.say("bo", "/initiativer")
    assert "Bålaften" in replies[-1].text


async def test_shown_again_before_its_first_push_it_waits_for_a_look_again(chat: Chat) -> None:
    await people(chat, "cai")
    event = await post_initiative(chat)
    await chat.deliver_outbox()  # the coordinators hear of the queue
    await hide(chat, event, "Mangler et sted.")
    replies = await show_again_from_the_hidden_list(chat, event)
    assert any(c.id == "approve" for c in replies[-1].choices)
    assert (await reload(chat, event)).push_state == PushState.AWAITING_APPROVAL
    delivered = await chat.deliver_outbox()
    assert "cai" not in {d.ref.user_id for d in delivered}  # not sent out without a look
    await chat.tap("kim", "approve")
    delivered = await chat.deliver_outbox()
    assert "cai" in {d.ref.user_id for d in delivered}


async def test_hidden_again_after_shown_again_the_author_is_told_again(chat: Chat) -> None:
    await people(chat)
    event = await post_initiative(chat)
    await hide(chat, event, "Første grund.")
    await show_again_from_the_hidden_list(chat, event)
    await hide(chat, event, "Anden grund.")
    delivered = await chat.deliver_outbox()
    told = [d.message.text for d in delivered if d.ref.user_id == "anna"]
    assert any("Første grund." in t for t in told)
    assert any("synligt igen" in t for t in told)
    assert any("Anden grund." in t for t in told)
    actions = [a for a, _ in await moderation(chat, event)]
    assert actions == ["hide", "unhide", "hide"]


async def test_only_a_coordinator_can_show_a_hidden_initiative_again(chat: Chat) -> None:
    await people(chat, "bo", others=("lis",))
    lis_id = (await person_of(chat, "lis")).id

    async def lis_becomes(role: str) -> None:
        async with chat.app.uow() as uow:
            lis = await uow.persons.get(lis_id)
            assert lis is not None
            await uow.persons.set_role(lis, role)
            await uow.commit()

    await lis_becomes("coordinator")
    event = await post_initiative(chat)
    await hide(chat, event, "Parken er lukket.", coordinator="lis")
    await chat.say("lis", "/initiativer")
    stale_list = chat.last_question("lis").prompt_id or ""
    await chat.tap("lis", "hidden")
    await chat.tap("lis", f"i{event.id}")
    stale_moderation = chat.last_question("lis").prompt_id or ""

    # a citizen pressing the coordinator's buttons
    for choice in ("unhide", "hide"):
        replies = await chat.press("bo", stale_moderation, choice)
        assert "valg er ikke længere muligt" in replies[-1].text
    replies = await chat.press("bo", stale_list, "hidden")
    assert "valg er ikke længere muligt" in replies[-1].text
    # a coordinator no longer: her own old buttons prove nothing
    await lis_becomes("citizen")
    replies = await chat.press("lis", stale_moderation, "unhide")
    assert replies[-1].text == "Det kan kun koordinatorer."
    replies = await chat.press("lis", stale_list, "hidden")
    assert replies[-1].text == "Det kan kun koordinatorer."
    # and a citizen's own list shows no hidden ones
    await chat.say("bo", "/initiativer")
    assert not any(c.id == "hidden" for c in chat.last_question("bo").choices)

    fresh = await reload(chat, event)
    assert fresh.status == EventStatus.HIDDEN
    assert [a for a, _ in await moderation(chat, event)] == ["hide"]


async def test_an_idea_kept_before_typed_data_is_still_posted(chat: Chat) -> None:
    """As an earlier version stored it: every key written out, the time as ISO text."""
    await people(chat)
    await chat.say("anna", "/initiativ")
    ref = chat.ref("anna")
    async with chat.app.uow() as uow:
        conversation = await uow.conversations.get(ref.platform, ref.chat_id, ref.user_id)
        assert conversation is not None
        conversation.state = "preview"
        conversation.data = {
            "journey": ["invitationen", "maden"],
            "reminders": [1440, 120],
            "capacity": None,
            "guests": False,
            "tasks": [["kage", 2]],
            "topic_ids": [],
            "title": "Bålaften",
            "text": "",
            "idea": True,
            "start": "2026-07-31T08:00:00+00:00",
            "end": None,
            "place": "",
            "audience": {"kind": "initiative", "topic_ids": []},
        }
        await uow.commit()
    await chat.say("anna", "/hjælp")
    assert "💡" in chat.last_question("anna").text
    await chat.tap("anna", "publish")
    async with chat.app.uow() as uow:
        event = (await uow.session.execute(select(Event))).scalars().one()
    assert event.idea
    assert event.status == EventStatus.PUBLISHED
    assert event.reminder_offsets == []
    assert event.audience == {"kind": "initiative", "topic_ids": []}
