"""A person on Telegram and Matrix, in one bot process (Telegram through the project's fake
Bot API, Matrix on a real Synapse): invitations, reminders and feedback requests go to the
platform they chose, and to the other one only while the chosen one is blocked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.composition import build_command_menu
from bot.i18n import catalogs
from bot.settings import Settings
from bot.transports.telegram import TelegramTransport
from conversations.core.messages import ChatRef
from conversations.feedback.rules.windows import event_end
from storage.clock import FrozenClock
from storage.models import Event
from tests.fakes import Chat, RecordingTransport
from tests.matrix_people import Citizen, RunningBot, matrix_config
from tests.synapse import Synapse
from tests.telegram_fake_api import FakeBotAPI
from tests.test_events import create_event
from tests.test_linking import code_in
from tests.test_matrix_e2e import SATURDAY_10, jobs_then_outbox, onboard, tap

TOKEN = "4242:FAKE-token-for-tests"
ELLA = 5151


@pytest.fixture
async def telegram() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()


def telegram_texts(api: FakeBotAPI) -> list[str]:
    return [str(params.get("text", "")) for params in api.sent_to(ELLA, "sendMessage")]


async def until(check: Callable[[], bool], what: str) -> None:
    for _ in range(1500):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"waited in vain for {what}")


async def test_the_chosen_platform_gets_invitations_reminders_and_feedback_requests(
    synapse: Synapse, telegram: FakeBotAPI, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    clock = FrozenClock()
    recorder = RecordingTransport()
    telegram_transport = TelegramTransport(
        TOKEN,
        api_base_url=telegram.url,
        poll_timeout=1,
        menu=build_command_menu(),
        translations=catalogs(),
    )
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        coordinators=["fake:kim"],
        _env_file=None,  # type: ignore[call-arg]
    )
    running = RunningBot(
        settings,
        matrix_config(synapse, tmp_path, request),
        extra=[telegram_transport, recorder],
        clock=clock,
    )
    await running.start()
    app = running.app
    assert app is not None
    ella = await Citizen.connect(synapse, "chosenella", tmp_path)
    try:
        # Ella joins on Matrix, links her Telegram account and chooses Matrix.
        room = await ella.open_dm(running.config.user_id, encrypted=True)
        await onboard(ella, room)
        [code_message] = await ella.ask(room, "/forbind")
        code = code_in(code_message.body)
        telegram.push_update(telegram.message_update(ELLA, f"/link {code}"))
        await until(
            lambda: any("Hvor skal jeg sende" in t for t in telegram_texts(telegram)),
            "the question on Telegram where messages should go",
        )
        telegram.push_update(telegram.message_update(ELLA, "Matrix"))
        for _ in range(500):
            async with app.uow() as uow:
                identity = await uow.persons.find_identity("telegram", str(ELLA))
                person = await uow.persons.get(identity.person_id) if identity else None
            if person is not None and person.preferred_platform == "matrix":
                break
            await asyncio.sleep(0.02)
        assert person is not None
        assert person.preferred_platform == "matrix"
        await ella.wait_until(
            lambda: any("forbundet på Telegram" in m.body for m in ella.messages_in(room)),
            "the word on Matrix that Telegram is linked",
        )
        # the answer to her choice on Telegram is the last there before the reminders
        await until(
            lambda: any("skriver jeg til dig på Matrix" in t for t in telegram_texts(telegram)),
            "the answer on Telegram to her choice",
        )
        on_telegram = len(telegram_texts(telegram))

        # The invitation goes to Matrix, not Telegram.
        kim = Chat(app, recorder)
        await kim.onboard("kim", name="Kim")
        await create_event(kim)
        before = len(ella.messages_in(room))
        await app.drain_outbox()
        [invitation] = await ella.replies(room, before)
        assert "Skovtur med suppe" in invitation.body
        [confirmed] = await tap(ella, room, invitation, "✅")
        assert "du er med" in confirmed.body

        # The reminder a day before: Matrix.
        before = len(ella.messages_in(room))
        clock.set(SATURDAY_10 - timedelta(hours=24, minutes=-1))
        await jobs_then_outbox(app)
        [reminder] = await ella.replies(room, before)
        assert "påmindelse" in reminder.body.lower()
        assert len(telegram_texts(telegram)) == on_telegram

        # Matrix blocked (she left, say): the two-hour reminder comes on Telegram instead.
        await app.set_blocked(ChatRef("matrix", room, ella.user_id), blocked=True)
        clock.set(SATURDAY_10 - timedelta(hours=2, minutes=-1))
        await jobs_then_outbox(app)
        # Her Telegram chat had a message within the last second of real time, so the row
        # waits for the chat's window (in the database clock, which this test holds still)
        await asyncio.sleep(1.1)
        clock.advance(timedelta(seconds=2))
        await app.drain_outbox()
        await until(
            lambda: len(telegram_texts(telegram)) == on_telegram + 1, "the reminder on Telegram"
        )
        assert "Skovtur med suppe" in telegram_texts(telegram)[-1]

        # Back on Matrix: the feedback request goes there again.
        await app.set_blocked(ChatRef("matrix", room, ella.user_id), blocked=False)
        before = len(ella.messages_in(room))
        clock.set(event_end(await only_event(app)) + timedelta(hours=1))
        await jobs_then_outbox(app)
        [asked] = await ella.replies(room, before)
        assert "✍️" in asked.body
        assert len(telegram_texts(telegram)) == on_telegram + 1
    finally:
        await ella.close()
        await running.stop()


async def only_event(app: BotApp) -> Event:
    async with app.uow() as uow:
        return (await uow.session.execute(select(Event))).scalar_one()
