"""README's "How to add a flow", run: the example flow joins the bot with its command, its
question, its typed data, /back and /cancel, and the README shows the code that runs here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.app import BotApp
from bot.composition import build_flows, build_router
from bot.i18n import catalogs
from storage.models import Conversation
from tests.examples.suggest_idea import SuggestIdea
from tests.fakes import Chat

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "examples" / "suggest_idea.py"


@pytest.fixture
def chat(app: BotApp, chat: Chat) -> Chat:
    app.router = build_router(
        app.settings,
        app.uow,
        catalogs(),
        app.clock,
        flows=[*build_flows(app.settings), SuggestIdea()],
    )
    return chat


async def test_the_new_command_starts_its_question_and_takes_the_answer(chat: Chat) -> None:
    await chat.onboard("anna")
    question = (await chat.say("anna", "/ide"))[-1]
    assert "What would you like us to do together?" in question.text
    assert [c.id for c in question.choices] == ["skip"]

    assert (await chat.say("anna", "   "))[0].text == "A few words, please."
    async with chat.app.uow() as uow:
        kept = await uow.conversations.get("fake", "chat-anna", "anna")
        assert isinstance(kept, Conversation)
        assert kept.data == {"tries": 1}  # the typed data, as stored

    replies = await chat.say("anna", "Bål og snobrød ved søen")
    assert replies[-1].text == "Thank you! I'll pass it on. 🌱"
    async with chat.app.uow() as uow:
        assert await uow.conversations.get("fake", "chat-anna", "anna") is None


async def test_its_button_and_the_words_for_it_work(chat: Chat) -> None:
    await chat.onboard("anna")
    await chat.say("anna", "/idea")
    assert (await chat.tap("anna", "skip"))[-1].text == "That's fine. /idea works any time."
    await chat.say("anna", "/idea")
    assert (await chat.say("anna", "skip"))[-1].text == "That's fine. /idea works any time."


async def test_it_is_in_the_menu_and_cancel_works_in_it(chat: Chat) -> None:
    await chat.onboard("anna")
    menu = (await chat.say("anna", "/hjaelp"))[0].text
    assert "/ide – " in menu
    await chat.say("anna", "/ide")
    async with chat.app.uow() as uow:
        assert await uow.conversations.get("fake", "chat-anna", "anna") is not None
    stopped = await chat.say("anna", "/annuller")
    assert "/hjaelp" in stopped[0].text  # the engine's own "we'll stop here", in Danish
    async with chat.app.uow() as uow:
        assert await uow.conversations.get("fake", "chat-anna", "anna") is None


def test_the_readme_shows_the_example_that_runs_here() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```python\n(\"\"\"`/idea`.*?)```", readme, re.DOTALL)
    assert shown is not None, "README's How to add a flow must show tests/examples/suggest_idea.py"
    assert shown.group(1) == EXAMPLE.read_text(encoding="utf-8")
