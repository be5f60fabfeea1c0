"""Changes reach the right people, as chats: a new time rewrites the invitations of those
who have not answered (same buttons), those coming get the new calendar entry, and a
cancellation passes on its reason."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import select

from bot.transports.matrix import render_text
from bot.transports.telegram.rendering import to_html
from storage.models import OutboxMessage
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


async def delivered_by_the_worker(chat: Chat, done: Callable[[], bool]) -> None:
    """The real delivery worker (its outcomes written as in production) until `done`."""
    chat.app.start_delivery()
    try:
        chat.app.wake_delivery()
        for _ in range(1000):
            if done():
                break
            await asyncio.sleep(0.01)
    finally:
        await chat.app.stop_delivery()


async def test_an_invitation_that_cannot_be_edited_gets_a_short_notice(
    backend_chat: Chat,
) -> None:
    chat = backend_chat
    await everyone(chat, "anna", "bo")
    event = await create_event(chat)
    await chat.deliver_outbox()
    chat.transport.refuse_edits.add("bo")  # bo deleted his invitation
    await chat.say("kim", "/retarrangement")
    await chat.tap("kim", f"e{event.id}")
    await chat.tap("kim", "place")
    await chat.say("kim", "Stranden")
    await chat.tap("kim", "yes")
    before = len(chat.transport.to("bo"))

    await delivered_by_the_worker(
        chat,
        lambda: (
            len(chat.transport.to("bo")) > before
            and any("Stranden" in e[2].text for e in chat.transport.edits)
        ),
    )
    # anna's invitation could be edited: no notice for her
    assert [e[0].user_id for e in chat.transport.edits if "Stranden" in e[2].text] == ["anna"]
    assert not [d for d in chat.transport.to("anna") if "Stranden" in d.message.text]
    # bo's could not: he gets the change in short, with the way back to the invitation
    [notice] = chat.transport.to("bo")[before:]
    assert "Sted: Hald Ege → Stranden" in notice.message.text
    payload = f"ev_{event.link_code}"
    assert f"Åbn den igen for at svare: /start {payload}" in notice.message.text
    # as each platform shows it: a command Element sends, a link Telegram opens in one tap
    assert f"Åbn den igen for at svare: !start {payload}" in render_text(notice.message)
    link = f'<a href="https://t.me/tmm_bot?start={payload}">/start {payload}</a>'
    assert link in to_html(notice.message.text, "tmm_bot")
    assert not notice.message.choices
    async with chat.app.uow() as uow:
        rows = (await uow.session.execute(select(OutboxMessage))).scalars().all()
    edit = next(r for r in rows if r.kind == "invitation_edit" and r.user_id == "bo")
    assert edit.status == "failed"  # the platform's refusal, kept on the row
    assert [r.status for r in rows if r.dedupe_key == f"{edit.dedupe_key}:instead"] == ["sent"]
    # the link opens the invitation again, with the new place, to answer
    replies = await chat.say("bo", f"/start ev_{event.link_code}")
    assert "Stranden" in replies[-1].text
    assert replies[-1].choices
