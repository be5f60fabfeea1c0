"""The organiser's side of checking in, asked from `/attendees`: tick the names of those
who came (tap again to take it back), and the event's check-in QR code to hang up at the
place. Co-organisers may do both; their ticks are logged."""

from __future__ import annotations

from conversations.core.choice_ids import ChoiceKey
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question
from conversations.events.flows.pick_event import ChosenEventData, chosen_event
from conversations.events.rules.attachments import qr_attachment
from conversations.events.rules.check_ins import EXPECTED, CheckInWindow, check_in_payload
from conversations.events.rules.live_view import name_of
from conversations.events.rules.organisers import Action, log_if_co_organiser
from conversations.events.rules.wording import deep_link_url, matrix_way_in
from storage.models import CheckInVia, Event, Person

TICK = ChoiceKey("p")
TICK_STATE = "tick"
LIST_STATE = "list"
MAX_NAMES = 40


async def expected(ctx: FlowContext, event: Event) -> list[Person]:
    """Those coming, maybe coming or waiting, then anyone checked in besides (by the QR)."""
    ids = [r.person_id for r in await ctx.uow.events.rsvps(event.id, *EXPECTED) if r.person_id]
    ids += sorted(await ctx.uow.check_ins.checked_in(event.id) - set(ids))
    people = [p for pid in ids if (p := await ctx.uow.persons.get(pid)) is not None]
    return people[:MAX_NAMES]


class TickNames(Question[ChosenEventData]):
    state = TICK_STATE

    async def ask(self, ctx: FlowContext, data: ChosenEventData) -> OutMessage:
        event = await chosen_event(ctx, data)
        here = await ctx.uow.check_ins.checked_in(event.id)
        people = await expected(ctx, event)
        text = ctx._(N_("Tap the names of those who are here ({n} so far); tap again to undo."))
        # ticked says so in words too, for a screen reader
        ticked = ctx._(N_("{name} (checked in)"))
        choices = [
            Choice(
                TICK.of(p.id),
                "✅ " + ticked.format(name=name_of(ctx.translator, p))
                if p.id in here
                else "⬜ " + name_of(ctx.translator, p),
            )
            for p in people
        ]
        choices.append(ctx.choice("done", N_("Done"), "👍", "ok"))
        return OutMessage(text.format(n=len(here)), choices=tuple(choices))

    async def take(self, ctx: FlowContext, data: ChosenEventData, answer: Answer) -> Transition:
        if answer.choice == "done":
            return Transition.go(LIST_STATE, data)
        event = await chosen_event(ctx, data)
        if not CheckInWindow.of(ctx.config).ticks_open_at(event, ctx.now()):
            return Transition.go(LIST_STATE, data, not_yet(ctx))
        person_id = TICK.parse(answer.choice)
        # the tap proves nothing: only someone on this event's list is ticked
        person = next((p for p in await expected(ctx, event) if p.id == person_id), None)
        if person is None:
            return Transition.stay(data)
        uow, admin = ctx.uow, ctx.is_admin
        if await uow.check_ins.is_checked_in(event.id, person.id):
            await uow.check_ins.undo(event.id, person.id)
            action = Action.UNCHECKED
        else:
            await uow.check_ins.check_in(event.id, person.id, CheckInVia.ORGANISER, ctx.person.id)
            action = Action.CHECKED_IN
        # no name in the log: it would outlive that person's /forget
        await log_if_co_organiser(ctx.services, event, ctx.person, action, is_admin=admin)
        return Transition.stay(data)


def not_yet(ctx: FlowContext) -> OutMessage:
    window = CheckInWindow.of(ctx.config).words(ctx.translator)
    ticks = ctx._(N_("Names can be ticked until a day after it closes."))
    return OutMessage(f"{window} {ticks}")


async def open_ticks(ctx: FlowContext, data: ChosenEventData) -> Transition:
    event = await chosen_event(ctx, data)
    if not CheckInWindow.of(ctx.config).ticks_open_at(event, ctx.now()):
        return Transition.stay(data, not_yet(ctx))
    return Transition.go(TICK_STATE, data)


async def check_in_qr(ctx: FlowContext, event: Event, bot_username: str | None) -> OutMessage:
    payload = check_in_payload(await ctx.uow.check_ins.code_of(event))
    window = CheckInWindow.of(ctx.config).words(ctx.translator)
    url = deep_link_url(bot_username, payload)
    if url is None:
        how = ctx._(N_("People can check in by writing: /start {payload}")).format(payload=payload)
        on_matrix = matrix_way_in(ctx.translator, ctx.config.matrix_user_id, payload)
        return OutMessage("\n".join(line for line in (how, on_matrix, window) if line))
    return OutMessage(
        ctx._(
            N_(
                "The check-in code for {title}. Hang it up at the place: scanning it checks "
                "people in. {window} It is not the invitation's code.\n{url}"
            )
        ).format(title=event.title, window=window, url=url),
        attachment=qr_attachment(url),
    )
