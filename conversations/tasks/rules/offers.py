"""Offers of help and the messages carried about them.

The bot carries the messages both ways. Neither side sees the other's platform, handle,
number or id: only the offer and the words written. A person who wants to share a phone
number can simply write it in their answer.
"""

from __future__ import annotations

from conversations.core.dates import next_allowed_time
from conversations.core.i18n import N_, Translator
from conversations.core.messages import ChatRef, OutMessage, message_to_payload
from conversations.core.prompts import offer_to
from conversations.core.services import Services
from conversations.events.rules.notifier import choice_for
from storage.models import Offer, OfferKind

CARRY_FLOW = "offermsg"
MAX_MESSAGE = 1500  # the longest message carried about an offer, either way


KIND_LABELS: dict[str, tuple[str, str]] = {
    OfferKind.LIFT: (N_("A lift"), "🚗"),
    OfferKind.COOKING: (N_("Cooking"), "🍲"),
    OfferKind.TOOLS: (N_("Tools"), "🔨"),
    OfferKind.PLACE: (N_("A place"), "🏡"),
    OfferKind.COMPANY: (N_("Company and visits"), "☕"),
    OfferKind.OTHER: (N_("Something else"), "🌱"),
}


def kind_label(tr: Translator, kind: str) -> str:
    label, emoji = KIND_LABELS.get(kind, KIND_LABELS[OfferKind.OTHER])
    return f"{emoji} {tr.gettext(label)}"


async def describe(services: Services, tr: Translator, offer: Offer) -> str:
    """One line for an offer: what kind, what, where and when, in the reader's language."""
    parts = [kind_label(tr, offer.kind), offer.text]
    if offer.area_topic_id is not None:
        topic = await services.uow.topics.get(offer.area_topic_id)
        if topic is not None:
            parts.append("📍 " + topic.name(tr.language))
    if offer.when_possible:
        parts.append("🕰 " + offer.when_possible)
    return " · ".join(parts)


async def carry(
    services: Services,
    item: Offer,
    note: str,
    *,
    sender_id: int,
    recipient_id: int | None,
    first: bool,
) -> bool:
    """Store the message and put it in the outbox for the other side, with an Answer button."""
    uow = services.uow
    if recipient_id is None:
        return False
    reach = await uow.audiences.reachable([recipient_id])
    if not reach:
        return False
    person, identity = reach[0]
    row = await uow.offers.carry(item.id, sender_id, recipient_id, note)
    tr = services.tr(person)
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
            choice_for(tr, services.translations, "reply", N_("Answer"), "✉️"),
            choice_for(tr, services.translations, "noreply", N_("No, thanks"), "👋"),
        ),
    )
    recipient = ChatRef(identity.platform, identity.chat_id, identity.user_id)
    message = await offer_to(
        uow,
        recipient,
        person.id,
        CARRY_FLOW,
        message,
        state="carried",
        context={"message_id": row.id},
    )
    await uow.outbox.enqueue(
        dedupe_key=f"offermsg:{row.id}",
        person_id=person.id,
        platform=identity.platform,
        chat_id=identity.chat_id,
        user_id=identity.user_id,
        kind="offer",
        payload=message_to_payload(message),
        batch=f"offer:{item.id}",
        not_before=next_allowed_time(person, services.now(), services.timezone),
    )
    return True
