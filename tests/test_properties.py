"""Property-based: whatever arrives, in whatever state of whatever flow, nothing breaks.

Every flow is driven into each of its states (and the states outside a conversation: a
newcomer, someone who said no, someone onboarded, someone who paused), then random input
is fired at it: text (emoji, control characters, empty, 10,000 characters), command-like
strings, button presses with random, stale or other people's prompt ids and choice ids,
reactions, pictures, voice messages, documents and locations. After each input:

- nothing escaped `Router.handle`, and the error boundary was not what caught it (its
  apology is made to fail the test);
- the conversation, if any, is in a valid state of its flow, with its current question
  stored for that very person and actually sent to them;
- what the person had already answered is unchanged, unless that input could change it
  (a new name typed at the name question, say);
- a refused button press (another person's prompt, an unknown prompt or choice) changed
  nothing at all.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import BotApp
from bot.composition import build_router
from bot.demo import seed_starter_topics
from bot.i18n import catalogs
from bot.settings import Settings
from conversations.core.messages import (
    ChoicePick,
    Inbound,
    Location,
    Media,
    MediaKind,
    Reaction,
    parse_command,
)
from conversations.events.flows.cancel_event import CancelStep
from conversations.events.flows.new_event.draft import Step as NewEventStep
from conversations.feedback.rules.windows import event_end
from conversations.people.flows import become_coordinator as coordinator_invite
from conversations.people.flows import change_settings as settings_flow
from conversations.people.flows import manage_topics as topics_admin
from conversations.people.flows import onboarding
from conversations.people.flows.forget_me import Forget, ForgetStep
from conversations.people.flows.link_accounts import LinkAccounts
from conversations.people.flows.pause import Stop
from conversations.people.flows.see_my_data import MyData
from conversations.tasks.flows.manage_tasks import Step as TasksStep
from handlers.commands import BACK, CANCEL, HELP
from storage.clock import FrozenClock
from storage.models import Role
from tests.conftest import Backend
from tests.fakes import Chat, Delivered, RecordingTransport
from tests.helpers import ConversationSnapshot, snapshot

VALID_STATES: dict[str, set[str]] = {
    "onboarding": {step.value for step in onboarding.Step},
    "settings": {step.value for step in settings_flow.Step},
    "forget": {step.value for step in ForgetStep},
    "coordinator": {step.value for step in coordinator_invite.Step},
    "topics": {step.value for step in topics_admin.Step},
    "tasks": {step.value for step in TasksStep},
    "editevent": {"choose", "what", "time", "end", "place", "confirm", "photo", "photo_text"},
    "attendees": {"choose", "list", "write", "task_choose", "task_write", "tick"},
    "copyevent": {
        "choose",
        "when",
        "end",
        "repeat",
        "repeat_end",
        "preview",
        "change",
        "title",
        "text",
        "place",
        "capacity",
        "tasks",
        "audience",
        "photo",
        "photo_text",
        "confirm_when",
        "earlier",
        "guests",
        "pin",
        "topics",
    },
    "coorganisers": {"choose", "list", "add"},
    "checkin": {"choose"},
    "admin": {"menu", "coordinators"},
    "report": {"choose"},
    "link": {"where"},
    "cancelevent": {step.value for step in CancelStep},
    "eventqr": {"choose"},
    "offer": {"menu", "text", "kind", "area", "when", "one"},
    "offers": {"kind", "area", "list", "write"},
    "myinitiatives": {"choose", "view", "write"},
    "snaplog": {"collect", "snapconsent"},
    "initiatives": {"back_note", "back_wider", "hide_reason"},
    "feedback": {"came", "step", "why", "matters", "next", "sign", "snapconsent", "again"},
    "newevent": {step.value for step in NewEventStep},
    "initiative": {
        "title",
        "text",
        "when",
        "end",
        "confirm_when",
        "place",
        "pin",
        "tasks",
        "topics",
        "preview",
    },
}

ROUTER = build_router(Settings(_env_file=None), None, catalogs(), FrozenClock())  # type: ignore[arg-type,call-arg]
FLOW_NAMES = set(ROUTER._engine.flow_names)


def states_of(flow: str) -> set[str]:
    """The states a conversation of `flow` may be in: a flow made of questions says so
    itself (VALID_STATES lists the ones the targets reach, which may be fewer, e.g. ticking
    names only opens near the start)."""
    questions = getattr(ROUTER._engine.flow(flow), "questions", None)
    return set(questions) if questions is not None else VALID_STATES[flow]


ADMINS = 400  # more than the examples of one target

# PostgreSQL runs fewer: it is there for what only PostgreSQL refuses (a NUL in text, say)
EXAMPLES_PER_STATE = {"sqlite": 20, "postgres": 8}


class BoundaryHit(AssertionError):
    """The error boundary caught something: a step raised."""


# -- getting a person into a state ------------------------------------------------------------

Driver = Callable[[Chat, str], Awaitable[None]]


async def _onboarding_until(chat: Chat, user: str, step: str) -> None:
    await chat.say(user, "/start")
    for answer, reached in (("da", "consent"), ("yes", "name")):
        if step == "language":
            return
        await chat.tap(user, answer)
        if step == reached:
            return
    await chat.say(user, "Navn")
    if step == "interests":
        return
    await chat.tap(user, "done")
    if step == "areas":
        return
    await chat.tap(user, "done")
    if step == "initiatives":
        return
    await chat.tap(user, "no")


def onboarding_at(step: str) -> Driver:
    async def drive(chat: Chat, user: str) -> None:
        await _onboarding_until(chat, user, step)

    return drive


def after_onboarding(
    *commands: str, taps: tuple[str, ...] = (), coordinator: bool = False
) -> Driver:
    async def drive(chat: Chat, user: str) -> None:
        # what onboarding leaves behind, written at once (onboarding itself is tested apart)
        ref = chat.ref(user)
        async with chat.app.uow() as uow:
            person, _ = await uow.persons.get_or_create(
                ref.platform, ref.user_id, ref.chat_id, language="da"
            )
            await uow.persons.record_consent(person, chat.app.settings.consent_version, given=True)
            person.display_name = "Navn"
            person.onboarded_at = uow.clock.now()
            if coordinator:
                await uow.persons.set_role(person, Role.COORDINATOR)
            await uow.commit()
        for command in commands:
            await chat.say(user, command)
        for tap in taps:
            await chat.tap(user, tap)

    return drive


def coordinator_script(
    *steps: str, then_state: str | None = None, coordinator: bool = True
) -> Driver:
    """A coordinator's (or citizen's) messages ("tap:<choice id>" is a tap); `then_state`
    puts the conversation in a state only an earlier version's draft can be in, and asks it
    again."""
    onboarded = after_onboarding(coordinator=coordinator)

    async def drive(chat: Chat, user: str) -> None:
        await onboarded(chat, user)
        for step in steps:
            if step.startswith("tap:"):
                await chat.tap(user, step.removeprefix("tap:"))
            elif step.startswith("tap#"):  # by position: ids that carry a row's number
                await chat.tap(user, int(step.removeprefix("tap#")))
            else:
                await chat.say(user, step)
        if then_state is not None:
            ref = chat.ref(user)
            async with chat.app.uow() as uow:
                conversation = await uow.conversations.get(ref.platform, ref.chat_id, ref.user_id)
                assert conversation is not None
                conversation.state = then_state
                await uow.commit()
            await chat.say(user, "/help")

    return drive


async def _invited(chat: Chat, user: str) -> None:
    """A citizen with an invitation in the chat, not answered yet (typed replies go to it)."""
    await after_onboarding()(chat, user)
    await coordinator_script(*new_event_until("preview"), "tap:publish")(chat, f"{user}-kim")
    await chat.deliver_outbox()


async def _refused(chat: Chat, user: str) -> None:
    await chat.say(user, "/start")
    await chat.tap(user, "da")
    await chat.tap(user, "no")


async def _nothing(chat: Chat, user: str) -> None:
    return None


@dataclass(frozen=True)
class Target:
    drive: Driver
    state: tuple[str, str] | None  # (flow, state) of the conversation, or None
    may_change: frozenset[str] = frozenset()  # what a plain answer here may change
    admin: bool = False  # driven there as one of the harness's admins


NEW_EVENT_STEPS = {
    "title": ("/newevent",),
    "when": ("Skovtur",),
    "end": ("lørdag kl 10",),
    "place": ("tap:skip",),
    "capacity": ("Hald Ege",),
    "usual": ("tap:skip",),
    "guests": ("tap:choose",),
    "journey": ("tap:no",),
    "tasks": ("tap:keep",),
    "reminders": ("tap:done",),
    "access": ("tap:default",),
    "practical": ("tap:done",),
    "audience": ("tap:skip",),
    "preview": ("tap:everybody",),
}


def new_event_until(state: str) -> tuple[str, ...]:
    """The coordinator's messages that reach `state` of /newevent, one after another."""
    order = list(NEW_EVENT_STEPS)
    return tuple(step for name in order[: order.index(state) + 1] for step in NEW_EVENT_STEPS[name])


