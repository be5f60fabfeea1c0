"""Changes reach the right people, as chats: a new time rewrites the invitations of those
who have not answered (same buttons), those coming get the new calendar entry, and a
cancellation passes on its reason."""

from __future__ import annotations

from tests.fakes import Chat
from tests.test_events import answer, create_event, everyone, invitation_for, rsvp_of


async def test_a_new_time_edits_unanswered_invitations_and_sends_the_coming_an_ics(
    chat: Chat,
) -> None:
    await everyone(chat, "anna", "bo", "cai")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "cai", "no")
    bo_invitation = await invitation_for(chat, "bo")
    bo_message_id = next(
        d.message_id for d in chat.transport.to("bo") if d.message is bo_invitation
    )
    await chat.say("kim", "/retarrangement")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", "time")
    await chat.say("kim", "søndag kl 11-14")
    await chat.tap("kim", "yes")
    delivered = await chat.deliver_outbox()
    # anna (coming) is told, with the calendar entry; cai said no and hears nothing
    to_anna = [d.message for d in delivered if d.ref.user_id == "anna"]
    assert len(to_anna) == 1
    assert to_anna[0].attachment is not None
    assert to_anna[0].attachment.mime_type == "text/calendar"
    assert b"SEQUENCE:1" in to_anna[0].attachment.content
    assert not [d for d in delivered if d.ref.user_id == "cai"]
    assert not [e for e in chat.transport.edits if e[0].user_id == "cai"]
    # bo never answered: his invitation itself now shows the new time, buttons and all
    assert not [d for d in delivered if d.ref.user_id == "bo"]
    [(ref, message_id, edited)] = [e for e in chat.transport.edits if e[0].user_id == "bo"]
    assert message_id == bo_message_id
    assert "Ændret" in edited.text
    assert "søndag 7. juni 2026 kl. 11:00" in edited.text
    assert edited.prompt_id == bo_invitation.prompt_id
    assert [c.id for c in edited.choices] == [c.id for c in bo_invitation.choices]
    # and it still answers
    await answer(chat, "bo", "yes")
    rsvp = await rsvp_of(chat, event, "bo")
    assert rsvp is not None
    assert rsvp.answer == "yes"
    assert ref.user_id == "bo"


async def test_cancelling_passes_the_reason_on(chat: Chat) -> None:
    await everyone(chat, "anna")
    event = await create_event(chat)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await chat.say("kim", "/aflys")
    await chat.tap("kim", f"e{event.id}")
    await chat.say("kim", "Stormvarsel")
    assert "Stormvarsel" not in chat.last_text("anna")
    await chat.tap("kim", "yes")
    delivered = await chat.deliver_outbox()
    [cancelled] = [d.message.text for d in delivered if d.ref.user_id == "anna"]
    assert "aflyst" in cancelled
    assert "Stormvarsel" in cancelled
