"""Offers of help: make, see, change, withdraw; coordinators browse and ask through the bot."""

from __future__ import annotations

from sqlalchemy import select

from conversations.tasks.flows.browse_offers import ASK, BrowseOffers, BrowseOffersData
from conversations.tasks.flows.offer_help import OFFER, MyOffers, MyOffersData
from conversations.tasks.flows.reply_about_offer import CarriedMessages, ReplyData
from conversations.tasks.offer_choices import AREA
from storage.models import Identity, Offer, OfferKind, OfferMessage, OfferStatus
from tests.fakes import Chat


async def make_offer(chat: Chat, user: str, text: str, kind: str = "lift") -> None:
    await chat.say(user, "/tilbyd")
    await chat.say(user, text)
    await chat.tap(user, kind)
    await chat.tap(user, "Nord")
    await chat.say(user, "lørdage")


async def offers(chat: Chat) -> list[Offer]:
    async with chat.app.uow() as uow:
        return list((await uow.session.execute(select(Offer).order_by(Offer.id))).scalars())


async def identities_text(chat: Chat) -> list[str]:
    async with chat.app.uow() as uow:
        rows = (await uow.session.execute(select(Identity))).scalars().all()
        return [r.user_id for r in rows] + [r.chat_id for r in rows]


async def test_make_see_change_and_withdraw_an_offer(chat: Chat) -> None:
    await chat.onboard("anna")
    await make_offer(chat, "anna", "Jeg kan køre to fra stationen")
    assert "/minetilbud" in chat.last_text("anna") or "/myoffers" in chat.last_text("anna")
    (offer,) = await offers(chat)
    assert offer.kind == "lift"
    assert offer.when_possible == "lørdage"
    assert offer.area_topic_id is not None

    replies = await chat.say("anna", "/minetilbud")
    assert "Jeg kan køre to fra stationen" in replies[-1].text
    await chat.tap("anna", f"o{offer.id}")
    await chat.tap("anna", "text")
    await chat.say("anna", "Jeg kan køre tre fra stationen")
    await chat.tap("anna", f"o{offer.id}")
    await chat.tap("anna", "when")
    await chat.say("anna", "søndage")
    (offer,) = await offers(chat)
    assert (offer.text, offer.when_possible) == ("Jeg kan køre tre fra stationen", "søndage")

    await chat.tap("anna", f"o{offer.id}")
    await chat.tap("anna", "withdraw")
    (offer,) = await offers(chat)
    assert offer.status == OfferStatus.WITHDRAWN
    await chat.onboard("kim", name="Kim")
    await chat.say("kim", "/tilbud")
    await chat.tap("kim", "all")
    replies = await chat.tap("kim", "anywhere")
    assert "Jeg kan køre" not in replies[-1].text


async def test_coordinator_asks_and_the_person_answers_without_identities(chat: Chat) -> None:
    await chat.onboard("anna", name="Anna")
    await chat.onboard("kim", name="Kim")
    await make_offer(chat, "anna", "Jeg laver suppe til ti", kind="cooking")
    await make_offer(chat, "kim", "Jeg har en trailer", kind="tools")

    await chat.say("kim", "/tilbud")
    await chat.tap("kim", "cooking")
    listing = await chat.tap("kim", "Nord")
    text = listing[-1].text
    assert "Jeg laver suppe til ti" in text
    assert "trailer" not in text  # filtered by kind
    secrets = await identities_text(chat)
    assert not any(s in text for s in secrets)
    assert "Anna" not in text
    (anna_offer, _) = await offers(chat)
    await chat.tap("kim", f"a{anna_offer.id}")
    await chat.say("kim", "Kan du lave suppe til skovturen på lørdag?")

    delivered = await chat.deliver_outbox()
    (carried,) = [d for d in delivered if d.ref.user_id == "anna"]
    assert "Kan du lave suppe til skovturen" in carried.message.text
    assert "Jeg laver suppe til ti" in carried.message.text
    assert not any(s in carried.message.text for s in secrets)
    assert "Kim" not in carried.message.text

    await chat.press("anna", carried.message.prompt_id or "", "reply")
    await chat.say("anna", "Ja gerne! Ring på 12345678")
    delivered = await chat.deliver_outbox()
    (back,) = [d for d in delivered if d.ref.user_id == "kim"]
    assert "Ja gerne! Ring på 12345678" in back.message.text
    assert not any(s in back.message.text for s in secrets)
    assert "Anna" not in back.message.text

    # kim can answer the answer; anna gets it the same way
    await chat.press("kim", back.message.prompt_id or "", "reply")
    await chat.say("kim", "Tak, jeg ringer!")
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["anna"]
    async with chat.app.uow() as uow:
        rows = (await uow.session.execute(select(OfferMessage))).scalars().all()
        assert len(rows) == 3