NEW_EVENT_TARGETS: dict[str, Target] = {
    **{
        f"newevent:{state}": Target(
            coordinator_script(*new_event_until(state)), ("newevent", state)
        )
        for state in NEW_EVENT_STEPS
    },
    "newevent:text": Target(
        coordinator_script(*new_event_until("preview"), "tap:text"), ("newevent", "text")
    ),
    "newevent:send_at": Target(
        coordinator_script(*new_event_until("preview"), "tap:later"), ("newevent", "send_at")
    ),
    "newevent:photo": Target(
        coordinator_script(*new_event_until("preview"), "tap:photo"), ("newevent", "photo")
    ),
    "newevent:photo_text": Target(
        coordinator_script(*new_event_until("preview"), then_state="photo_text"),
        ("newevent", "photo_text"),
    ),
    "newevent:topics": Target(
        coordinator_script(*new_event_until("audience"), "tap:topics"), ("newevent", "topics")
    ),
    "newevent:earlier": Target(
        coordinator_script(*new_event_until("audience"), "tap:attendees"),
        ("newevent", "earlier"),
    ),
    **{
        f"newevent:{state}": Target(
            coordinator_script(*new_event_until("preview"), then_state=state),
            ("newevent", state),
        )
        for state in ("confirm_when", "pin", "send")  # drafts kept by an earlier version
    },
}


