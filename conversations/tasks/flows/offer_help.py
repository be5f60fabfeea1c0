"""`/offer` and `/myoffers`: offering something I can give without a task, and seeing,
changing or withdrawing my offers.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from conversations.core.choice_ids import ChoiceKey
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.core.words import SKIP_WORDS
from conversations.tasks.offer_choices import AREA, area_choices, chosen_kind, kind_choices
from conversations.tasks.rules.offers import describe
from storage.models import Offer, OfferKind, OfferStatus, TopicKind

MAX_OFFER = 500
MAX_WHEN = 200

OFFER = ChoiceKey("o")  # one of my offers, to change or withdraw


class OfferStep(StrEnum):
    MENU = "menu"
    TEXT = "text"
    KIND = "kind"
    AREA = "area"
    WHEN = "when"
    ONE = "one"


class MyOffersData(FlowData):
    # the offer being changed; without it the answers make a new offer
    offer_id: int | None = None
    # a new offer's answers so far
    text: str | None = None
    kind: OfferKind | None = None
    area: int | None = None  # the area topic; none is anywhere


async def own_offer(ctx: FlowContext, offer_id: int | None) -> Offer | None:
    """This person's active offer with that id; anyone else's, or a withdrawn one, is None."""
    item = await ctx.uow.offers.offer(offer_id) if offer_id else None
    if item is None or item.person_id != ctx.person.id or item.status != OfferStatus.ACTIVE:
        return None
    return item


def saved(ctx: FlowContext) -> Transition:
    """A change to an offer is kept at once; back to the list of offers."""
    return Transition.go(OfferStep.MENU, MyOffersData(), OutMessage(ctx._(N_("Saved. 👍"))))


class YourOffers(Question[MyOffersData]):
    state = OfferStep.MENU

    async def ask(self, ctx: FlowContext, data: MyOffersData) -> OutMessage:
        mine = await ctx.uow.offers.offers_of(ctx.person.id)
        lines = [ctx._(N_("Your offers:"))]
        choices = []
        for number, item in enumerate(mine[:8], start=1):
            lines.append(f"{number}. {await describe(ctx.services, ctx.translator, item)}")
            choices.append(Choice(OFFER.of(item.id), f"{number}. {item.text[:40]}"))
        choices.append(ctx.choice("new", N_("Offer something new"), "➕"))
        choices.append(ctx.choice("done", N_("Done"), "👍", "ok", "færdig"))
        return OutMessage("\n".join(lines), choices=tuple(choices))

    async def take(self, ctx: FlowContext, data: MyOffersData, answer: Answer) -> Transition:
        if answer.choice == "new":
            return Transition.go(OfferStep.TEXT, MyOffersData())
        offer_id = OFFER.parse(answer.choice)
        if offer_id is None:
            return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))
        if await own_offer(ctx, offer_id) is None:
            return Transition.stay(data)
        return Transition.go(OfferStep.ONE, MyOffersData(offer_id=offer_id))


class WhatYouCanGive(Question[MyOffersData]):
    state = OfferStep.TEXT

    async def ask(self, ctx: FlowContext, data: MyOffersData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    'What can you give? A few words, for example "I can drive two '
                    'people from the station" or "I can cook soup for ten".'
                )
            ),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: MyOffersData, answer: Answer) -> Transition:
        text = " ".join((answer.text or "").split())
        if not text or len(text) > MAX_OFFER:
            return Transition.stay(
                data, OutMessage(ctx._(N_("Please write a few words about it.")))
            )
        editing = await own_offer(ctx, data.offer_id)
        if editing is not None:
            editing.text = text
            ctx.uow.offers.touch(editing)
            return saved(ctx)
        data.text = text
        return Transition.go(OfferStep.KIND, data)


class WhatKind(Question[MyOffersData]):
    state = OfferStep.KIND

    async def ask(self, ctx: FlowContext, data: MyOffersData) -> OutMessage:
        return OutMessage(ctx._(N_("What kind of help is it?")), choices=tuple(kind_choices(ctx)))

    async def take(self, ctx: FlowContext, data: MyOffersData, answer: Answer) -> Transition:
        kind = chosen_kind(answer.choice)
        if kind is None:
            return Transition.stay(data)
        data.kind = kind
        return Transition.go(OfferStep.AREA, data)


class WhereYouHelp(Question[MyOffersData]):
    state = OfferStep.AREA

    async def ask(self, ctx: FlowContext, data: MyOffersData) -> OutMessage:
        return OutMessage(
            ctx._(N_("Where can you help?")),
            choices=tuple(await area_choices(ctx, N_("Anywhere"))),
        )

    async def take(self, ctx: FlowContext, data: MyOffersData, answer: Answer) -> Transition:
        if answer.choice == "anywhere":
            data.area = None
            return Transition.go(OfferStep.WHEN, data)
        area_id = AREA.parse(answer.choice)
        topic = await ctx.uow.topics.get(area_id) if area_id is not None else None
        if topic is None or topic.kind != TopicKind.AREA:
            return Transition.stay(data)
        data.area = topic.id
        return Transition.go(OfferStep.WHEN, data)


class WhenPossible(Question[MyOffersData]):
    state = OfferStep.WHEN

    async def ask(self, ctx: FlowContext, data: MyOffersData) -> OutMessage:
        return OutMessage(
            ctx._(N_('When is it usually possible? For example "weekends" or "tuesdays".')),
            choices=(ctx.choice("skip", N_("Skip"), "⏭", *SKIP_WORDS),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: MyOffersData, answer: Answer) -> Transition:
        text = " ".join((answer.text or "").split())
        when = "" if answer.choice == "skip" else text[:MAX_WHEN]
        editing = await own_offer(ctx, data.offer_id)
        if editing is not None:
            editing.when_possible = when
            ctx.uow.offers.touch(editing)
            return saved(ctx)
        assert data.text is not None, "the text is asked before when"
        assert data.kind is not None, "the kind is asked before when"
        await ctx.uow.offers.add_offer(
            person_id=ctx.person.id,
            text=data.text,
            kind=data.kind,
            area_topic_id=data.area,
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


class OneOffer(Question[MyOffersData]):
    state = OfferStep.ONE

    async def ask(self, ctx: FlowContext, data: MyOffersData) -> OutMessage:
        own = await own_offer(ctx, data.offer_id)
        text = await describe(ctx.services, ctx.translator, own) if own else ""
        return OutMessage(
            ctx._(N_("{offer}\n\nWhat would you like to do?")).format(offer=text),
            choices=(
                ctx.choice("text", N_("Change the text"), "✏️"),
                ctx.choice("when", N_("Change when"), "🕰"),
                ctx.choice("withdraw", N_("Withdraw it"), "🗑"),
                ctx.choice("back", N_("Back"), "↩️"),
            ),
        )

    async def take(self, ctx: FlowContext, data: MyOffersData, answer: Answer) -> Transition:
        editing = await own_offer(ctx, data.offer_id)
        if editing is None or answer.choice not in ("text", "when", "withdraw"):
            return Transition.go(OfferStep.MENU, MyOffersData())
        if answer.choice == "text":
            return Transition.go(OfferStep.TEXT, data)
        if answer.choice == "when":
            return Transition.go(OfferStep.WHEN, data)
        editing.status = OfferStatus.WITHDRAWN
        ctx.uow.offers.touch(editing)
        note = OutMessage(ctx._(N_("Withdrawn. Thank you for offering it.")))
        if await ctx.uow.offers.offers_of(ctx.person.id):
            return Transition.go(OfferStep.MENU, MyOffersData(), note)
        return Transition.end(note)


QUESTIONS = by_state(
    YourOffers(), WhatYouCanGive(), WhatKind(), WhereYouHelp(), WhenPossible(), OneOffer()
)


class MyOffers(QuestionFlow[MyOffersData]):
    """`/offer` (new, or the list when there are some) and `/myoffers` (`args="mine"`)."""

    name = "offer"
    data_model = MyOffersData
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

    @property
    def questions(self) -> Mapping[str, Question[MyOffersData]]:
        return QUESTIONS

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        mine = await ctx.uow.offers.offers_of(ctx.person.id)
        if args.strip() == "mine" or (mine and args.strip() != "new"):
            if not mine:
                return Transition.go(
                    OfferStep.TEXT,
                    MyOffersData(),
                    OutMessage(ctx._(N_("You have no offers yet. Let's make one!"))),
                )
            return Transition.go(OfferStep.MENU, MyOffersData())
        intro = ctx._(
            N_(
                "Everyone has something to give. 🌱 Tell me what you can offer, and "
                "coordinators can ask you through me. Your contact details stay with you."
            )
        )
        return Transition.go(OfferStep.TEXT, MyOffersData(), OutMessage(intro))
