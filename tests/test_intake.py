"""The intake: an update is kept before the platform hears it arrived, handled once, in order
per chat and concurrently across chats, and what a stopped process kept is handled at start."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from bot.app import BotApp
from bot.intake import Intake, SendReplies
from conversations.core.messages import ChatRef, Inbound
from storage.models import InboxUpdate
from tests.fakes import Chat


def said(user: str, text: str, update_id: str | None = None) -> Inbound:
    return Inbound(ChatRef("fake", f"chat-{user}", user), update_id or uuid.uuid4().hex, text=text)


async def test_updates_of_one_chat_stay_in_order_while_chats_run_concurrently(
    app: BotApp,
) -> None:
    handled: list[tuple[str, str]] = []
    gate = asyncio.Event()

    async def handle(inbound: Inbound) -> None:
        user, text = inbound.ref.user_id, inbound.text or ""
        if (user, text) == ("anna", "0"):
            await gate.wait()  # the first update of anna's chat is slow
        handled.append((user, text))
        if user == "bo":
            gate.set()

    intake = Intake(app.uow, handle)
    await intake.receive("fake", [said("anna", n) for n in "012"] + [said("bo", "0")])
    await intake.finish()
    assert handled.index(("bo", "0")) < handled.index(("anna", "0"))  # bo did not wait
    assert [text for user, text in handled if user == "anna"] == ["0", "1", "2"]


async def test_replies_waiting_for_the_platform_hold_no_slot_but_hold_their_chat(
    app: BotApp,
) -> None:
    """One handling slot: anna's reply waits for the platform, bo's step is taken meanwhile,
    and anna's next update waits until her reply is sent (a tap on it must find it)."""
    platform_free = asyncio.Event()
    events: list[str] = []

    async def take_step(inbound: Inbound) -> SendReplies:
        user, text = inbound.ref.user_id, inbound.text or ""
        events.append(f"step {user} {text}")

        async def send_replies() -> None:
            if (user, text) == ("anna", "0"):
                await platform_free.wait()
            events.append(f"sent {user} {text}")
            if user == "bo":
                platform_free.set()

        return send_replies

    intake = Intake(app.uow, take_step, concurrency=1)
    await intake.receive("fake", [said("anna", "0"), said("anna", "1"), said("bo", "0")])
    await asyncio.wait_for(intake.finish(), 10)
    assert events.index("step bo 0") < events.index("sent anna 0")  # bo did not wait
    anna = [e for e in events if "anna" in e]
    assert anna == ["step anna 0", "sent anna 0", "step anna 1", "sent anna 1"]


async def test_an_update_is_kept_before_receive_returns_and_handled_once(
    app: BotApp, chat: Chat
) -> None:
    never = asyncio.Event()

    async def crashes_before_handling(inbound: Inbound) -> None:
        await never.wait()  # the process dies here: the update was kept, not handled

    stopped = Intake(app.uow, crashes_before_handling)
    await stopped.receive("fake", [said("anna", "/start", "u1"), said("anna", "1", "u2")])
    async with app.uow() as uow:
        kept = (await uow.session.execute(select(InboxUpdate))).scalars().all()
    assert [(u.update_id, u.handled_at) for u in kept] == [("u1", None), ("u2", None)]

    # the next start: both are handled, in order, the first one's question answered by the second
    restarted = app.intake
    assert await restarted.replay("fake") == 2
    await restarted.finish()
    texts = [d.message.text for d in chat.transport.to("anna")]
    assert any("velkommen" in t.lower() for t in texts)  # /start
    assert any("dine oplysninger" in t.lower() for t in texts)  # 1 = Dansk, then consent
    async with app.uow() as uow:
        assert await uow.inbox.waiting("fake") == []

    # the platform sends them again (it never heard they arrived): nothing is handled twice
    sent = len(chat.transport.sent)
    await restarted.receive("fake", [said("anna", "/start", "u1"), said("anna", "1", "u2")])
    await restarted.finish()
    assert len(chat.transport.sent) == sent
    assert await restarted.replay("fake") == 0


async def test_a_failure_while_handling_loses_nothing_and_stops_nothing(
    app: BotApp, chat: Chat
) -> None:
    calls: list[str] = []

    async def flaky(inbound: Inbound) -> None:
        calls.append(inbound.text or "")
        if inbound.text == "boom":
            raise RuntimeError("the app around the router failed")
        await app.dispatch(inbound)

    intake = Intake(app.uow, flaky)
    await intake.receive("fake", [said("anna", "boom", "b1"), said("anna", "/start", "b2")])
    await intake.finish()
    assert calls == ["boom", "/start"]
    async with app.uow() as uow:
        waiting = await uow.inbox.waiting("fake")
    # the one that failed outside the router stays kept, for the next start to try again
    assert [u.update_id for u in waiting] == ["b1"]