INITIATIVE_STEPS = {
    "title": ("/initiativ",),
    "text": ("Bålaften",),
    "when": ("tap:skip",),
    "end": ("lørdag kl 18",),
    "place": ("tap:skip",),
    "tasks": ("Byparken",),
    "topics": ("tap:done",),
    "preview": ("tap:done",),
}


def initiative_until(state: str) -> tuple[str, ...]:
    order = list(INITIATIVE_STEPS)
    return tuple(
        step for name in order[: order.index(state) + 1] for step in INITIATIVE_STEPS[name]
    )


INITIATIVE_TARGETS: dict[str, Target] = {
    **{
        f"initiative:{state}": Target(
            coordinator_script(*initiative_until(state), coordinator=False),
            ("initiative", state),
        )
        for state in INITIATIVE_STEPS
    },
    **{
        f"initiative:{state}": Target(
            coordinator_script(*initiative_until("preview"), then_state=state, coordinator=False),
            ("initiative", state),
        )
        for state in ("confirm_when", "pin")  # drafts kept by an earlier version
    },
}


# a published event with one task, then the organiser's task list
WITH_A_TASK = (
    *new_event_until("tasks"),
    "medbring suppe x2",
    "tap:done",
    "tap:default",
    "tap:done",
    "tap:skip",
    "tap:everybody",
    "tap:publish",
    "/opgaver",
)


def tasks_target(state: str, *before: str) -> Target:
    return Target(coordinator_script(*WITH_A_TASK, *before), ("tasks", state))


TASKS_TARGETS: dict[str, Target] = {
    "tasks:choose": tasks_target("choose"),
    "tasks:list": tasks_target("list", "tap#1"),
    "tasks:add": tasks_target("add", "tap#1", "tap:add"),
    "tasks:task": tasks_target("task", "tap#1", "tap#1"),
    "tasks:rename": tasks_target("rename", "tap#1", "tap#1", "tap:rename"),
    "tasks:hands": tasks_target("hands", "tap#1", "tap#1", "tap:hands"),
}


A_SAVED_OFFER = ("/tilbyd", "Jeg kan bage kage", "tap#1", "tap:anywhere", "tap:skip")


def after_anothers_offer(*steps: str) -> Driver:
    """Someone else has offered to bake a cake; then a coordinator's `steps`."""

    async def drive(chat: Chat, user: str) -> None:
        await coordinator_script(*A_SAVED_OFFER, coordinator=False)(chat, f"{user}-ib")
        await coordinator_script(*steps)(chat, user)

    return drive


def moderating(*taps: str) -> Driver:
    """A coordinator at a citizen's new initiative, from the list of initiatives."""
    coordinator = coordinator_script("/initiativer", "tap#1", *taps)

    async def drive(chat: Chat, user: str) -> None:
        author = coordinator_script(*initiative_until("preview"), "tap:publish", coordinator=False)
        await author(chat, f"{user}-anna")
        await coordinator(chat, user)

    return drive


def at_feedback(*steps: str) -> Driver:
    """A citizen who said yes, an hour after the event, having tapped to give feedback;
    then `steps` ("tap:<id>", "photo", or text)."""

    async def drive(chat: Chat, user: str) -> None:
        await after_onboarding()(chat, user)
        await coordinator_script(*new_event_until("preview"), "tap:publish")(chat, f"{user}-kim")
        await chat.deliver_outbox()
        invitation = chat.last_question(user)
        assert invitation.prompt_id is not None
        await chat.press(user, invitation.prompt_id, "yes")
        async with chat.app.uow() as uow:
            prompt = await uow.prompts.get(invitation.prompt_id)
            assert prompt is not None
            event = await uow.events.get(int(prompt.context["event_id"]))
        assert event is not None
        assert isinstance(chat.app.clock, FrozenClock)
        chat.app.clock.set(event_end(event) + timedelta(hours=1))
        await chat.app.event_jobs.run_once()
        await chat.deliver_outbox()
        await chat.tap(user, "start")
        for step in steps:
            if step.startswith("tap:"):
                await chat.tap(user, step.removeprefix("tap:"))
            elif step == "photo":
                await chat.send_media(user, Media(MediaKind.PHOTO, "file-1"))
            else:
                await chat.say(user, step)

    return drive


def with_a_task_taken(*steps: str) -> Driver:
    """The driven coordinator's event has a task ("medbring suppe") that a citizen coming
    has taken; then the coordinator's `steps`."""
    order = list(NEW_EVENT_STEPS)
    rest = tuple(
        step for name in order[order.index("tasks") + 1 :] for step in NEW_EVENT_STEPS[name]
    )

    async def drive(chat: Chat, user: str) -> None:
        citizen = f"{user}-ann"
        await after_onboarding()(chat, citizen)
        publish = (*new_event_until("tasks"), "medbring suppe", *rest, "tap:publish")
        await coordinator_script(*publish)(chat, user)
        await chat.deliver_outbox()
        for tap in ("yes", "tasks", 1):
            await chat.tap(citizen, tap)
        await coordinator_script(*steps)(chat, user)

    return drive


