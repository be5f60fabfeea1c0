"""`/offer` and `/myoffers`: offering something I can give without a task, and seeing,
changing or withdrawing my offers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.words import SKIP_WORDS
from conversations.tasks.rules.offers import KIND_LABELS, describe
from storage.models import Offer, OfferStatus, TopicKind

MAX_OFFER = 500


MAX_WHEN = 200


def kind_choices(ctx: FlowContext) -> list[Choice]:
    return [ctx.choice(str(kind), label, emoji) for kind, (label, emoji) in KIND_LABELS.items()]


async def area_choices(ctx: FlowContext, everywhere: str) -> list[Choice]:
    language = ctx.translator.language
    choices = [
        Choice(f"a{t.id}", t.name(language), aliases=(t.name_da, t.name_en, t.slug))
        for t in await ctx.uow.topics.active(TopicKind.AREA)
    ]
    choices.append(ctx.choice("anywhere", everywhere, "🌍"))
    return choices


class OfferStep(StrEnum):
    MENU = "menu"
    TEXT = "text"
    KIND = "kind"
    AREA = "area"
    WHEN = "when"
    ONE = "one"


class MyOffers(Flow):
    """`/offer` (new, or the list when there are some) and `/myoffers` (`args="mine"`)."""

    name = "offer"
    commands = (
        CommandSpec("offer", "tilbyd", N_("Offer something you can give"), button=N_("Offer help")),
        CommandSpec(
            "myoffers",
            "minetilbud",
            N_("See, change or withdraw your offers"),
            args="mine",
            in_menu=False,
        ),
    )

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        mine = await ctx.uow.offers.offers_of(ctx.person.id)
        if args.strip() == "mine" or (mine and args.strip() != "new"):
            if not mine:
                return Transition.go(
                    OfferStep.TEXT,
                    {},
                    OutMessage(ctx._(N_("You have no offers yet. Let's make one!"))),
                )
            return Transition.go(OfferStep.MENU, {})
        intro = ctx._(
            N_(
                "Everyone has something to give. 🌱 Tell me what you can offer, and "
                "coordinators can ask you through me. Your contact details stay with you."
            )
        )
        return Transition.go(OfferStep.TEXT, {}, OutMessage(intro))

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        match OfferStep(state):
            case OfferStep.MENU:
                mine = await ctx.uow.offers.offers_of(ctx.person.id)
                lines = [ctx._(N_("Your offers:"))]
                choices = []
                for number, item in enumerate(mine[:8], start=1):
                    lines.append(f"{number}. {await describe(ctx.uow, ctx.translator, item)}")
                    choices.append(Choice(f"o{item.id}", f"{number}. {item.text[:40]}"))
                choices.append(ctx.choice("new", N_("Offer something new"), "➕"))
                choices.append(ctx.choice("done", N_("Done"), "👍", "ok", "færdig"))
                return OutMessage("\n".join(lines), choices=tuple(choices))
            case OfferStep.TEXT:
                return OutMessage(
                    ctx._(
                        N_(
                            'What can you give? A few words, for example "I can drive two '
                            'people from the station" or "I can cook soup for ten".'
                        )
                    ),
                    expects_text=True,
                )
            case OfferStep.KIND:
                return OutMessage(
                    ctx._(N_("What kind of help is it?")), choices=tuple(kind_choices(ctx))
                )
            case OfferStep.AREA:
                return OutMessage(
                    ctx._(N_("Where can you help?")),
                    choices=tuple(await area_choices(ctx, N_("Anywhere"))),
                )
            case OfferStep.WHEN:
                return OutMessage(
                    ctx._(N_('When is it usually possible? For example "weekends" or "tuesdays".')),
                    choices=(ctx.choice("skip", N_("Skip"), "⏭", *SKIP_WORDS),),
                    expects_text=True,
                )
            case OfferStep.ONE:
                own = await self._own(ctx, data)
                text = await describe(ctx.uow, ctx.translator, own) if own else ""
                return OutMessage(
                    ctx._(N_("{offer}\n\nWhat would you like to do?")).format(offer=text),
                    choices=(
                        ctx.choice("text", N_("Change the text"), "✏️"),
                        ctx.choice("when", N_("Change when"), "🕰"),
                        ctx.choice("withdraw", N_("Withdraw it"), "🗑"),
                        ctx.choice("back", N_("Back"), "↩️"),
                    ),
                )

    async def _own(self, ctx: FlowContext, data: dict[str, Any]) -> Offer | None:
        offer_id = data.get("offer_id")
        item = await ctx.uow.offers.offer(int(offer_id)) if offer_id else None
        if item is None or item.person_id != ctx.person.id or item.status != OfferStatus.ACTIVE:
            return None
        return item

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        step = OfferStep(state)
        text = " ".join((answer.text or "").split())
        editing = await self._own(ctx, data)
        match step:
            case OfferStep.MENU:
                if answer.choice == "new":
                    return Transition.go(OfferStep.TEXT, {})
                choice = answer.choice or ""
                if choice.startswith("o") and choice[1:].isdigit():
                    if await self._own(ctx, {"offer_id": int(choice[1:])}) is not None:
                        return Transition.go(OfferStep.ONE, {"offer_id": int(choice[1:])})
                    return Transition.stay(data)
                return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))
            case OfferStep.TEXT:
                if not text or len(text) > MAX_OFFER:
                    return Transition.stay(
                        data, OutMessage(ctx._(N_("Please write a few words about it.")))
                    )
                if editing is not None:
                    editing.text = text
                    ctx.uow.offers.touch(editing)
                    return Transition.go(OfferStep.MENU, {}, OutMessage(ctx._(N_("Saved. 👍"))))
                data["text"] = text
                return Transition.go(OfferStep.KIND, data)
            case OfferStep.KIND:
                if answer.choice not in KIND_LABELS:
                    return Transition.stay(data)
                data["kind"] = answer.choice
                return Transition.go(OfferStep.AREA, data)
            case OfferStep.AREA:
                choice = answer.choice or ""
                if choice == "anywhere":
                    data["area"] = None
                elif choice.startswith("a") and choice[1:].isdigit():
                    topic = await ctx.uow.topics.get(int(choice[1:]))
                    if topic is None or topic.kind != TopicKind.AREA:
                        return Transition.stay(data)
                    data["area"] = topic.id
                else:
                    return Transition.stay(data)
                return Transition.go(OfferStep.WHEN, data)
            case OfferStep.WHEN:
                when = "" if answer.choice == "skip" else text[:MAX_WHEN]
                if editing is not None:
                    editing.when_possible = when
                    ctx.uow.offers.touch(editing)
                    return Transition.go(OfferStep.MENU, {}, OutMessage(ctx._(N_("Saved. 👍"))))
                await ctx.uow.offers.add_offer(
                    person_id=ctx.person.id,
                    text=data["text"],
                    kind=data["kind"],
                    area_topic_id=data.get("area"),
                    when_possible=when,
                )
                return Transition.end(
                    OutMessage(
                        ctx._(
                            N_(
                                "Thank you! 🌱 Your offer is saved. A coordinator may ask you "
                                "about it through me; you decide what to answer. /myoffers "
                                "shows, changes or withdraws it."
                            )
                        )
                    )
                )
            case OfferStep.ONE:
                if editing is None:
                    return Transition.go(OfferStep.MENU, {})
                if answer.choice == "text":
                    return Transition.go(OfferStep.TEXT, data)
                if answer.choice == "when":
                    return Transition.go(OfferStep.WHEN, data)
                if answer.choice == "withdraw":
                    editing.status = OfferStatus.WITHDRAWN
                    ctx.uow.offers.touch(editing)
                    note = OutMessage(ctx._(N_("Withdrawn. Thank you for offering it.")))
                    if await ctx.uow.offers.offers_of(ctx.person.id):
                        return Transition.go(OfferStep.MENU, {}, note)
                    return Transition.end(note)
                return Transition.go(OfferStep.MENU, {})
        return Transition.stay(data)
