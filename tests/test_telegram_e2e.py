"""Telegram end to end: the real transport and PTB 22 against the telegram-test-api emulator.

A person talks to the bot through the emulator's client routes; the bot runs in this test's
event loop with long polling (and once with a webhook). Needs Node.js and `make install`;
without them these tests fail loudly.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.i18n import catalogs
from bot.settings import Settings
from bot.transports.telegram import WebhookConfig
from storage.clock import FrozenClock
from storage.models import (
    EventStatus,
    FeedbackAnswer,
    FeedbackComment,
    FeedbackRequest,
    Role,
    Snap,
)
from tests.telegram_support import (
    DEADLINE,
    BotMessage,
    Emulator,
    EmulatorState,
    Person,
    RunningBot,
    inject_update,
    new_token,
    set_blocked,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    emu = Emulator()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def tg_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admins=["telegram:1"],
        coordinators=["telegram:2"],
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def bot(emulator: Emulator, tg_settings: Settings) -> AsyncIterator[RunningBot]:
    running = RunningBot(tg_settings, emulator.url, new_token(), clock=FrozenClock())
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def person_role(bot: RunningBot, user_id: int) -> tuple[str, bool]:
    async with bot.app.uow() as uow:
        identity = await uow.persons.find_identity("telegram", str(user_id))
        assert identity is not None
        person = await uow.persons.get(identity.person_id)
        assert person is not None
        return person.role, identity.blocked_at is not None


async def test_onboarding_by_buttons_and_typing(emulator: Emulator, bot: RunningBot) -> None:
    anna = Person(emulator.url, bot, "Anna")
    replies = await anna.say("/start")
    assert replies, "the bot did not answer /start"
    language = replies[-1]
    assert [data.split(":")[1] for _, data in language.buttons] == ["da", "en", "ar", "uk"]
    assert all(len(data.encode()) <= 64 for _, data in language.buttons)

    await anna.tap("en")
    # the answered question now shows the choice and has no buttons left
    answered = next(m for m in await anna.messages() if m.message_id == language.message_id)
    assert answered.buttons == []
    assert answered.text is not None
    assert answered.text.endswith("✓ English")
    state = await anna.state.read()
    assert state["answers"], "the button press was not answered"

    await anna.tap("yes")
    await anna.say("Anna B")
    while True:
        question = next(m for m in reversed(await anna.messages()) if m.buttons)
        if not question.buttons[-1][1].endswith(":done"):
            break
        await anna.tap("done")
    await anna.tap("no")  # citizens' initiatives
    await anna.tap("none")

    last = (await anna.texts())[-1]
    assert "Thank you, that's all" in last
    assert "Anna B" in last
    async with bot.app.uow() as uow:
        identity = await uow.persons.find_identity("telegram", str(anna.user_id))
        assert identity is not None
        assert identity.chat_id == str(anna.chat_id)
        person = await uow.persons.get(identity.person_id)
        assert person is not None
        assert person.display_name == "Anna B"
        assert person.language == "en"
        assert person.onboarded_at is not None


async def test_a_newcomer_is_greeted_in_the_language_of_their_telegram(
    emulator: Emulator, bot: RunningBot
) -> None:
    olena = Person(emulator.url, bot, "Olena", language_code="uk")
    replies = await olena.say("/start")
    welcome = catalogs().get("uk").gettext(welcome_id())
    assert replies[0].text == welcome
    language = replies[-1]  # and still asked, in Ukrainian, with every language offered
    assert language.text == catalogs().get("uk").gettext(
        "Which language would you like me to write in?"
    )
    assert [label for label, _ in language.buttons] == [
        "🇩🇰 Dansk",
        "🇬🇧 English",
        "العربية",
        "🇺🇦 Українська",
    ]
    pierre = Person(emulator.url, bot, "Pierre", language_code="fr")  # no French catalog
    replies = await pierre.say("/start")
    assert replies[0].text == catalogs().get("da").gettext(welcome_id())


def welcome_id() -> str:
    return (
        "Hello, and welcome to Tæl mig med! 🌿\n"
        "I help you find things to do together with others nearby, such as walks, "
        "a picnic in the forest or cooking together. You can also lend a hand, "
        "if you like. It only takes a few taps."
    )


async def test_same_update_twice_is_handled_once(emulator: Emulator, bot: RunningBot) -> None:
    bo = Person(emulator.url, bot, "Bo")
    await bo.onboard("Bo")
    before = len(await bo.messages())
    update = {
        "message": {
            "message_id": 99,
            "date": 1,
            "chat": {"id": bo.chat_id, "type": "private"},
            "from": {"id": bo.user_id, "is_bot": False, "first_name": "Bo"},
            "text": "/help",
            "entities": [{"offset": 0, "length": 5, "type": "bot_command"}],
        }
    }
    update_id = await inject_update(emulator.url, bot.token, update)
    await bot.wait_handled(bot.handled + 1)
    after_first = len(await bo.messages())
    assert after_first > before
    # the same update_id delivered again (as Telegram does after a crash): handled once
    await inject_update(emulator.url, bot.token, {"update_id": update_id, **update})
    await bot.wait_handled(bot.handled + 1)
    assert len(await bo.messages()) == after_first


async def test_deep_link_redeems_a_coordinator_code(emulator: Emulator, bot: RunningBot) -> None:
    async with bot.app.uow() as uow:
        code = await uow.invites.create(
            Role.COORDINATOR,
            valid_for=bot.app.settings.invite_code_validity,
            created_by=None,
            note="e2e",
        )
        await uow.commit()
    kim = Person(emulator.url, bot, "Kim")
    await kim.say(f"/start@TestNameBot co_{code}")
    await kim.tap("en")
    await kim.tap("yes")
    await kim.say("Kim")
    while True:
        question = next(m for m in reversed(await kim.messages()) if m.buttons)
        if not question.buttons[-1][1].endswith(":done"):
            break
        await kim.tap("done")
    await kim.tap("no")
    await kim.tap("none")
    assert "Welcome as a coordinator" in (await kim.texts())[-1]
    role, _ = await person_role(bot, kim.user_id)
    assert role == Role.COORDINATOR


async def test_mydata_arrives_as_a_json_document(emulator: Emulator, bot: RunningBot) -> None:
    cy = Person(emulator.url, bot, "Cy")
    await cy.onboard("Cy Twombly")
    replies = await cy.say("/mydata")
    documents = [m for m in replies if m.document is not None]
    assert len(documents) == 1
    document = documents[0].document
    assert document is not None
    assert document["file_name"] == "my-data.json"
    exported = json.loads(documents[0].document_bytes())
    assert "Cy Twombly" in json.dumps(exported, ensure_ascii=False)


async def test_photos_voice_and_locations_reach_the_bot(
    emulator: Emulator, bot: RunningBot
) -> None:
    di = Person(emulator.url, bot, "Di")
    await di.onboard("Di")
    seen = []
    original = bot.transport.to_inbound

    def spy(update):  # type: ignore[no-untyped-def]
        inbound = original(update)
        seen.append(inbound)
        return inbound

    bot.transport.to_inbound = spy  # type: ignore[method-assign]
    photo = [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "big", "file_unique_id": "b", "width": 800, "height": 600, "file_size": 9},
    ]
    await di.send(photo=photo, caption="the pond")
    await di.send(voice={"file_id": "v1", "file_unique_id": "v", "duration": 3})
    await di.send(location={"latitude": 55.68, "longitude": 12.57})
    assert seen[0].media.kind == "photo"
    assert seen[0].media.file_ref == "big"
    assert seen[0].media.caption == "the pond"
    assert seen[1].media.kind == "voice"
    assert seen[1].media.file_ref == "v1"
    assert (seen[2].location.latitude, seen[2].location.longitude) == (55.68, 12.57)
    # the router answers each of them without an apology
    assert not any("Sorry, something went wrong" in t for t in await di.texts())


async def test_a_person_who_blocks_and_unblocks_the_bot(
    emulator: Emulator, bot: RunningBot
) -> None:
    ea = Person(emulator.url, bot, "Ea")
    await ea.onboard("Ea")

    def member_update(status: str, old: str) -> dict[str, object]:
        user = {"id": ea.user_id, "is_bot": False, "first_name": "Ea"}
        bot_user = {"id": 666, "is_bot": True, "first_name": "Bot"}
        return {
            "my_chat_member": {
                "chat": {"id": ea.chat_id, "type": "private"},
                "from": user,
                "date": 1,
                "old_chat_member": {"status": old, "user": bot_user, "until_date": 0},
                "new_chat_member": {"status": status, "user": bot_user, "until_date": 0},
            }
        }

    await inject_update(emulator.url, bot.token, member_update("kicked", "member"))
    await bot.wait_handled(bot.handled + 1)
    assert (await person_role(bot, ea.user_id))[1] is True

    await inject_update(emulator.url, bot.token, member_update("member", "kicked"))
    await bot.wait_handled(bot.handled + 1)
    assert (await person_role(bot, ea.user_id))[1] is False

    # a send that Telegram refuses with 403 marks the person as blocked too
    await set_blocked(emulator.url, bot.token, ea.chat_id)
    await ea.say("/help")
    assert (await person_role(bot, ea.user_id))[1] is True


async def test_command_menus_in_danish_and_english(emulator: Emulator, bot: RunningBot) -> None:
    state = await EmulatorState(emulator.url, bot.token).read()
    menus = {
        (json.dumps(m["scope"], sort_keys=True), m["language_code"]): [
            c["command"] for c in m["commands"]
        ]
        for m in state["commands"]
    }
    default = json.dumps({"type": "default"}, sort_keys=True)
    assert "minedata" in menus[(default, "da")]
    assert "mydata" in menus[(default, "en")]
    assert "minedata" in menus[(default, "")]
    assert "topics" not in menus[(default, "en")]
    # every catalog is a menu: the English names (Telegram takes only a-z), described in it
    for language in ("uk", "ar"):
        assert "mydata" in menus[(default, language)]
    described = {
        m["language_code"]: {c["command"]: c["description"] for c in m["commands"]}
        for m in state["commands"]
        if m["scope"] == {"type": "default"}
    }
    assert described["uk"]["mydata"] == catalogs().get("uk").gettext(
        "See everything I keep about you"
    )
    # named in the settings and not met yet: in the default language, Danish, whatever
    # language their Telegram app speaks (bot/command_menus.py)
    for chat_id in (1, 2):  # the admin and the coordinator
        coordinator = json.dumps({"type": "chat", "chat_id": chat_id}, sort_keys=True)
        for language in ("", "da", "en", "ar", "uk"):
            assert "emner" in menus[(coordinator, language)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_webhook_mode_checks_the_secret(emulator: Emulator, tg_settings: Settings) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    webhook = WebhookConfig(url=url, listen="127.0.0.1", port=port, secret="s3cret-e2e")
    running = RunningBot(tg_settings, emulator.url, new_token(), webhook=webhook)
    await running.start()
    try:
        fy = Person(emulator.url, running, "Fy")
        replies = await fy.say("/start")  # the emulator posts it, secret header included
        assert replies
        assert replies[-1].buttons
        state = await fy.state.read()
        assert state["webhook_deliveries"][-1]["status"] == 200

        update = {
            "update_id": 777777,
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": fy.chat_id, "type": "private"},
                "from": {"id": fy.user_id, "is_bot": False, "first_name": "Fy"},
                "text": "forged",
            },
        }
        async with httpx.AsyncClient() as client:
            wrong = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            )
            missing = await client.post(url, json=update)
        assert wrong.status_code == 403
        assert missing.status_code == 403
        assert running.handled == 1
    finally:
        await running.stop()


async def test_sigterm_stops_make_run_cleanly(emulator: Emulator, tmp_path: Path) -> None:
    """`python -m bot run` with a token: answers, then exits 0 on SIGTERM."""
    token = new_token()
    env = {
        **os.environ,
        "TMM_TELEGRAM_TOKEN": token,
        "TMM_TELEGRAM_API_BASE_URL": emulator.url,
        "TMM_TELEGRAM_POLL_TIMEOUT": "5",
        "TMM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    log: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not any("polling for updates" in line for line in log):
                line = (await process.stderr.readline()).decode()
                assert line, "".join(log)
                log.append(line)
        async with httpx.AsyncClient() as client:
            body = {
                "botToken": token,
                "from": {"id": 42, "is_bot": False, "first_name": "Gry"},
                "chat": {"id": 42, "type": "private"},
                "date": 1,
                "text": "/start",
                "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
            }
            (await client.post(f"{emulator.url}/sendCommand", json=body)).raise_for_status()
        state = EmulatorState(emulator.url, token)
        async with asyncio.timeout(30):
            while not [m for m in (await state.read())["messages"] if m["chat_id"] == "42"]:  # noqa: ASYNC110 (another process)
                await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            rest = (await process.stderr.read()).decode()
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0, "".join(log) + rest
    assert "Telegram: stopped" in rest
    assert token.split(":")[1] not in "".join(log) + rest, "the token leaked into the log"


async def test_journey_feedback_through_telegram(emulator: Emulator, bot: RunningBot) -> None:
    """The feedback link, buttons for each step, a typed why and a voice note, on Telegram."""
    now = bot.app.clock.now()
    async with bot.app.uow() as uow:
        event = await uow.events.create(
            title="Bål i skoven",
            starts_at=now - timedelta(days=1, hours=3),
            ends_at=now - timedelta(days=1),
            journey_steps=["velkomsten", "bålet"],
            audience={"kind": "link"},
            status=EventStatus.PUBLISHED,
        )
        code = event.link_code
        await uow.commit()
    eva = Person(emulator.url, bot, "Eva")
    await eva.onboard("Eva")
    replies = await eva.say(f"/start fb_{code}")
    assert "did you come?" in (replies[-1].text or "")
    await eva.tap("came")
    await eva.tap("good")
    replies = await eva.tap("bad")
    assert "wasn't good" in (replies[-1].text or "")
    replies = await eva.send(voice={"file_id": "why-1", "file_unique_id": "w", "duration": 4})
    assert "What matters to you" in (replies[-1].text or "")
    await eva.say("At vi er sammen")
    await eva.tap("skip")
    replies = await eva.tap("anon")
    assert "without your name" in (replies[-1].text or "")
    async with bot.app.uow() as uow:
        verdicts = (await uow.session.execute(select(FeedbackAnswer))).scalars().all()
        assert sorted((a.step_index, a.verdict) for a in verdicts) == [(0, "good"), (1, "bad")]
        (comment,) = (await uow.session.execute(select(FeedbackComment))).scalars().all()
        (snap,) = (await uow.session.execute(select(Snap))).scalars().all()
        assert (snap.kind, snap.platform, snap.file_ref) == ("voice", "telegram", "why-1")
        assert comment.snap_id == snap.id


async def test_report_arrives_as_a_picture_and_a_csv(emulator: Emulator, bot: RunningBot) -> None:
    """A coordinator's /report on Telegram: the journey map as a photo, the answers as a file."""
    kim = Person(emulator.url, bot, "Kim", user_id=2)  # a coordinator in tg_settings
    await kim.onboard("Kim")
    now = bot.app.clock.now()
    async with bot.app.uow() as uow:
        identity = await uow.persons.find_identity("telegram", "2")
        assert identity is not None
        event = await uow.events.create(
            title="Bål i skoven",
            starts_at=now - timedelta(days=1, hours=3),
            ends_at=now - timedelta(days=1),
            journey_steps=["velkomsten", "bålet"],
            audience={"kind": "link"},
            status=EventStatus.PUBLISHED,
            created_by_id=identity.person_id,
        )
        for verdicts in (("good", "bad"), ("good", "good"), ("bad", "good")):
            request = FeedbackRequest(
                event_id=event.id, via="link", came=True, stage="done", signed=False, updated_at=now
            )
            uow.session.add(request)
            await uow.session.flush()
            for index, verdict in enumerate(verdicts):
                await uow.feedback.set_answer(request, index, event.journey_steps[index], verdict)
        await uow.commit()
    await kim.say("/report")
    replies = await kim.tap(f"e{event.id}")
    assert "Came: 3" in (replies[0].text or "")
    photos = [m for m in replies if m.raw.get("photo")]
    assert len(photos) == 1
    documents = [m for m in replies if m.document is not None]
    assert [d.document["file_name"] for d in documents if d.document] == [
        "Bål-i-skoven-answers.csv"  # in the coordinator's language, letters of every script kept
    ]
    table = documents[0].document_bytes().decode()
    assert table.count("\n") == 1 + 6  # the header and one row per answer