def linked_from_another_app() -> Driver:
    """The driven person writes the code their other app was given (/link there, /forbind
    here), so both are one person now and the bot asks which app to use."""

    async def drive(chat: Chat, user: str) -> None:
        other = f"{user}-other"
        await after_onboarding()(chat, other)
        [message] = [m for m in await chat.say(other, "/link") if "/forbind" in m.text]
        code = message.text.split("/forbind ", 1)[1].split()[0]
        await after_onboarding()(chat, user)
        await chat.say(user, f"/forbind {code}")

    return drive


def near_start(*steps: str, as_coordinator: bool = False) -> Driver:
    """Two events starting in half an hour, a citizen coming to both; the driven user is
    that citizen, or (`as_coordinator`) the first event's coordinator; then `steps`
    ("tap:<id>", "tap#<n>" or text) by the driven user."""

    async def drive(chat: Chat, user: str) -> None:
        citizen, coordinator = (f"{user}-ann", user) if as_coordinator else (user, f"{user}-kim")
        await after_onboarding()(chat, citizen)
        await coordinator_script(*new_event_until("preview"), "tap:publish")(chat, coordinator)
        await coordinator_script(*new_event_until("preview"), "tap:publish")(chat, f"{user}-bo")
        await chat.deliver_outbox()
        invitations = [d.message for d in chat.transport.to(citizen) if d.message.prompt_id]
        starts = []
        for invitation in invitations:
            assert invitation.prompt_id is not None
            await chat.press(citizen, invitation.prompt_id, "yes")
            async with chat.app.uow() as uow:
                prompt = await uow.prompts.get(invitation.prompt_id)
                assert prompt is not None
                event = await uow.events.get(int(prompt.context["event_id"]))
            assert event is not None
            starts.append(event.starts_at)
        assert isinstance(chat.app.clock, FrozenClock)
        chat.app.clock.set(min(starts) - timedelta(minutes=30))
        for step in steps:
            if step.startswith("tap:"):
                await chat.tap(user, step.removeprefix("tap:"))
            elif step.startswith("tap#"):
                await chat.tap(user, int(step.removeprefix("tap#")))
            else:
                await chat.say(user, step)

    return drive


PROFILE = frozenset({"consent", "display_name", "quiet", "topics"})

COPY_UNTIL = {
    "choose": ("/kopier",),
    "when": ("tap#1",),
    "end": ("næste lørdag kl 10",),
    "repeat": ("tap:skip",),
    "preview": ("tap:once",),
}


def copy_until(state: str) -> tuple[str, ...]:
    """An event published, then /copy's messages until `state`."""
    order = list(COPY_UNTIL)
    steps = tuple(s for name in order[: order.index(state) + 1] for s in COPY_UNTIL[name])
    return (*new_event_until("preview"), "tap:publish", *steps)


COPY_TARGETS: dict[str, Target] = {
    **{
        f"copyevent:{state}": Target(coordinator_script(*copy_until(state)), ("copyevent", state))
        for state in COPY_UNTIL
    },
    "copyevent:repeat_end": Target(
        coordinator_script(*copy_until("repeat"), "tap:weekly"), ("copyevent", "repeat_end")
    ),
    "copyevent:change": Target(
        coordinator_script(*copy_until("preview"), "tap:change"), ("copyevent", "change")
    ),
    **{
        f"copyevent:{state}": Target(
            coordinator_script(*copy_until("preview"), "tap:change", f"tap:{state}"),
            ("copyevent", state),
        )
        for state in ("title", "text", "place", "capacity", "tasks", "audience", "photo")
    },
    # states only a draft of an earlier version (or a sub-question) is in
    **{
        f"copyevent:{state}": Target(
            coordinator_script(*copy_until("preview"), then_state=state), ("copyevent", state)
        )
        for state in ("photo_text", "confirm_when", "earlier", "guests", "pin", "topics")
    },
    "coorganisers:choose": Target(
        coordinator_script(*new_event_until("preview"), "tap:publish", "/medarrangoerer"),
        ("coorganisers", "choose"),
    ),
    "coorganisers:list": Target(
        coordinator_script(*new_event_until("preview"), "tap:publish", "/medarrangoerer", "tap#1"),
        ("coorganisers", "list"),
    ),
    "coorganisers:add": Target(
        coordinator_script(
            *new_event_until("preview"), "tap:publish", "/medarrangoerer", "tap#1", "tap:add"
        ),
        ("coorganisers", "add"),
    ),
    "editevent:photo_text": Target(
        coordinator_script(
            *new_event_until("preview"),
            "tap:publish",
            "/retarrangement",
            "tap#1",
            "tap:photo",
            then_state="photo_text",
        ),
        ("editevent", "photo_text"),
    ),
    "admin:menu": Target(after_onboarding("/administrer"), ("admin", "menu"), admin=True),
    "admin:coordinators": Target(
        after_onboarding("/administrer", taps=("coordinators",)),
        ("admin", "coordinators"),
        admin=True,
    ),
    "attendees:task_write": Target(
        with_a_task_taken("/deltagere", "tap#1", "tap:writetask", "tap#1"),
        ("attendees", "task_write"),
    ),
    "report:choose": Target(
        coordinator_script(*new_event_until("preview"), "tap:publish", "/rapport"),
        ("report", "choose"),
    ),
    "link:where": Target(linked_from_another_app(), ("link", "where"), frozenset({"status"})),
    "checkin:choose": Target(near_start("/her"), ("checkin", "choose")),
    "attendees:tick": Target(
        near_start("/deltagere", "tap#1", "tap:tick", as_coordinator=True), ("attendees", "tick")
    ),
}

