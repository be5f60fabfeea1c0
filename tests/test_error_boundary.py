"""The one error boundary: an exception in a step gets an apology and corrupts nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import BotApp
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from storage.models import Conversation, Person, PersonTopic, Prompt
from tests.fakes import Chat
from tests.helpers import known_person, texts

APOLOGY = "Sorry, something went wrong on my side."


def flow_named(app: BotApp, name: str) -> Flow:
    return app.router._engine.flow(name)


async def everything(chat: Chat) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables a step may touch, as plain values."""
    dump: dict[str, list[dict[str, Any]]] = {}
    async with chat.app.uow() as uow:
        for model in (Person, Conversation, Prompt, PersonTopic):
            table = model.__table__
            rows = await uow.session.execute(select(table).order_by(*table.primary_key.columns))
            dump[table.name] = [dict(row._mapping) for row in rows]
    return dump


async def test_a_failing_step_apologises_and_changes_nothing(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    await chat.tap("anna", "yes")  # now at the name question
    onboarding = flow_named(chat.app, "onboarding")
    original = onboarding.handle

    async def half_done_then_fails(
        ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        await original(ctx, state, data, answer)  # writes the name to the person...
        raise RuntimeError("boom")  # ...and then the step fails

    before = await everything(chat)
    monkeypatch.setattr(onboarding, "handle", half_done_then_fails)
    with caplog.at_level(logging.ERROR, logger="handlers.router"):
        replies = await chat.say("anna", "Anna")
    assert [reply.text for reply in replies] == [
        "Sorry, something went wrong on my side. Nothing you told me before is lost. "
        "Please try again in a moment."
    ]
    assert "failed to handle" in caplog.text
    assert "boom" in caplog.text
    assert await everything(chat) == before
    assert (await known_person(chat, "anna")).display_name is None

    monkeypatch.undo()
    replies = await chat.say("anna", "Anna")
    assert APOLOGY not in texts(replies)
    assert (await known_person(chat, "anna")).display_name == "Anna"


async def test_a_failing_button_press_changes_nothing(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.onboard("anna", language="en")
    await chat.say("anna", "/settings interests")
    settings_flow = flow_named(chat.app, "settings")
    original = settings_flow.handle

    async def fails(
        ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        await original(ctx, state, data, answer)  # toggles the topic...
        raise ValueError("boom")

    before = await everything(chat)
    monkeypatch.setattr(settings_flow, "handle", fails)
    replies = await chat.tap("anna", 1)
    assert APOLOGY in texts(replies)
    assert await everything(chat) == before
    monkeypatch.undo()
    replies = await chat.tap("anna", 1)  # the same button works now
    assert APOLOGY not in texts(replies)
    assert replies[-1].choices[0].label.startswith("✅")


async def test_a_failing_begin_leaves_the_open_conversation(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.onboard("anna", language="en")
    await chat.say("anna", "/settings")
    forget = flow_named(chat.app, "forget")

    async def fails(ctx: FlowContext, args: str) -> Transition:
        raise RuntimeError("boom")

    before = await everything(chat)
    monkeypatch.setattr(forget, "begin", fails)
    replies = await chat.say("anna", "/forget")
    assert APOLOGY in texts(replies)
    assert await everything(chat) == before  # the settings conversation is still there
    monkeypatch.undo()
    replies = await chat.tap("anna", "done")
    assert "All saved." in texts(replies)


async def test_the_apology_is_in_the_persons_language(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.onboard("anna", language="en")

    async def fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(chat.app.router, "_route", fails)
    replies = await chat.say("anna", "hello")
    assert replies[0].text.startswith(APOLOGY)
