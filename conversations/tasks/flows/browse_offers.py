"""`/offers`: coordinators browse the offers of help and ask a person through the bot."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.events.flows.pick_event import only_coordinators
from conversations.tasks.flows.offer_help import area_choices, kind_choices
from conversations.tasks.flows.reply_about_offer import MAX_MESSAGE
from conversations.tasks.rules.offers import KIND_LABELS, carry, describe
from storage.models import OfferStatus, Role


class BrowseStep(StrEnum):
    KIND = "kind"
    AREA = "area"
    LIST = "list"
    WRITE = "write"


class BrowseOffers(Flow):
    name = "offers"
    commands = (
        CommandSpec(
            "offers",
            "tilbud",
            N_("Browse offers of help and ask people"),
            role=Role.COORDINATOR,
        ),
    )

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        return Transition.go(BrowseStep.KIND, {})

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        match BrowseStep(state):
            case BrowseStep.KIND:
                choices = [*kind_choices(ctx), ctx.choice("all", N_("All kinds"), "✨", "alle")]
                return OutMessage(ctx._(N_("Which kind of help?")), choices=tuple(choices))
            case BrowseStep.AREA:
                return OutMessage(
                    ctx._(N_("Where?")), choices=tuple(await area_choices(ctx, N_("All areas")))
                )
            case BrowseStep.LIST:
                found = await ctx.uow.offers.browse(data.get("kind"), data.get("area"))
                if not found:
                    return OutMessage(
                        ctx._(N_("No offers like that right now.")),
                        choices=(
                            ctx.choice("again", N_("Look again"), "🔎"),
                            ctx.choice("done", N_("Done"), "👍", "ok"),
                        ),
                    )
                lines = [ctx._(N_("Offers of help:"))]
                choices = []
                for number, item in enumerate(found, start=1):
                    lines.append(f"{number}. {await describe(ctx.uow, ctx.translator, item)}")
                    choices.append(
                        Choice(f"a{item.id}", ctx._(N_("Ask #{n}")).format(n=number), "✉️")
                    )
                lines.append(
                    ctx._(N_("I carry your question; nobody's contact details are shown."))
                )
                choices.append(ctx.choice("again", N_("Look again"), "🔎"))
                choices.append(ctx.choice("done", N_("Done"), "👍", "ok"))
                return OutMessage("\n".join(lines), choices=tuple(choices))
            case BrowseStep.WRITE:
                return OutMessage(
                    ctx._(
                        N_("Write your question. I'll pass it on; they can answer you through me.")
                    ),
                    expects_text=True,
                )

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        match BrowseStep(state):
            case BrowseStep.KIND:
                if answer.choice == "all":
                    data["kind"] = None
                elif answer.choice in KIND_LABELS:
                    data["kind"] = answer.choice
                else:
                    return Transition.stay(data)
                return Transition.go(BrowseStep.AREA, data)
            case BrowseStep.AREA:
                choice = answer.choice or ""
                if choice == "anywhere":
                    data["area"] = None
                elif choice.startswith("a") and choice[1:].isdigit():
                    data["area"] = int(choice[1:])
                else:
                    return Transition.stay(data)
                return Transition.go(BrowseStep.LIST, data)
            case BrowseStep.LIST:
                choice = answer.choice or ""
                if choice == "again":
                    return Transition.go(BrowseStep.KIND, {})
                if choice.startswith("a") and choice[1:].isdigit():
                    item = await ctx.uow.offers.offer(int(choice[1:]))
                    if item is not None and item.status == OfferStatus.ACTIVE:
                        return Transition.go(BrowseStep.WRITE, {**data, "offer_id": item.id})
                    return Transition.stay(data)
                return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))
            case BrowseStep.WRITE:
                note = (answer.text or "").strip()
                if not note or len(note) > MAX_MESSAGE:
                    return Transition.stay(
                        data, OutMessage(ctx._(N_("Please write a short message.")))
                    )
                item = await ctx.uow.offers.offer(int(data["offer_id"]))
                if item is None or item.status != OfferStatus.ACTIVE:
                    return Transition.end(
                        OutMessage(ctx._(N_("That offer has been withdrawn in the meantime.")))
                    )
                sent = await carry(
                    ctx.services,
                    item,
                    note,
                    sender_id=ctx.person.id,
                    recipient_id=item.person_id,
                    first=True,
                )
                if not sent:
                    return Transition.end(
                        OutMessage(ctx._(N_("I can't reach that person right now, sorry.")))
                    )
                return Transition.end(
                    OutMessage(
                        ctx._(N_("On its way. ✉️ If they answer, I'll bring it to you here."))
                    )
                )
        return Transition.stay(data)