TARGETS: dict[str, Target] = {
    "newcomer": Target(_nothing, None),
    "refused": Target(_refused, None),
    "onboarded": Target(after_onboarding(), None, frozenset({"status"})),
    "stopped": Target(after_onboarding("/stop"), None, frozenset({"status"})),
    "invited": Target(_invited, None, frozenset({"status"})),
    "onboarding:language": Target(
        onboarding_at("language"), ("onboarding", "language"), frozenset({"language"})
    ),
    "onboarding:consent": Target(onboarding_at("consent"), ("onboarding", "consent"), PROFILE),
    "onboarding:name": Target(
        onboarding_at("name"), ("onboarding", "name"), frozenset({"display_name"})
    ),
    "onboarding:interests": Target(
        onboarding_at("interests"), ("onboarding", "interests"), frozenset({"topics"})
    ),
    "onboarding:areas": Target(
        onboarding_at("areas"), ("onboarding", "areas"), frozenset({"topics"})
    ),
    "onboarding:initiatives": Target(
        onboarding_at("initiatives"), ("onboarding", "initiatives"), frozenset({"initiatives"})
    ),
    "onboarding:quiet": Target(
        onboarding_at("quiet"), ("onboarding", "quiet"), frozenset({"quiet", "onboarded"})
    ),
    "settings:menu": Target(after_onboarding("/settings"), ("settings", "menu")),
    "settings:language": Target(
        after_onboarding("/settings", taps=("language",)),
        ("settings", "language"),
        frozenset({"language"}),
    ),
    "settings:name": Target(
        after_onboarding("/settings", taps=("name",)),
        ("settings", "name"),
        frozenset({"display_name"}),
    ),
    "settings:interests": Target(
        after_onboarding("/settings", taps=("interests",)),
        ("settings", "interests"),
        frozenset({"topics"}),
    ),
    "settings:areas": Target(
        after_onboarding("/settings", taps=("areas",)),
        ("settings", "areas"),
        frozenset({"topics"}),
    ),
    "settings:quiet": Target(
        after_onboarding("/settings", taps=("quiet",)),
        ("settings", "quiet"),
        frozenset({"quiet"}),
    ),
    "settings:initiatives": Target(
        after_onboarding("/settings", taps=("initiatives",)),
        ("settings", "initiatives"),
        frozenset({"initiatives"}),
    ),
    "settings:photos": Target(
        after_onboarding("/settings", taps=("photos",)),
        ("settings", "photos"),
        frozenset({"photos"}),
    ),
    "forget:confirm": Target(
        after_onboarding("/forget"), ("forget", "confirm"), frozenset({"forgotten"})
    ),
    "coordinator:code": Target(after_onboarding("/coordinator"), ("coordinator", "code")),
    "topics:menu": Target(after_onboarding("/topics", coordinator=True), ("topics", "menu")),
    "topics:add_interest": Target(
        after_onboarding("/topics", taps=("add_interest",), coordinator=True),
        ("topics", "add_interest"),
    ),
    "topics:add_area": Target(
        after_onboarding("/topics", taps=("add_area",), coordinator=True),
        ("topics", "add_area"),
    ),
    "topics:remove": Target(
        after_onboarding("/topics", taps=("remove",), coordinator=True), ("topics", "remove")
    ),
    "topics:name_which": Target(
        after_onboarding("/topics", taps=("names",), coordinator=True), ("topics", "name_which")
    ),
    "topics:name_language": Target(
        after_onboarding("/topics", taps=("names", "s0"), coordinator=True),
        ("topics", "name_language"),
    ),
    "topics:name_text": Target(
        after_onboarding("/topics", taps=("names", "s0", "uk"), coordinator=True),
        ("topics", "name_text"),
    ),
    **NEW_EVENT_TARGETS,
    **INITIATIVE_TARGETS,
    **TASKS_TARGETS,
    **COPY_TARGETS,
    **{
        f"{flow}:{state}": Target(
            coordinator_script(*new_event_until("preview"), "tap:publish", *then),
            (flow, state),
        )
        for flow, state, then in (
            ("editevent", "choose", ("/retarrangement",)),
            ("editevent", "what", ("/retarrangement", "tap#1")),
            ("editevent", "time", ("/retarrangement", "tap#1", "tap:time")),
            ("editevent", "end", ("/retarrangement", "tap#1", "tap:time", "søndag kl 10")),
            ("editevent", "place", ("/retarrangement", "tap#1", "tap:place")),
            ("editevent", "confirm", ("/retarrangement", "tap#1", "tap:place", "Engen")),
            ("editevent", "photo", ("/retarrangement", "tap#1", "tap:photo")),
            ("attendees", "choose", ("/deltagere",)),
            ("attendees", "list", ("/deltagere", "tap#1")),
            ("attendees", "write", ("/deltagere", "tap#1", "tap:write")),
            ("attendees", "task_choose", ("/deltagere", "tap#1", "tap:writetask")),
            ("cancelevent", "choose", ("/aflys",)),
            ("cancelevent", "reason", ("/aflys", "tap#1")),
            ("cancelevent", "confirm", ("/aflys", "tap#1", "tap:skip")),
            ("eventqr", "choose", ("/qrkode",)),
        )
    },
    **{
        f"offer:{state}": Target(coordinator_script(*steps, coordinator=False), ("offer", state))
        for state, steps in (
            ("text", ("/tilbyd",)),
            ("kind", ("/tilbyd", "Jeg kan bage kage")),
            ("area", ("/tilbyd", "Jeg kan bage kage", "tap#1")),
            ("when", ("/tilbyd", "Jeg kan bage kage", "tap#1", "tap:anywhere")),
            ("menu", (*A_SAVED_OFFER, "/tilbyd")),
            ("one", (*A_SAVED_OFFER, "/tilbyd", "tap#1")),
        )
    },
    "offers:kind": Target(coordinator_script("/tilbud"), ("offers", "kind")),
    "offers:area": Target(coordinator_script("/tilbud", "tap:all"), ("offers", "area")),
    "offers:list": Target(
        coordinator_script("/tilbud", "tap:all", "tap:anywhere"), ("offers", "list")
    ),
    "offers:write": Target(
        after_anothers_offer("/tilbud", "tap:all", "tap:anywhere", "tap#1"), ("offers", "write")
    ),
    **{
        f"myinitiatives:{state}": Target(
            coordinator_script(
                *initiative_until("preview"),
                "tap:publish",
                "/mineinitiativer",
                *then,
                coordinator=False,
            ),
            ("myinitiatives", state),
        )
        for state, then in (("choose", ()), ("view", ("tap#1",)), ("write", ("tap#1", "tap:write")))
    },
    "snaplog:snapconsent": Target(
        at_feedback("/billede"), ("snaplog", "snapconsent"), frozenset({"photos"})
    ),
    "snaplog:collect": Target(at_feedback("/billede", "tap:yes"), ("snaplog", "collect")),
    "initiatives:back_note": Target(moderating("tap:back"), ("initiatives", "back_note")),
    "initiatives:back_wider": Target(
        moderating("tap:back", "tap:skip"), ("initiatives", "back_wider")
    ),
    "initiatives:hide_reason": Target(moderating("tap:hide"), ("initiatives", "hide_reason")),
    "feedback:came": Target(at_feedback(), ("feedback", "came")),
    "feedback:step": Target(at_feedback("tap:came"), ("feedback", "step")),
    "feedback:why": Target(at_feedback("tap:came", "tap:bad"), ("feedback", "why")),
    "feedback:snapconsent": Target(
        at_feedback("tap:came", "photo"), ("feedback", "snapconsent"), frozenset({"photos"})
    ),
    "feedback:matters": Target(at_feedback("tap:notcame"), ("feedback", "matters")),
    "feedback:next": Target(at_feedback("tap:notcame", "Naturen"), ("feedback", "next")),
    "feedback:sign": Target(
        at_feedback("tap:notcame", "Naturen", "tap:skip"), ("feedback", "sign")
    ),
    "feedback:again": Target(
        at_feedback("tap:notcame", "tap:skip", "tap:skip", "/mening"), ("feedback", "again")
    ),
}


