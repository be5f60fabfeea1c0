"""Offers of help without a task: `/offer` ("I can give ..."), `/myoffers`, and `/offers`
for coordinators, who can ask the person through the bot.

The bot carries the messages both ways. Neither side sees the other's platform, handle,
number or id: only the offer and the words written. A person who wants to share a phone
number can simply write it in their answer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from conversations import events as ev
from conversations.create_event import only_coordinators
from conversations.dates import next_allowed_time
from conversations.engine import offer_to
from conversations.flow import SKIP_WORDS, Answer, Flow, FlowContext, Transition
from conversations.i18n import N_, Translator
from conversations.messages import ChatRef, Choice, OutMessage, message_to_payload
from storage.models import Offer, OfferKind, OfferStatus, Prompt, TopicKind

MAX_OFFER = 500
MAX_WHEN = 200
MAX_MESSAGE = 1500
CARRY_FLOW = "offermsg"

KIND_LABELS: dict[str, tuple[str, str]] = {
    OfferKind.LIFT: (N_("A lift"), "🚗"),
    OfferKind.COOKING: (N_("Cooking"), "🍲"),
    OfferKind.TOOLS: (N_("Tools"), "🔨"),
    OfferKind.PLACE: (N_("A place"), "🏡"),
    OfferKind.COMPANY: (N_("Company and visits"), "☕"),
    OfferKind.OTHER: (N_("Something else"), "🌱"),
}


def kind_choices(ctx: FlowContext) -> list[Choice]:
    return [ctx.choice(str(kind), label, emoji) for kind, (label, emoji) in KIND_LABELS.items()]


def kind_label(tr: Translator, kind: str) -> str:
    label, emoji = KIND_LABELS.get(kind, KIND_LABELS[OfferKind.OTHER])
    return f"{emoji} {tr.gettext(label)}"


async def area_choices(ctx: FlowContext, everywhere: str) -> list[Choice]:
    language = ctx.translator.language
    choices = [
        Choice(f"a{t.id}", t.name(language), aliases=(t.name_da, t.name_en, t.slug))
        for t in await ctx.uow.topics.active(TopicKind.AREA)
    ]
    choices.append(ctx.choice("anywhere", everywhere, "🌍"))
    return choices


async def describe(ctx: FlowContext, offer: Offer) -> str:
    parts = [kind_label(ctx.translator, offer.kind), offer.text]
    if offer.area_topic_id is not None:
        topic = await ctx.uow.topics.get(offer.area_topic_id)
        if topic is not None:
            parts.append("📍 " + topic.name(ctx.translator.language))
    if offer.when_possible:
        parts.append("🕰 " + offer.when_possible)
    return " · ".join(parts)


# -- a person's own offers -----------------------------------------------------------------


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

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        mine = await ctx.uow.pledges.offers_of(ctx.person.id)
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
                mine = await ctx.uow.pledges.offers_of(ctx.person.id)
                lines = [ctx._(N_("Your offers:"))]
                choices = []
                for number, item in enumerate(mine[:8], start=1):
                    lines.append(f"{number}. {await describe(ctx, item)}")
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
                text = await describe(ctx, own) if own else ""
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
        item = await ctx.uow.pledges.offer(int(offer_id)) if offer_id else None
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
                    ctx.uow.pledges.touch(editing)
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
                    ctx.uow.pledges.touch(editing)
                    return Transition.go(OfferStep.MENU, {}, OutMessage(ctx._(N_("Saved. 👍"))))
                await ctx.uow.pledges.add_offer(
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
                    ctx.uow.pledges.touch(editing)
                    note = OutMessage(ctx._(N_("Withdrawn. Thank you for offering it.")))
                    if await ctx.uow.pledges.offers_of(ctx.person.id):
                        return Transition.go(OfferStep.MENU, {}, note)
                    return Transition.end(note)
                return Transition.go(OfferStep.MENU, {})
        return Transition.stay(data)


# -- coordinators browse and ask ----------------------------------------------------------------


class BrowseStep(StrEnum):
    KIND = "kind"
    AREA = "area"
    LIST = "list"
    WRITE = "write"


class BrowseOffers(Flow):
    name = "offers"

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
                found = await ctx.uow.pledges.browse(data.get("kind"), data.get("area"))
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
                    lines.append(f"{number}. {await describe(ctx, item)}")
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
                    item = await ctx.uow.pledges.offer(int(choice[1:]))
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
                item = await ctx.uow.pledges.offer(int(data["offer_id"]))
                if item is None or item.status != OfferStatus.ACTIVE:
                    return Transition.end(
                        OutMessage(ctx._(N_("That offer has been withdrawn in the meantime.")))
                    )
                sent = await carry(ctx, item, item.person_id, note, first=True)
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


async def carry(
    ctx: FlowContext, item: Offer, recipient_id: int | None, note: str, *, first: bool
) -> bool:
    """Store the message and put it in the outbox for the other side, with an Answer button."""
    if recipient_id is None:
        return False
    reach = await ctx.uow.events.reachable([recipient_id])
    if not reach:
        return False
    person, identity = reach[0]
    row = await ctx.uow.pledges.carry(item.id, ctx.person.id, recipient_id, note)
    tr = ctx.translations.get(person.language)
    if first:
        heading = tr.gettext(N_("A coordinator asks about your offer “{offer}”:")).format(
            offer=item.text
        )
        footer = tr.gettext(
            N_(
                "You can answer through me; I only pass on what you write. "
                "Your contact details are not shown."
            )
        )
    else:
        heading = tr.gettext(N_("An answer about the offer “{offer}”:")).format(offer=item.text)
        footer = ""
    text = f"{heading}\n\n{note}" + (f"\n\n{footer}" if footer else "")
    message = OutMessage(
        text,
        choices=(
            ev.choice_for(tr, ctx.translations, "reply", N_("Answer"), "✉️"),
            ev.choice_for(tr, ctx.translations, "noreply", N_("No, thanks"), "👋"),
        ),
    )
    recipient = ChatRef(identity.platform, identity.chat_id, identity.user_id)
    message = await offer_to(
        ctx.uow,
        recipient,
        person.id,
        CARRY_FLOW,
        message,
        state="carried",
        context={"message_id": row.id},
    )
    await ctx.uow.outbox.enqueue(
        dedupe_key=f"offermsg:{row.id}",
        person_id=person.id,
        platform=identity.platform,
        chat_id=identity.chat_id,
        user_id=identity.user_id,
        kind="offer",
        payload=message_to_payload(message),
        batch=f"offer:{item.id}",
        not_before=next_allowed_time(person, ctx.now(), ctx.config.timezone),
    )
    return True


class CarryStep(StrEnum):
    WRITE = "write"


class CarriedMessages(Flow):
    """The Answer button on a carried message: write back, carried the same way."""

    name = CARRY_FLOW

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.end(OutMessage(ctx._(N_("Tap Answer on a message to reply to it."))))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        message_id = prompt.context.get("message_id")
        row = (
            await ctx.uow.pledges.offer_message(message_id) if isinstance(message_id, int) else None
        )
        if row is None or prompt.person_id != ctx.person.id or row.recipient_id != ctx.person.id:
            return Transition.end(OutMessage(ctx._(N_("That message wasn't for you."))))
        if choice_id == "noreply":
            return Transition.end(OutMessage(ctx._(N_("All right. Nothing more is sent."))))
        if choice_id != "reply":
            return None
        return Transition.go(CarryStep.WRITE, {"reply_to": row.id})

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "Write your answer. I pass on exactly what you write, nothing else; "
                    "add a phone number only if you want to."
                )
            ),
            expects_text=True,
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        note = (answer.text or "").strip()
        if not note or len(note) > MAX_MESSAGE:
            return Transition.stay(data, OutMessage(ctx._(N_("Please write a short message."))))
        row = await ctx.uow.pledges.offer_message(int(data["reply_to"]))
        if row is None or row.recipient_id != ctx.person.id:
            return Transition.end(OutMessage(ctx._(N_("That message wasn't for you."))))
        item = await ctx.uow.pledges.offer(row.offer_id)
        if item is None or not await carry(ctx, item, row.sender_id, note, first=False):
            return Transition.end(OutMessage(ctx._(N_("I can't reach them right now, sorry."))))
        return Transition.end(OutMessage(ctx._(N_("Sent. ✉️"))))