async def test_carried_message_cannot_be_answered_by_someone_else(chat: Chat) -> None:
    await chat.onboard("anna")
    await chat.onboard("bo", name="Bo")
    await chat.onboard("kim", name="Kim")
    await make_offer(chat, "anna", "Jeg har en boremaskine", kind="tools")
    await chat.say("kim", "/tilbud")
    await chat.tap("kim", "all")
    await chat.tap("kim", "anywhere")
    (offer,) = await offers(chat)
    await chat.tap("kim", f"a{offer.id}")
    await chat.say("kim", "Må vi låne den?")
    (carried,) = await chat.deliver_outbox()
    await chat.press("bo", carried.message.prompt_id or "", "reply")
    await chat.say("bo", "Det er mig der svarer")
    assert await chat.deliver_outbox() == []


async def test_citizen_cannot_browse_offers(chat: Chat) -> None:
    await chat.onboard("anna")
    await make_offer(chat, "anna", "Jeg kan gå tur med hunde", kind="company")
    await chat.onboard("bo", name="Bo")
    replies = await chat.say("bo", "/tilbud")
    assert "hunde" not in replies[-1].text
    assert "koordinator" in replies[-1].text.lower()


def test_offer_conversations_stored_before_typed_data_still_load() -> None:
    making = MyOffers().load({"text": "Suppe til ti", "kind": "cooking", "area": None})
    assert making == MyOffersData(text="Suppe til ti", kind=OfferKind.COOKING)
    assert making.stored() == {"text": "Suppe til ti", "kind": "cooking"}
    assert MyOffers().load({"offer_id": 4}).offer_id == 4
    browsing = BrowseOffers().load({"kind": None, "area": 7, "offer_id": 2})
    assert browsing == BrowseOffersData(area=7, offer_id=2)
    assert CarriedMessages().load({"reply_to": 5}) == ReplyData(reply_to=5)
    assert ReplyData(reply_to=5).stored() == {"reply_to": 5}


def test_offer_button_ids_stay_as_stored_prompts_have_them() -> None:
    assert [OFFER.of(2), AREA.of(7), ASK.of(1)] == ["o2", "a7", "a1"]
    assert OFFER.parse("o2") == 2
    assert AREA.parse("anywhere") is None
    assert ASK.parse("again") is None


async def test_an_offer_half_made_before_typed_data_is_saved(chat: Chat) -> None:
    await chat.onboard("anna")
    await chat.say("anna", "/tilbyd")
    await chat.say("anna", "Jeg kan bære")
    await chat.tap("anna", "other")
    await chat.tap("anna", "anywhere")
    async with chat.app.uow() as uow:  # as an older version left it, with the null kept
        ref = chat.ref("anna")
        conversation = await uow.conversations.get(ref.platform, ref.chat_id, ref.user_id)
        assert conversation is not None
        assert conversation.state == "when"
        conversation.data = {"text": "Jeg kan bære", "kind": "other", "area": None}
        await uow.commit()
    await chat.say("anna", "hverdage")
    (offer,) = await offers(chat)
    assert (offer.text, offer.kind, offer.area_topic_id) == ("Jeg kan bære", "other", None)
    assert offer.when_possible == "hverdage"