def test_every_state_of_every_flow_is_a_target() -> None:
    covered = {state for target in TARGETS.values() if target.state for state in [target.state]}
    expected = {(flow, state) for flow, states in VALID_STATES.items() for state in states}
    assert covered == expected


# -- random input -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Pick:
    prompt: str  # "current", "first", "other" or a random id
    choice: str | int  # an index into the prompt's choices, or a random id


@dataclass(frozen=True)
class React:
    current: bool
    key: str


PEOPLE_FLOWS = (
    onboarding.Onboarding,
    settings_flow.Settings,
    MyData,
    Forget,
    Stop,
    LinkAccounts,
    coordinator_invite.RedeemInvite,
    topics_admin.ManageTopics,
)
COMMAND_NAMES = sorted(
    {name for flow in PEOPLE_FLOWS for spec in flow.commands for name in spec.names}
    # every other flow's commands too: each may be typed in the middle of anything
    | set(ROUTER.commands.all_names())
    | {*CANCEL, *BACK, *HELP}
)
WORDS = [
    "",
    " ",
    "\n",
    "\t\r",
    "1",
    "2",
    "3",
    "0",
    "99",
    "-1",
    "ja",
    "nej",
    "yes",
    "no",
    "done",
    "færdig",
    "skip",
    "slet",
    "keep",
    "22-7",
    "25-99",
    "Gåture / Walks",
    "/",
    "!",
    "@anna",
    "\x00",
    "\u200b",
    "\ufe0f",
    "🌿",
    "👍",
    "✅",
    "🇩🇰",
    "🇬🇧",
    "🙂" * 50,
]
EMOJI = [
    "🇩🇰",
    "🇬🇧",
    "✅",
    "❓",
    "🚫",
    "🙂",
    "⏭",
    "👍",
    "🌙",
    "😴",
    "🛌",
    "🔔",
    "🗑",
    "↩️",
    "🌿",
    "📍",
]

