"""`/tasks`: the organiser adds, changes and closes an event's tasks at any time.

Organisers are coordinators (their own events; admins all) and citizens for their own
initiatives. People who took a task are told when it changes or is dropped.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_, Translator
from conversations.core.messages import Choice, OutMessage
from conversations.core.words import SKIP_WORDS
from conversations.events.rules.invitations import refresh_pending_invitations
from conversations.tasks.rules.pledges import tell_pledgers
from conversations.tasks.rules.task_lines import parse_task
from storage.models import Event, EventOrigin, EventStatus

MAX_TASKS = 20


def can_organise(ctx: FlowContext, event: Event | None) -> bool:
    """Coordinators their own events (admins all); anyone their own initiative."""
    if event is None:
        return False
    if event.origin == EventOrigin.INITIATIVE and event.created_by_id == ctx.person.id:
        return True
    if not ctx.is_coordinator:
        return False
    return ctx.is_admin or event.created_by_id == ctx.person.id


async def organised(ctx: FlowContext) -> list[Event]:
    """Events this person may organise, newest first, including those that just ended."""
    recent = ctx.now() - timedelta(days=2)
    events: list[Event] = []
    if ctx.is_coordinator:
        owner = None if ctx.is_admin else ctx.person.id
        events += list(await ctx.uow.events.managed_by(owner))
    events += [
        e
        for e in await ctx.uow.initiatives.initiatives_by(ctx.person.id)
        if e.status == EventStatus.PUBLISHED and e not in events
    ]
    return [e for e in events if e.starts_at > recent][:9]


def not_yours(ctx: FlowContext) -> Transition:
    return Transition.end(
        OutMessage(ctx._(N_("Only the organiser can change that, and this isn't yours.")))
    )


class Step(StrEnum):
    CHOOSE = "choose"
    LIST = "list"
    TASK = "task"
    ADD = "add"
    RENAME = "rename"
    HANDS = "hands"


class ManageTasks(Flow):
    name = "tasks"
    commands = (
        CommandSpec(
            "tasks",
            "opgaver",
            N_("Add, change or close the tasks of your event"),
            button=N_("Tasks"),
        ),
    )

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not await organised(ctx):
            return Transition.end(
                OutMessage(
                    ctx._(
                        N_(
                            "You have no events or initiatives of your own yet. "
                            "/initiative starts one."
                        )
                    )
                )
            )
        return Transition.go(Step.CHOOSE, {})

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        step = Step(state)
        if step == Step.CHOOSE:
            events = await organised(ctx)
            return OutMessage(
                ctx._(N_("The tasks of which event?")),
                choices=tuple(
                    Choice(f"e{e.id}", f"{e.title} · {ctx.when(e.starts_at)}") for e in events
                ),
            )
        event = await ctx.uow.events.get(int(data["event_id"]))
        assert event is not None
        if step == Step.LIST:
            held = await ctx.uow.pledges.counts(event.id)
            lines = [ctx._(N_("Tasks for {title}:")).format(title=event.title)]
            choices: list[Choice] = []
            for task in await ctx.uow.events.tasks(event.id):
                if task.closed_at is not None:
                    continue
                lines.append(
                    ctx._(N_("• {task}: {held} of {hands} hands")).format(
                        task=task.title, held=held.get(task.id, 0), hands=task.hands
                    )
                )
                choices.append(Choice(f"t{task.id}", task.title))
            if not choices:
                lines.append(ctx._(N_("No tasks yet.")))
            choices.append(ctx.choice("add", N_("Add tasks"), "➕"))
            choices.append(ctx.choice("done", N_("Done"), "👍", "ok", "færdig"))
            return OutMessage("\n".join(lines), choices=tuple(choices))
        if step == Step.TASK:
            chosen = await ctx.uow.pledges.task(int(data["task_id"]))
            assert chosen is not None
            return OutMessage(
                ctx._(N_("{task} (×{hands}). What should change?")).format(
                    task=chosen.title, hands=chosen.hands
                ),
                choices=(
                    ctx.choice("rename", N_("The wording"), "✏️"),
                    ctx.choice("hands", N_("How many hands"), "🔢"),
                    ctx.choice("close", N_("Close it: not needed any more"), "🚫"),
                    ctx.choice("back", N_("Back to the list"), "↩️"),
                ),
            )
        if step == Step.ADD:
            return OutMessage(
                ctx._(
                    N_(
                        "Write the new tasks, one per line, with how many hands, for example "
                        '"medbring kage x2".'
                    )
                ),
                expects_text=True,
            )
        if step == Step.RENAME:
            return OutMessage(ctx._(N_("What should the task say now?")), expects_text=True)
        return OutMessage(
            ctx._(N_("How many hands does it need? Write a number.")), expects_text=True
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        step = Step(state)
        if step == Step.CHOOSE:
            choice = answer.choice or ""
            if not (choice.startswith("e") and choice[1:].isdigit()):
                return Transition.stay(data)
            event = await ctx.uow.events.get(int(choice[1:]))
            if not can_organise(ctx, event):
                return not_yours(ctx)
            assert event is not None
            return Transition.go(Step.LIST, {"event_id": event.id})
        event = await ctx.uow.events.get(int(data["event_id"]))
        if not can_organise(ctx, event):  # checked on every step: roles can change
            return not_yours(ctx)
        assert event is not None
        text = " ".join((answer.text or "").split())
        match step:
            case Step.LIST:
                if answer.choice == "done" or (answer.choice is None and text in SKIP_WORDS):
                    return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))
                if answer.choice == "add":
                    return Transition.go(Step.ADD, data)
                choice = answer.choice or ""
                if choice.startswith("t") and choice[1:].isdigit():
                    task = await ctx.uow.pledges.task(int(choice[1:]))
                    if task is not None and task.event_id == event.id and task.closed_at is None:
                        return Transition.go(Step.TASK, {**data, "task_id": task.id})
                return Transition.stay(data)
            case Step.ADD:
                added = [parse_task(line) for line in (answer.text or "").splitlines()]
                new = [t for t in added if t]
                existing = await ctx.uow.events.tasks(event.id)
                if not new:
                    return Transition.stay(data)
                if len(existing) + len(new) > MAX_TASKS:
                    return Transition.stay(
                        data, OutMessage(ctx._(N_("That is a lot of tasks; 20 at most.")))
                    )
                for offset, (title, hands) in enumerate(new):
                    await ctx.uow.events.add_task(event.id, title, hands, len(existing) + offset)
                await self._refresh(ctx, event)
                return Transition.go(Step.LIST, data, OutMessage(ctx._(N_("Added. 👍"))))
        task = await ctx.uow.pledges.task(int(data["task_id"]))
        if task is None or task.event_id != event.id or task.closed_at is not None:
            return Transition.go(Step.LIST, data)
        pledgers = await ctx.uow.pledges.pledgers(task.id)
        now = ctx.now()
        match step:
            case Step.TASK:
                if answer.choice == "rename":
                    return Transition.go(Step.RENAME, data)
                if answer.choice == "hands":
                    return Transition.go(Step.HANDS, data)
                if answer.choice == "back":
                    return Transition.go(Step.LIST, data)
                if answer.choice != "close":
                    return Transition.stay(data)
                task.closed_at = now
                for pledge_task in pledgers:
                    pledge = await ctx.uow.pledges.active(task.id, pledge_task)
                    if pledge is not None:
                        pledge.withdrawn_at = now
                title = task.title

                def closed(tr: Translator) -> str:
                    return tr.gettext(
                        N_("{task} at {title} is no longer needed. Thank you all the same! 🌿")
                    ).format(task=title, title=event.title)

                await tell_pledgers(ctx.services, event, pledgers, closed, f"taskclosed:{task.id}")
                await self._refresh(ctx, event)
                note = ctx.ngettext(
                    "Closed. I'm telling the {n} person who had taken it.",
                    "Closed. I'm telling the {n} people who had taken it.",
                    len(pledgers),
                ).format(n=len(pledgers))
                return Transition.go(Step.LIST, data, OutMessage(note))
            case Step.RENAME:
                if not text or len(text) > 120:
                    return Transition.stay(data)
                old, task.title = task.title, text

                def renamed(tr: Translator) -> str:
                    return tr.gettext(
                        N_("The task you took at {title} has changed: {old} → {new}")
                    ).format(title=event.title, old=old, new=text)

                key = f"taskchg:{task.id}:{now.isoformat()}"
                await tell_pledgers(ctx.services, event, pledgers, renamed, key)
            case Step.HANDS:
                if not text.isdigit() or not 0 < int(text) <= 50:
                    return Transition.stay(
                        data, OutMessage(ctx._(N_("Please write a number, like 2.")))
                    )
                hands = int(text)
                if hands != task.hands:
                    task.hands = hands

                    def resized(tr: Translator) -> str:
                        return tr.gettext(
                            N_("The task you took at {title}, {task}, now needs {n} hands.")
                        ).format(title=event.title, task=task.title, n=hands)

                    key = f"taskhands:{task.id}:{now.isoformat()}"
                    await tell_pledgers(ctx.services, event, pledgers, resized, key)
        await self._refresh(ctx, event)
        return Transition.go(Step.LIST, data, OutMessage(ctx._(N_("Saved. 👍"))))

    async def _refresh(self, ctx: FlowContext, event: Event) -> None:
        await ctx.uow.flush()
        await refresh_pending_invitations(ctx.services, event)