async def test_an_offer_of_help_seen_by_a_coordinator_without_ids(
    emulator: Emulator, bot: RunningBot
) -> None:
    anna = Person(emulator.url, bot, "Anna")
    await anna.onboard("Anna")
    await anna.say("/offer")
    await anna.say("I can drive two people from the station")
    await anna.tap("lift")
    await anna.tap("anywhere")
    await anna.say("weekends")
    assert "Your offer is saved" in (await anna.texts())[-1]

    kim = Person(emulator.url, bot, "Kim", user_id=2)  # a coordinator by the settings
    await kim.onboard("Kim")
    await kim.say("/offers")
    await kim.tap("all")
    replies = await kim.tap("anywhere")
    listing = replies[-1].text or ""
    assert "I can drive two people from the station" in listing
    assert str(anna.user_id) not in listing
    assert "Anna" not in listing
    assert all(str(anna.user_id) not in data for _, data in replies[-1].buttons)


async def eventually(person: Person, what: str, found: Callable[[list[BotMessage]], bool]) -> None:
    """Wait (up to the bot's deadline) until what the bot sent `person` satisfies `found`."""
    for _ in range(int(DEADLINE / 0.05)):
        if found(await person.messages()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}: {await person.texts()}")


async def test_an_invitation_broadcast_answered_by_button_and_a_reminder(
    emulator: Emulator, tg_settings: Settings
) -> None:
    """/newevent in chat, invitations through the delivery worker, a tap, a reminder later."""
    settings = tg_settings.model_copy(update={"delivery_progress_seconds": 0.1})
    clock = FrozenClock()  # Monday 1 June 2026, 10:00 in Copenhagen
    running = RunningBot(settings, emulator.url, new_token(), clock=clock)
    await running.start()
    try:
        kim = Person(emulator.url, running, "Kim", user_id=2)  # a coordinator by the settings
        anna = Person(emulator.url, running, "Anna")
        bo = Person(emulator.url, running, "Bo")
        await kim.onboard("Kim", language="da")
        await anna.onboard("Anna", language="da")
        await bo.onboard("Bo", language="da")

        await kim.say("/nytarrangement")
        await kim.say("Skovtur med suppe\nVi går en tur i skoven og spiser suppe sammen.")
        await kim.say("lørdag kl 10-13")
        await kim.say("Hald Ege")
        await kim.tap("skip")  # no limit on places
        await kim.tap("usual")  # no guests or tasks, reminders 24 h and 2 h before
        await kim.tap("everybody")
        await kim.tap("publish")  # sent now

        def invited(messages: list[BotMessage]) -> bool:
            return any(any(d.endswith(":yes") for _, d in m.buttons) for m in messages)

        # the real delivery worker (running in the bot) sends the invitations
        await eventually(anna, "Anna's invitation", invited)
        await eventually(bo, "Bo's invitation", invited)
        invitation = next(m for m in await anna.messages() if invited([m]))
        assert "Skovtur med suppe" in (invitation.text or "")
        assert "lørdag 6. juni 2026 kl. 10:00–13:00" in (invitation.text or "")
        assert "Hald Ege" in (invitation.text or "")
        labels = [label for label, _ in invitation.buttons]
        assert any(label.endswith("Tæl mig med") for label in labels)
        assert all(len(data.encode()) <= 64 for _, data in invitation.buttons)
        assert not invited(await kim.messages())  # the coordinator is not invited

        # the coordinator's progress message ends as the summary
        await eventually(
            kim,
            "the broadcast summary",
            lambda ms: any("Din besked nåede ud til 2 af 2" in (m.text or "") for m in ms),
        )

        # Anna taps "Tæl mig med" on the invitation
        replies = await anna.press(invitation, next(d for _, d in invitation.buttons))
        assert any("Dejligt, du er med!" in (m.text or "") for m in replies)
        answered = next(m for m in await anna.messages() if m.message_id == invitation.message_id)
        # the card now shows her answer and keeps the buttons that still make sense
        assert (answered.text or "").startswith("✓ Du har svaret: tæl mig med")
        assert "Skovtur med suppe" in (answered.text or "")
        labels = [label for label, _ in answered.buttons]
        assert "✅ ✓ Tæl mig med" in labels
        assert any(label.endswith("Kan ikke") for label in labels)
        assert (await anna.state.read())["answers"], "the button press was not answered"

        # time travel to 24 hours before the start: only Anna is reminded, in Danish
        anna_before, bo_before = len(await anna.messages()), len(await bo.messages())
        running.app.event_jobs.stop()  # its minutely run must not take the reminder first
        # The rate limiter counts real seconds, the outbox the frozen clock: a row for a chat
        # still inside its per-chat window would be put off to a moment that never comes.
        limiter = running.app.delivery_worker("telegram").limiter
        await running.wait_until(
            lambda: limiter.chat_delay(str(anna.chat_id)) == 0, "Anna's chat to be free"
        )
        clock.set(datetime(2026, 6, 5, 8, 0, tzinfo=UTC))  # Friday 10:00 in Copenhagen
        assert (await running.app.event_jobs.run_once())["sent"] == 1
        running.app.wake_delivery()  # the running worker sends it now, not at its next poll
        await eventually(anna, "Anna's reminder", lambda ms: len(ms) > anna_before)
        reminder = (await anna.messages())[anna_before:]
        assert len(reminder) == 1
        assert "En lille påmindelse: Skovtur med suppe" in (reminder[0].text or "")
        assert len(await bo.messages()) == bo_before
    finally:
        await running.stop()