texts = st.one_of(
    st.text(max_size=60),
    st.sampled_from(WORDS),
    st.text(alphabet=st.characters(categories=["So", "Sk", "Cc", "Cf", "Zs", "Mn"]), max_size=20),
    st.builds(
        lambda chunk, size: (chunk * size)[:size],
        st.text(min_size=1, max_size=3),
        st.sampled_from([4_000, 4_001, 10_000]),
    ),
).map(Text)

commands = st.builds(
    lambda prefix, name, args: Text(f"{prefix}{name} {args}".rstrip()),
    st.sampled_from(["/", "!"]),
    st.one_of(
        st.sampled_from(COMMAND_NAMES), st.from_regex(r"[A-Za-z0-9_æøå]{1,40}", fullmatch=True)
    ),
    st.one_of(
        st.just(""),
        st.sampled_from(["language", "navn", "co_ABCDE-FGHJK", "ev_1"]),
        st.text(max_size=30),
    ),
)

picks = st.builds(
    Pick,
    st.one_of(st.sampled_from(["current", "first", "other"]), st.text(max_size=20)),
    st.one_of(st.integers(min_value=0, max_value=12), st.text(max_size=20)),
)

reactions = st.builds(React, st.booleans(), st.one_of(st.sampled_from(EMOJI), st.text(max_size=4)))


@dataclass(frozen=True)
class Attachment:
    media: Media | None
    location: Location | None


