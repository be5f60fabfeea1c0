"""`/offers`: coordinators browse the offers of help and ask a person through the bot."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from conversations.core.choice_ids import ChoiceKey
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.events.flows.pick_event import only_coordinators
from conversations.tasks.offer_choices import AREA, area_choices, chosen_kind, kind_choices
from conversations.tasks.rules.offers import MAX_MESSAGE, carry, describe
from storage.models import OfferKind, OfferStatus, Role

# An offer found, to ask its person about. The same letter as an area, but never on the same
# question; stored buttons carry it, so it stays.
ASK = ChoiceKey("a")


class BrowseStep(StrEnum):
    KIND = "kind"
    AREA = "area"
    LIST = "list"
    WRITE = "write"


class BrowseOffersData(FlowData):
    kind: OfferKind | None = None  # none is every kind
    area: int | None = None  # the area topic; none is every area
    offer_id: int | None = None  # the offer whose person is asked


class WhichKind(Question[BrowseOffersData]):
    state = BrowseStep.KIND

    async def ask(self, ctx: FlowContext, data: BrowseOffersData) -> OutMessage:
        choices = [*kind_choices(ctx), ctx.choice("all", N_("All kinds"), "✨", "alle")]
        return OutMessage(ctx._(N_("Which kind of help?")), choices=tuple(choices))

    async def take(self, ctx: FlowContext, data: BrowseOffersData, answer: Answer) -> Transition:
        kind = chosen_kind(answer.choice)
        if kind is None and answer.choice != "all":
            return Transition.stay(data)
        data.kind = kind
        return Transition.go(BrowseStep.AREA, data)


class WhichArea(Question[BrowseOffersData]):
    state = BrowseStep.AREA

    async def ask(self, ctx: FlowContext, data: BrowseOffersData) -> OutMessage:
        return OutMessage(
            ctx._(N_("Where?")), choices=tuple(await area_choices(ctx, N_("All areas")))
        )

    async def take(self, ctx: FlowContext, data: BrowseOffersData, answer: Answer) -> Transition:
        area_id = AREA.parse(answer.choice)
        if area_id is None and answer.choice != "anywhere":
            return Transition.stay(data)
        data.area = area_id
        return Transition.go(BrowseStep.LIST, data)


class OffersFound(Question[BrowseOffersData]):
    state = BrowseStep.LIST

    async def ask(self, ctx: FlowContext, data: BrowseOffersData) -> OutMessage:
        found = await ctx.uow.offers.browse(data.kind, data.area)
        look_again = ctx.choice("again", N_("Look again"), "🔎")
        done = ctx.choice("done", N_("Done"), "👍", "ok")
        if not found:
            return OutMessage(
                ctx._(N_("No offers like that right now.")), choices=(look_again, done)
            )
        lines = [ctx._(N_("Offers of help:"))]
        choices = []
        for number, item in enumerate(found, start=1):
            lines.append(f"{number}. {await describe(ctx.services, ctx.translator, item)}")
            choices.append(Choice(ASK.of(item.id), ctx._(N_("Ask #{n}")).format(n=number), "✉️"))
        lines.append(ctx._(N_("I carry your question; nobody's contact details are shown.")))
        return OutMessage("\n".join(lines), choices=(*choices, look_again, done))

    async def take(self, ctx: FlowContext, data: BrowseOffersData, answer: Answer) -> Transition:
        if answer.choice == "again":
            return Transition.go(BrowseStep.KIND, BrowseOffersData())
        offer_id = ASK.parse(answer.choice)
        if offer_id is None:
            return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))
        item = await ctx.uow.offers.offer(offer_id)
        if item is None or item.status != OfferStatus.ACTIVE:
            return Transition.stay(data)
        data.offer_id = item.id
        return Transition.go(BrowseStep.WRITE, data)


class WriteQuestion(Question[BrowseOffersData]):
    state = BrowseStep.WRITE

    async def ask(self, ctx: FlowContext, data: BrowseOffersData) -> OutMessage:
        return OutMessage(
            ctx._(N_("Write your question. I'll pass it on; they can answer you through me.")),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: BrowseOffersData, answer: Answer) -> Transition:
        note = (answer.text or "").strip()
        if not note or len(note) > MAX_MESSAGE:
            return Transition.stay(data, OutMessage(ctx._(N_("Please write a short message."))))
        item = await ctx.uow.offers.offer(data.offer_id) if data.offer_id is not None else None
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
            OutMessage(ctx._(N_("On its way. ✉️ If they answer, I'll bring it to you here.")))
        )


QUESTIONS = by_state(WhichKind(), WhichArea(), OffersFound(), WriteQuestion())


class BrowseOffers(QuestionFlow[BrowseOffersData]):
    name = "offers"
    data_model = BrowseOffersData
    commands = (
        CommandSpec(
            "offers",
            "tilbud",
            N_("Browse offers of help and ask people"),
            role=Role.COORDINATOR,
        ),
    )

    @property
    def questions(self) -> Mapping[str, Question[BrowseOffersData]]:
        return QUESTIONS

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        return Transition.go(BrowseStep.KIND, BrowseOffersData())

    async def handle(
        self, ctx: FlowContext, state: str, data: BrowseOffersData, answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:  # checked on every answer: roles can change
            return only_coordinators(ctx)
        return await super().handle(ctx, state, data, answer)