async def test_a_new_place_is_written_into_an_unanswered_invitation(
    emulator: Emulator, tg_settings: Settings
) -> None:
    """/retarrangement: the invitation Bo has not answered is edited in place, buttons kept."""
    clock = FrozenClock()  # Monday 1 June 2026, 10:00 in Copenhagen
    running = RunningBot(tg_settings, emulator.url, new_token(), clock=clock)
    await running.start()
    try:
        kim = Person(emulator.url, running, "Kim", user_id=2)  # a coordinator by the settings
        bo = Person(emulator.url, running, "Bo")
        await kim.onboard("Kim", language="da")
        await bo.onboard("Bo", language="da")
        for step in ("/nytarrangement", "Skovtur\nVi går en tur.", "lørdag kl 10-13", "Hald Ege"):
            await kim.say(step)
        for choice in ("skip", "usual", "everybody", "publish"):
            await kim.tap(choice)

        def invited(messages: list[BotMessage]) -> bool:
            return any(any(d.endswith(":yes") for _, d in m.buttons) for m in messages)

        await eventually(bo, "Bo's invitation", invited)
        invitation = next(m for m in await bo.messages() if invited([m]))
        await kim.say("/retarrangement")
        await kim.tap(next(d for _, d in (await kim.messages())[-1].buttons).split(":")[-1])
        await kim.tap("place")
        await kim.say("Stranden")
        await kim.tap("yes")
        # The rate limiter counts real seconds, the outbox the frozen clock: an edit put off
        # for Bo's chat window would wait for a moment the frozen clock never reaches.
        limiter = running.app.delivery_worker("telegram").limiter
        await running.wait_until(
            lambda: limiter.chat_delay(str(bo.chat_id)) == 0, "Bo's chat to be free"
        )
        clock.advance(timedelta(seconds=5))
        running.app.wake_delivery()

        def edited(messages: list[BotMessage]) -> bool:
            same = [m for m in messages if m.message_id == invitation.message_id]
            return bool(same) and "Stranden" in (same[0].text or "")

        await eventually(bo, "Bo's invitation, edited", edited)
        now = next(m for m in await bo.messages() if m.message_id == invitation.message_id)
        assert "Ændret, siden du fik den" in (now.text or "")
        assert now.buttons == invitation.buttons  # the same buttons, the same stored question
        replies = await bo.press(now, next(d for _, d in now.buttons))
        assert any("Dejligt, du er med!" in (m.text or "") for m in replies)
    finally:
        await running.stop()