attachments = st.one_of(
    st.builds(
        lambda kind, caption: Attachment(Media(kind, "file-1", caption=caption), None),
        st.sampled_from(list(MediaKind)),
        st.one_of(st.none(), st.text(max_size=30)),
    ),
    st.builds(
        lambda lat, lon: Attachment(None, Location(lat, lon)),
        st.floats(allow_nan=False, allow_infinity=False),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
)

Event = Text | Pick | React | Attachment
events = st.one_of(texts, commands, picks, reactions, attachments)


# -- the harness ------------------------------------------------------------------------------


def profile_of(person: Any, topics: set[int], photos: bool | None) -> dict[str, Any]:
    return {
        "language": person.language,
        "display_name": person.display_name,
        "consent": (person.consent, person.consent_version, person.consent_at),
        "quiet": (person.quiet_start_minute, person.quiet_end_minute),
        "topics": topics,
        "initiatives": person.hear_initiatives,
        "photos": photos,
        "onboarded": person.onboarded_at,
        "status": person.status,
        "role": person.role,
    }


NEW_PERSON: dict[str, Any] = {
    "language": "da",
    "display_name": None,
    "consent": ("unasked", None, None),
    "quiet": (None, None),
    "topics": set(),
    "initiatives": False,
    "photos": None,
    "onboarded": None,
    "status": "active",
    "role": "citizen",
}


@dataclass(frozen=True)
class Observation:
    conversation: ConversationSnapshot | None
    profile: dict[str, Any] | None
    prompt: tuple[str, str, str, bool, str] | None
    bystander: tuple[Any, ...] | None


class Harness:
    def __init__(self, app: BotApp, transport: RecordingTransport) -> None:
        self.app = app
        self.transport = transport
        self.chat = Chat(app, transport)
        self._users = itertools.count(1)
        self._admins = itertools.count(1)  # a fresh admin for each example that needs one
        self._current: str | None = None
        self.boundary_hits: list[Inbound] = []

    @classmethod
    async def start(cls, database_url: str) -> Harness:
        config = Settings(
            database_url=database_url,
            admins=["fake:admin", *(f"fake:admin{n}" for n in range(1, ADMINS + 1))],
            _env_file=None,  # type: ignore[call-arg]
        )
        transport = RecordingTransport()
        app = BotApp(config, [transport], clock=FrozenClock())
        await app.migrate()
        await seed_starter_topics(app.uow)
        harness = cls(app, transport)

        async def no_apologies(inbound: Inbound) -> str:
            raise BoundaryHit(f"the error boundary caught an exception for {inbound!r}")

        app.router._apology = no_apologies  # type: ignore[method-assign]
        await onboarding_at("consent")(harness.chat, "bystander")
        return harness

    async def close(self) -> None:
        await self.app.close()

    async def user_in(self, name: str, target: Target) -> str:
        if self._current is None:
            user = f"admin{next(self._admins)}" if target.admin else f"u{next(self._users)}"
            await target.drive(self.chat, user)
            reached = await snapshot(self.chat, user)
            reached_state = (reached.flow, reached.state) if reached else None
            assert reached_state == target.state, f"could not drive {user} to {name}"
            self._current = user
        return self._current

    async def observe(self, user: str) -> Observation:
        """Everything the checks need, read in one transaction."""
        async with self.app.uow() as uow:
            ref = self.chat.ref(user)
            conversation = await uow.conversations.get(ref.platform, ref.chat_id, ref.user_id)
            current = (
                ConversationSnapshot(
                    conversation.flow,
                    conversation.state,
                    dict(conversation.data),
                    list(conversation.history),
                )
                if conversation is not None
                else None
            )
            prompt = (
                await uow.prompts.get(conversation.prompt_id)
                if conversation is not None and conversation.prompt_id
                else None
            )
            identity = await uow.persons.find_identity(ref.platform, ref.user_id)
            person = await uow.persons.get(identity.person_id) if identity else None
            profile = None
            if person is not None:
                topics = await uow.topics.chosen_ids(person.id)
                photos = await uow.feedback.snap_consent(person.id)
                profile = profile_of(person, topics, photos)
            other = self.chat.ref("bystander")
            bystander = await uow.conversations.get(other.platform, other.chat_id, other.user_id)
            return Observation(
                current,
                profile,
                (prompt.user_id, prompt.flow, prompt.state, prompt.bound, prompt.id)
                if prompt is not None
                else None,
                (bystander.flow, bystander.state, bystander.data, bystander.history)
                if bystander is not None
                else None,
            )

    def _delivered_questions(self, user: str) -> list[Delivered]:
        return [d for d in self.transport.to(user) if d.message.choices and d.message.prompt_id]

    def inbound(self, user: str, event: Event) -> tuple[Inbound, bool]:
        """The inbound message for an event, and whether it must be refused unchanged."""
        ref = self.chat.ref(user)
        event_id = f"e{next(self._users)}"
        if isinstance(event, Text):
            return Inbound(ref, event_id, text=event.text), False
        if isinstance(event, Attachment):
            return Inbound(ref, event_id, media=event.media, location=event.location), False
        questions = self._delivered_questions(user)
        if isinstance(event, React):
            message_id = questions[-1].message_id if event.current and questions else "nope"
            return Inbound(ref, event_id, reaction=Reaction(message_id, event.key)), False
        refused = False
        prompt = None
        if event.prompt == "current" and questions:
            prompt = questions[-1].message
        elif event.prompt == "first" and questions:
            prompt = questions[0].message
        elif event.prompt == "other":
            prompt = self.chat.last_question("bystander")
            refused = True
        if prompt is None:
            prompt_id, choices = event.prompt, ()
            refused = True
        else:
            assert prompt.prompt_id is not None
            prompt_id, choices = prompt.prompt_id, tuple(c.id for c in prompt.choices)
        if isinstance(event.choice, int) and choices:
            choice_id = choices[event.choice % len(choices)]
        else:
            choice_id = str(event.choice)
            refused = refused or choice_id not in choices
        return Inbound(ref, event_id, choice=ChoicePick(prompt_id, choice_id)), refused

    async def check(self, name: str, target: Target, event: Event) -> None:
        user = await self.user_in(name, target)
        before = await self.observe(user)
        inbound, must_refuse = self.inbound(user, event)
        is_command = isinstance(event, Text) and parse_command(event.text) is not None

        await self.app.dispatch(inbound)  # a BoundaryHit or anything else fails the test

        after = await self.observe(user)
        self._assert_valid_conversation(user, after)
        assert after.bystander == before.bystander

        if must_refuse or (isinstance(event, Text) and len(event.text) > 4000):
            assert after.conversation == before.conversation
            # a first message of any kind creates the person, with nothing about them yet
            assert after.profile == (before.profile or NEW_PERSON)
        elif before.profile is not None:
            allowed = {"status"} if is_command else set(target.may_change)
            if isinstance(event, Pick):
                allowed |= {"status"}  # a menu button may be /stop
            if after.profile is None:
                assert "forgotten" in allowed, f"{name}: the person vanished after {event!r}"
            else:
                changed = {k for k in before.profile if before.profile[k] != after.profile[k]}
                assert changed <= allowed, f"{name}: {event!r} changed {changed}"

        # start the next example from a fresh person when this one has moved on
        reached = (
            (after.conversation.flow, after.conversation.state) if after.conversation else None
        )
        if reached != target.state or after.profile != before.profile:
            self._current = None

    def _assert_valid_conversation(self, user: str, seen: Observation) -> None:
        conversation = seen.conversation
        if conversation is None:
            return
        if conversation.flow in VALID_STATES:
            assert conversation.state in states_of(conversation.flow), conversation.state
        else:
            # A typed number may answer the newest menu and open a flow beyond the
            # foundation's (/events, /offer, ...): it must at least be a flow the bot has.
            assert conversation.flow in FLOW_NAMES, conversation.flow
        assert seen.prompt is not None, "the conversation has no stored question"
        prompt_user, flow, state, bound, prompt_id = seen.prompt
        assert (prompt_user, flow, state, bound) == (
            user,
            conversation.flow,
            conversation.state,
            True,
        )
        assert any(d.message.prompt_id == prompt_id for d in self.transport.to(user)), (
            "the current question was never sent"
        )


@pytest.mark.parametrize("name", list(TARGETS))
def test_random_input_in_every_state_never_breaks_anything(name: str, backend: Backend) -> None:
    target = TARGETS[name]
    loop = asyncio.new_event_loop()
    harness = loop.run_until_complete(Harness.start(backend.url))
    try:

        @settings(
            max_examples=EXAMPLES_PER_STATE[backend.name],
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        )
        @given(events)
        def random_input(event: Event) -> None:
            loop.run_until_complete(harness.check(name, target, event))

        random_input()
    finally:
        loop.run_until_complete(harness.close())
        loop.close()
