"""`/coorganisers`: the creator of an event adds other coordinators, or a citizen who is
coming, to help run it; sees who helps, what they did lately, and takes them off again.

Only the creator and admins use this tool (a co-organiser cannot add others); what
co-organisers may do is in `pick_event.can_assist`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from conversations.core.choice_ids import ChoiceKey
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question, by_state
from conversations.events.flows.pick_event import (
    CHOOSE,
    ChooseEvent,
    ChosenEventData,
    ManageEventFlow,
    chosen_event,
)
from conversations.events.rules.organisers import Action, tell_new_organiser
from storage.models import Event, OrganiserAction, Person, Role, RsvpAnswer

ADD = ChoiceKey("a")
REMOVE = ChoiceKey("x")
MAX_CANDIDATES = 12
LOG_LINES = 8

ACTION_WORDS = {
    Action.VIEWED: N_("looked at who is coming"),
    Action.WROTE: N_("wrote to those coming"),
    Action.CHECKED_IN: N_("checked someone in"),
    Action.UNCHECKED: N_("took a check-in back"),
    Action.REPORT: N_("read the report"),
    Action.PRINTED: N_("took the list of those coming"),
    Action.TASKS: N_("looked at the tasks"),
}


class OrganisersStep(StrEnum):
    CHOOSE = CHOOSE
    LIST = "list"
    ADD = "add"


def _name(ctx: FlowContext, person: Person | None) -> str:
    return (person.display_name if person else None) or ctx._(N_("(no name)"))


async def _log_lines(ctx: FlowContext, actions: Sequence[OrganiserAction]) -> list[str]:
    lines = []
    for action in actions:
        person = await ctx.uow.persons.get(action.person_id) if action.person_id else None
        what = ctx._(ACTION_WORDS.get(action.action, action.action))
        lines.append(f"• {ctx.when(action.at)}: {_name(ctx, person)} {what}")
    return lines


async def candidates(ctx: FlowContext, event: Event) -> list[Person]:
    """Coordinators, then the people coming: those not helping yet, not the creator."""
    taken = {p.id for p in await ctx.uow.organisers.organisers(event.id)}
    taken.add(event.created_by_id or 0)
    found: list[Person] = list(await ctx.uow.persons.coordinators(ctx.config.named_coordinators))
    for rsvp in await ctx.uow.events.rsvps(event.id, RsvpAnswer.YES):
        person = await ctx.uow.persons.get(rsvp.person_id) if rsvp.person_id else None
        if person is not None:
            found.append(person)
    unique = {p.id: p for p in found if p.id not in taken}
    return list(unique.values())[:MAX_CANDIDATES]


class ChooseEventToShare(ChooseEvent[ChosenEventData]):
    question = N_("Which event would you like help with?")

    async def chosen(self, ctx: FlowContext, event: Event) -> Transition:
        return Transition.go(OrganisersStep.LIST, ChosenEventData(event_id=event.id))


class ListOrganisers(Question[ChosenEventData]):
    state = OrganisersStep.LIST

    async def ask(self, ctx: FlowContext, data: ChosenEventData) -> OutMessage:
        event = await chosen_event(ctx, data)
        helpers = await ctx.uow.organisers.organisers(event.id)
        lines = [f"🌿 {event.title} · {ctx.when(event.starts_at)}"]
        if helpers:
            lines.append(
                ctx._(N_("Helping to run it: {names}")).format(
                    names=", ".join(_name(ctx, p) for p in helpers)
                )
            )
        else:
            lines.append(ctx._(N_("Nobody helps to run it yet.")))
        log = await _log_lines(ctx, await ctx.uow.organisers.actions(event.id, LOG_LINES))
        if log:
            lines += ["", ctx._(N_("What they did lately:")), *log]
        choices = [ctx.choice("add", N_("Add someone"), "➕")]
        choices += [
            Choice(REMOVE.of(p.id), "✖️ " + ctx._(N_("Take off {name}")).format(name=_name(ctx, p)))
            for p in helpers
        ]
        choices.append(ctx.choice("done", N_("Done"), "👍", "ok"))
        return OutMessage("\n".join(lines), choices=tuple(choices))

    async def take(self, ctx: FlowContext, data: ChosenEventData, answer: Answer) -> Transition:
        if answer.choice == "add":
            return Transition.go(OrganisersStep.ADD, data)
        if answer.choice == "done":
            return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))
        person_id = REMOVE.parse(answer.choice)
        if person_id is not None:
            await ctx.uow.organisers.remove((await chosen_event(ctx, data)).id, person_id)
        return Transition.stay(data)


class AddOrganiser(Question[ChosenEventData]):
    state = OrganisersStep.ADD

    async def ask(self, ctx: FlowContext, data: ChosenEventData) -> OutMessage:
        found = await candidates(ctx, await chosen_event(ctx, data))
        text = ctx._(
            N_(
                "Who should help? Other coordinators and the people who are coming can. "
                "They see who comes, write to them, check people in and read the report; "
                "only you change or cancel the event."
            )
        )
        if not found:
            text = ctx._(N_("There is nobody to add yet: nobody else is coming so far."))
        choices = [Choice(ADD.of(p.id), _name(ctx, p)) for p in found]
        choices.append(ctx.choice("back", N_("Back"), "↩️"))
        return OutMessage(text, choices=tuple(choices))

    async def take(self, ctx: FlowContext, data: ChosenEventData, answer: Answer) -> Transition:
        if answer.choice == "back":
            return Transition.go(OrganisersStep.LIST, data)
        event = await chosen_event(ctx, data)
        person_id = ADD.parse(answer.choice)
        # the tap proves nothing: only someone who is a candidate now is added
        helper = next((p for p in await candidates(ctx, event) if p.id == person_id), None)
        if helper is None:
            return Transition.stay(data)
        await ctx.uow.organisers.add(event.id, helper.id, ctx.person.id)
        await tell_new_organiser(ctx.services, event, helper, ctx.person)
        note = ctx._(N_("{name} helps to run it now, and has been told.")).format(
            name=_name(ctx, helper)
        )
        return Transition.go(OrganisersStep.LIST, data, OutMessage(note))


class CoOrganisers(ManageEventFlow[ChosenEventData]):
    name = "coorganisers"
    data_model = ChosenEventData
    commands = (
        CommandSpec(
            "coorganisers",
            "medarrangoerer",
            N_("Let others help run an event"),
            role=Role.COORDINATOR,
        ),
    )

    _questions = by_state(ChooseEventToShare(), ListOrganisers(), AddOrganiser())

    @property
    def questions(self) -> Mapping[str, Question[ChosenEventData]]:
        return self._questions
