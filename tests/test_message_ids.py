"""Which platform message carried which question: known before the step's dispatch returns,
so a tap or a reaction on it right after finds its question; written with the reply's row."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import OutboxMessage, OutboxStatus, Prompt
from tests.fakes import Chat


async def test_a_question_knows_its_message_once_the_step_is_done(chat: Chat) -> None:
    await chat.say("anna", "/start")
    delivered = chat.transport.to("anna")[-1]
    assert delivered.message.prompt_id is not None
    async with chat.app.uow() as uow:
        prompt = await uow.prompts.by_message("fake", "chat-anna", delivered.message_id)
        rows = (await uow.session.execute(select(OutboxMessage))).scalars().all()
    assert prompt is not None
    assert prompt.id == delivered.message.prompt_id
    # every reply went out through its outbox row, which says what the platform called it
    assert [(r.kind, r.status) for r in rows] == [("reply", OutboxStatus.SENT)] * len(rows)
    assert delivered.message_id in {r.platform_message_id for r in rows}


async def test_a_reaction_right_after_the_question_finds_it(chat: Chat) -> None:
    await chat.say("anna", "/start")
    question = chat.transport.to("anna")[-1]
    assert [c.id for c in question.message.choices] == ["da", "en", "ar", "uk"]
    replies = await chat.react("anna", question.message_id, "🇬🇧")
    assert any("consent" in r.text.lower() or "information" in r.text.lower() for r in replies)


async def test_each_question_sent_is_tied_to_its_own_message(chat: Chat) -> None:
    for user in ("anna", "bo", "cai"):
        await chat.say(user, "/start")
    async with chat.app.uow() as uow:
        prompts = (await uow.session.execute(select(Prompt))).scalars().all()
    sent = {d.message.prompt_id: d.message_id for d in chat.transport.sent if d.message.prompt_id}
    assert len(sent) == 3
    assert {p.id: p.platform_message_id for p in prompts if p.id in sent} == sent
