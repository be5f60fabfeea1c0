"""Invitations answered the way people type, and a card that stays useful after an answer.

Chats through the recording transport: a coordinator publishes, citizens type or tap.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conversations.core.messages import Media, MediaKind, OutMessage
from conversations.core.prompts import TYPED_HINT
from storage.clock import FrozenClock
from storage.models import Event, Prompt, RsvpAnswer
from tests.fakes import Chat
from tests.test_events import answer, create_event, everyone, invitation_for, rsvp_of

# Each line changes the answer from the one before, so every typed reply is seen to count.
TYPED_ANSWERS = [
    ("ja", RsvpAnswer.YES),
    ("nej tak", RsvpAnswer.NO),
    ("jaa", RsvpAnswer.YES),
    ("måske", RsvpAnswer.MAYBE),
    ("ja tak", RsvpAnswer.YES),
    ("kan ikke", RsvpAnswer.NO),
    ("Ja tak!", RsvpAnswer.YES),
    ("maaske", RsvpAnswer.MAYBE),
    ("jep", RsvpAnswer.YES),
    ("jeg kan ikke", RsvpAnswer.NO),
    ("kommer", RsvpAnswer.YES),
    ("jeg kommer måske", RsvpAnswer.MAYBE),
    ("jeg kommer", RsvpAnswer.YES),
    ("kommer ikke", RsvpAnswer.NO),
    ("tæl mig med", RsvpAnswer.YES),
    ("maybe", RsvpAnswer.MAYBE),
    ("Tael mig med", RsvpAnswer.YES),
    ("nej", RsvpAnswer.NO),
    ("yes please", RsvpAnswer.YES),
    ("can't", RsvpAnswer.NO),
    ("count me in", RsvpAnswer.YES),
    ("perhaps", RsvpAnswer.MAYBE),
    ("tæl mig mde", RsvpAnswer.YES),  # a typo, still only one choice it can mean
    ("desværre", RsvpAnswer.NO),
    ("✅", RsvpAnswer.YES),
    ("🤔", RsvpAnswer.MAYBE),
    ("1", RsvpAnswer.YES),
    ("3", RsvpAnswer.NO),
]


async def published(
    chat: Chat, *, capacity: int | None = None, guests: bool = False, tasks: str | None = None
) -> Event:
    await everyone(chat, "anna")
    event = await create_event(chat, capacity=capacity, guests=guests, tasks=tasks)
    await chat.deliver_outbox()
    return event


async def answer_of(chat: Chat, event: Event, user: str) -> str | None:
    rsvp = await rsvp_of(chat, event, user)
    return rsvp.answer if rsvp is not None else None


async def test_typed_answers_under_an_invitation_count(chat: Chat) -> None:
    event = await published(chat)
    seen = []
    for typed, _ in TYPED_ANSWERS:
        await chat.say("anna", typed)
        seen.append((typed, await answer_of(chat, event, "anna")))
    assert seen == TYPED_ANSWERS


async def test_an_unrecognised_reply_keeps_the_invitation_and_says_what_it_takes(
    chat: Chat,
) -> None:
    event = await published(chat)
    replies = await chat.say("anna", "kan jeg tage min hund med?")
    assert len(replies) == 1
    assert replies[0].choices == ()
    assert "ja, måske eller nej" in replies[0].text
    assert "\n" not in replies[0].text  # one line, not the menu
    replies = await chat.say("anna", "hmm")
    assert "ja, måske eller nej" in replies[0].text
    # the invitation is still the question a typed answer goes to
    assert await answer_of(chat, event, "anna") is None
    await chat.say("anna", "tæl mig med")
    assert await answer_of(chat, event, "anna") == RsvpAnswer.YES


async def test_the_answered_card_is_edited_with_the_answer_and_useful_buttons(
    chat: Chat,
) -> None:
    await published(chat, capacity=5, guests=True, tasks="medbring suppe x2")
    invitation = await invitation_for(chat, "anna")
    guest = next(c for c in invitation.choices if c.id == "guest")
    assert guest.label == "Tæl mig og en gæst med"  # says what a tap does
    await answer(chat, "anna", "yes")
    _, echo = chat.transport.echoes[-1]
    card = echo.replacement
    assert isinstance(card, OutMessage)
    assert card.prompt_id == invitation.prompt_id  # the same message, the same question
    assert card.text.startswith("✓ Du har svaret: tæl mig med")
    assert "4 pladser tilbage" in card.text  # current, counting her
    assert [c.id for c in card.choices] == [
        "yes",
        "maybe",
        "no",
        "guest",
        "tasks",
        "details",
        "calendar",
    ]
    labels = {c.id: c.label for c in card.choices}
    assert labels["yes"] == "✓ Tæl mig med"
    assert labels["guest"] == "Tag en gæst med (+1)"
    # the kept buttons work: a guest in one tap, and the card says how to undo it
    await chat.press("anna", card.prompt_id, "guest")
    card = chat.transport.echoes[-1][1].replacement
    assert card is not None
    assert "(+1)" in card.text.splitlines()[0]
    assert {c.id: c.label for c in card.choices}["guest"] == "Kom uden min gæst"
    assert "3 pladser tilbage" in card.text


async def test_a_full_event_tells_someone_coming_they_have_a_place(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    await create_event(chat, capacity=1)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    card = chat.transport.echoes[-1][1].replacement
    assert card is not None
    assert "du har din plads" in card.text
    assert "venteliste" not in card.text
    details = await answer(chat, "anna", "details")
    assert "du har din plads" in details[-1].text
    await answer(chat, "bo", "yes")
    bo_card = chat.transport.echoes[-1][1].replacement
    assert bo_card is not None
    assert "du står på ventelisten" in bo_card.text.lower()


async def test_no_reminder_promised_for_an_event_minutes_away(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna")
    await create_event(chat, when="i dag kl 10:30-12")
    await chat.deliver_outbox()
    replies = await answer(chat, "anna", "yes")
    assert "Dejligt" in replies[-1].text or "🎉" in replies[-1].text
    assert "minder dig" not in replies[-1].text


async def test_a_reminder_promised_when_one_will_come(chat: Chat) -> None:
    await published(chat)
    replies = await answer(chat, "anna", "yes")
    assert "minder dig" in replies[-1].text


async def test_a_refused_press_is_not_marked_as_answered(chat: Chat, clock: FrozenClock) -> None:
    await published(chat)
    echoes = len(chat.transport.echoes)
    clock.advance(timedelta(days=6))  # the event has begun
    replies = await answer(chat, "anna", "yes")
    assert "begyndt" in replies[-1].text
    assert len(chat.transport.echoes) == echoes


async def test_an_accepted_press_is_marked(chat: Chat) -> None:
    await published(chat)
    echoes = len(chat.transport.echoes)
    await answer(chat, "anna", "maybe")
    assert len(chat.transport.echoes) == echoes + 1
    assert chat.transport.echoes[-1][1].label == "Måske"


@pytest.mark.parametrize("kind", [MediaKind.PHOTO, MediaKind.VOICE])
async def test_media_outside_a_conversation_points_to_the_snap_log(
    chat: Chat, kind: MediaKind
) -> None:
    await chat.onboard("anna")
    replies = await chat.say("anna", "/hjælp")
    replies = await chat.send_media("anna", Media(kind, "file-1", None, 1000))
    assert len(replies) == 1
    assert "/billede" in replies[0].text
    assert "ikke sikker" not in replies[0].text.lower()


# -- smaller defects ------------------------------------------------------------------------


async def test_feedback_opens_with_one_thank_you(chat: Chat, clock: FrozenClock) -> None:
    from tests.test_feedback import after_event, event_with_yes

    event = await event_with_yes(chat, "anna")
    await after_event(chat, clock, event)
    request = chat.last_question("anna").text
    replies = await chat.tap("anna", "start")
    thanks = [text for text in (request, *(r.text for r in replies)) if "thank" in text.lower()]
    assert len(thanks) == 1, thanks


async def test_the_moderation_card_is_in_a_coordinators_words(chat: Chat) -> None:
    from tests.test_initiatives import open_as, people, post_initiative

    await people(chat, "bo")
    event = await post_initiative(chat)
    assert "dit første" in chat.last_text("anna")  # the author hears it in their words
    replies = await open_as(chat, "kim", event)
    card = next(r for r in replies if any(c.id == "approve" for c in r.choices))
    assert "dit første" not in card.text
    assert "første initiativ fra den, der har lavet det" in card.text


async def test_a_nul_typed_into_an_answer_is_left_out(chat: Chat) -> None:
    # PostgreSQL refuses a NUL in text (the property tests found it in feedback's words)
    await everyone(chat)
    await chat.say("kim", "/nytarrangement")
    await chat.say("kim", "Skov\x00tur")
    from tests.helpers import conversation_of

    conversation = await conversation_of(chat, "kim")
    assert conversation is not None
    assert conversation.data["title"] == "Skovtur"


async def test_an_invitation_sent_before_its_hint_was_reworded_gets_the_new_hint(
    chat: Chat,
) -> None:
    """A stored question keeps its hint's msgid; the old wording ('tap a button', a word
    Matrix has no use for) is read as the new one, in the reader's language."""
    await published(chat)
    async with chat.app.uow() as uow:
        prompts = (await uow.session.execute(select(Prompt).where(~Prompt.bound))).scalars()
        for prompt in prompts:
            if prompt.context.get(TYPED_HINT):
                old = "Answer yes, maybe or no, or tap a button. /help shows all I can do."
                prompt.context = {**prompt.context, TYPED_HINT: old}
        await uow.commit()
    [hint] = await chat.say("anna", "kan jeg tage min hund med?")
    assert hint.text.startswith("Svar ja, måske eller nej – eller tryk på dit svar")
