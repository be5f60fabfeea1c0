"""The bot on a real Synapse, driven by a citizen's own Matrix client, as a person would.

Synapse comes from the `test` extra and is started by the session fixture `synapse`; if it
cannot start, these tests fail with its log (never skip).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.i18n import catalogs
from bot.settings import Settings
from bot.transports.matrix import KEYCAPS, UNDECRYPTABLE
from conversations.feedback.rules.windows import event_end
from storage.clock import FrozenClock
from storage.models import Event, FeedbackAnswer
from tests.fakes import Chat, RecordingTransport
from tests.matrix_people import BotMessage, Citizen, RunningBot, matrix_config, parse_json
from tests.snap_support import wait_until_stored
from tests.synapse import Synapse
from tests.test_events import create_event
from tests.test_feedback import stored_bytes
from tests.test_linking import code_in


@pytest.fixture
async def bot(
    synapse: Synapse, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[RunningBot]:
    config = matrix_config(synapse, tmp_path, request)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        _env_file=None,  # type: ignore[call-arg]
    )
    running = RunningBot(settings, config)
    await running.start()
    yield running
    await running.stop()


async def onboard(citizen: Citizen, room: str) -> None:
    """/start, language by reaction, consent by typed number, name, topics, initiatives,
    quiet hours."""
    [_welcome, language] = await citizen.ask(room, "/start", count=2)
    assert "🇩🇰" in language.body
    # one reaction per language: its flag, or the keycap of its number (Arabic has no flag)
    assert await citizen.reactions_on(language, 4) == ["🇩🇰", "🇬🇧", "3️⃣", "🇺🇦"]
    assert "<br>" in language.content["formatted_body"]

    before = len(citizen.messages_in(room))
    await citizen.react(room, language.event_id, "🇩🇰")  # an answer by reaction
    [consent] = await citizen.replies(room, before)
    assert "1. ✅" in consent.body

    [name_question] = await citizen.ask(room, "1")  # an answer by typed number
    [interests] = await citizen.ask(room, "Anna")
    assert "Anna" in name_question.body or interests.body

    # Topics have no emoji: the bot reacts with keycap digits, and a keycap tap works. The
    # list is edited in place, its reactions kept; taking the reaction back undoes it.
    keys = await citizen.reactions_on(interests, 2)
    assert keys[0] == KEYCAPS[0]
    before = len(citizen.messages_in(room))
    tap = await citizen.react(room, interests.event_id, KEYCAPS[0])
    assert "✅" in (await citizen.edited(interests, 1)).body
    await citizen.take_back(room, tap)
    assert "✅" not in (await citizen.edited(interests, 2)).body
    await citizen.react(room, interests.event_id, KEYCAPS[0])
    assert "✅" in (await citizen.edited(interests, 3)).body
    assert len(citizen.messages_in(room)) == before  # nothing sent again

    replies = await citizen.ask(room, "færdig")
    while "👍" in replies[-1].body:  # the areas question
        replies = await citizen.ask(room, "færdig")
    assert "🌱" in replies[-1].body  # citizens' initiatives
    replies = await citizen.ask(room, "nej")
    quiet = replies[-1]
    assert "🔔" in quiet.body
    done = await citizen.ask(room, "🔔")
    assert done


async def check_mydata(citizen: Citizen, room: str) -> None:
    [summary, caption, file_message] = await citizen.ask(room, "/minedata", count=3)
    assert "Anna" in summary.body
    assert caption.msgtype == "m.text"
    assert file_message.msgtype == "m.file"
    data = parse_json(await citizen.download(file_message))
    assert data["persons"][0]["display_name"] == "Anna"
    assert any(i["platform"] == "matrix" for i in data["identities"])


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_a_citizen_onboards_restarts_and_gets_their_data(
    synapse: Synapse, bot: RunningBot, tmp_path: Path, encrypted: bool
) -> None:
    citizen = await Citizen.connect(synapse, f"anna{int(encrypted)}", tmp_path)
    try:
        room = await citizen.open_dm(bot.config.user_id, encrypted=encrypted)
        assert citizen.client.rooms[room].encrypted is encrypted
        await onboard(citizen, room)

        # The bot goes down; the citizen writes meanwhile; the bot comes back.
        await citizen.settled(bot)
        seen_before = len(citizen.messages_in(room))
        await bot.stop()
        await citizen.say(room, "hej")
        await bot.start()
        replies = await citizen.replies(room, seen_before)
        await citizen.settled(bot)
        replies = citizen.messages_in(room)[seen_before:]
        assert len(replies) == 1, [r.body for r in replies]  # answered once, nothing older

        await check_mydata(citizen, room)
        await citizen.settled(bot)
        ids = [m.event_id for m in citizen.messages_in(room)]
        assert len(ids) == len(set(ids))
    finally:
        await citizen.close()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_texts_name_commands_as_they_are_typed_in_element(
    synapse: Synapse, bot: RunningBot, tmp_path: Path, encrypted: bool
) -> None:
    """Element takes a line starting with `/` as its own command, so a Matrix person reads
    `!start` where a Telegram one reads `/start`, and the `!` form works when typed."""
    citizen = await Citizen.connect(synapse, f"dora{int(encrypted)}", tmp_path)
    try:
        room = await citizen.open_dm(bot.config.user_id, encrypted=encrypted)
        await onboard(citizen, room)
        [paused] = await citizen.ask(room, "!stop")
        assert "Skriv !start" in paused.body
        assert "!glem sletter det" in paused.body
        assert "/start" not in paused.body
        assert "/glem" not in paused.body
        assert "!start" in paused.content["formatted_body"]
        [back] = await citizen.ask(room, "!start")  # typed as the text says, it works
        assert "Velkommen tilbage" in back.body
        [unknown] = await citizen.ask(room, "!hvaddetnu")
        assert unknown.body == "Jeg kender ikke !hvaddetnu. Skriv !hjaelp for at se, hvad jeg kan."
    finally:
        await citizen.close()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_an_initiative_posted_in_element_gives_its_link_as_typed_there(
    synapse: Synapse, bot: RunningBot, tmp_path: Path, encrypted: bool
) -> None:
    citizen = await Citizen.connect(synapse, f"emil{int(encrypted)}", tmp_path)
    try:
        room = await citizen.open_dm(bot.config.user_id, encrypted=encrypted)
        await onboard(citizen, room)
        for answer in ("!initiativ", "Fælles køkkenhave", "Vi sår og luger.", "idé", "Byparken"):
            await citizen.ask(room, answer)
        for answer in ("færdig", "færdig", "udgiv"):  # no tasks, any topic, publish
            await citizen.ask(room, answer)

        def posted() -> bool:
            return any("Dit initiativ er slået op" in m.body for m in citizen.messages_in(room))

        await citizen.wait_until(posted, "the initiative posted")
        [done] = [m for m in citizen.messages_in(room) if "Dit initiativ er slået op" in m.body]
        link = re.search(r"Alle kan åbne det med: !start (ev_\w+)", done.body)
        assert link is not None, done.body
        assert "!mineinitiativer viser" in done.body
        assert "/start" not in done.body
        # typed as the text says, the link's command opens the initiative
        replies = await citizen.ask(room, f"!start {link[1]}")
        assert "Fælles køkkenhave" in replies[-1].body
    finally:
        await citizen.close()


async def test_an_undecryptable_message_gets_a_plain_answer(
    synapse: Synapse, bot: RunningBot, tmp_path: Path
) -> None:
    citizen = await Citizen.connect(synapse, "bo", tmp_path)
    try:
        room = await citizen.open_dm(bot.config.user_id, encrypted=True)
        before = len(citizen.messages_in(room))
        await citizen.send_undecryptable(room)
        [notice] = await citizen.replies(room, before)
        assert notice.msgtype == "m.notice"
        assert notice.body == catalogs().get("da").gettext(UNDECRYPTABLE)
        assert notice.body != UNDECRYPTABLE  # really translated to Danish
    finally:
        await citizen.close()


async def test_the_bot_leaves_a_room_when_it_is_alone(
    synapse: Synapse, bot: RunningBot, tmp_path: Path
) -> None:
    citizen = await Citizen.connect(synapse, "carl", tmp_path)
    try:
        room = await citizen.open_dm(bot.config.user_id, encrypted=False)
        await citizen.client.room_leave(room)
        await bot.transport.drain()

        def gone() -> bool:
            return room not in bot.transport.client.rooms

        for _ in range(100):
            if gone():
                break
            await citizen.settled(bot)
        assert gone()
    finally:
        await citizen.close()


async def test_a_person_links_a_matrix_identity_to_another_platform(
    synapse: Synapse, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    fake = RecordingTransport()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        _env_file=None,  # type: ignore[call-arg]
    )
    running = RunningBot(settings, matrix_config(synapse, tmp_path, request), extra=[fake])
    await running.start()
    assert running.app is not None
    elsewhere = Chat(running.app, fake)
    citizen = await Citizen.connect(synapse, "ella", tmp_path)
    try:
        await elsewhere.onboard("ella", name="Ella")
        [code_message] = await elsewhere.say("ella", "/link")
        code = code_in(code_message.text)

        room = await citizen.open_dm(running.config.user_id, encrypted=True)
        [done, where] = await citizen.ask(room, f"/forbind {code}", count=2)
        assert "Fake" in done.body
        await running.transport.drain()
        # the other chat is told, in Danish, by its own platform's outbox worker
        for _ in range(250):
            if "Matrix" in elsewhere.last_text("ella"):
                break
            await asyncio.sleep(0.02)
        assert "Matrix" in elsewhere.last_text("ella")
        keys = await citizen.reactions_on(where, 2)
        before = len(citizen.messages_in(room))
        await citizen.react(room, where.event_id, keys[1])  # 2️⃣: Matrix
        [chosen] = await citizen.replies(room, before)
        assert "Matrix" in chosen.body

        [summary, _caption, file_message] = await citizen.ask(room, "/minedata", count=3)
        assert "Ella" in summary.body
        data = parse_json(await citizen.download(file_message))
        assert {i["platform"] for i in data["identities"]} == {"fake", "matrix"}
        assert data["persons"][0]["preferred_platform"] == "matrix"
    finally:
        await citizen.close()
        await running.stop()


# -- an event: invitation, answers, reminder, nudge, feedback with a photo --------------------

SATURDAY_10 = datetime(2026, 6, 6, 8, 0, tzinfo=UTC)  # "lørdag kl 10-13", Copenhagen time
PHOTO_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def jobs_then_outbox(app: BotApp) -> None:
    """The event jobs (reminders, feedback) once, then the real delivery worker's drain."""
    await app.event_jobs.run_once()
    await app.drain_outbox()


async def tap(
    citizen: Citizen, room: str, message: BotMessage, key: str, count: int = 1
) -> list[BotMessage]:
    """Tap a reaction the bot put on its own message, and wait for the answer."""
    await citizen.wait_until(lambda: key in message.reactions, f"the bot's {key} reaction")
    before = len(citizen.messages_in(room))
    await citizen.react(room, message.event_id, key)
    return await citizen.replies(room, before, count)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_an_event_reaches_citizens_on_matrix_from_invitation_to_feedback(
    synapse: Synapse, tmp_path: Path, request: pytest.FixtureRequest, encrypted: bool
) -> None:
    clock = FrozenClock()
    fake = RecordingTransport()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        coordinators=["fake:kim"],
        media_path=tmp_path / "media",
        _env_file=None,  # type: ignore[call-arg]
    )
    running = RunningBot(
        settings, matrix_config(synapse, tmp_path, request), extra=[fake], clock=clock
    )
    await running.start()
    app = running.app
    assert app is not None
    kim = Chat(app, fake)
    suffix = int(encrypted)
    anna = await Citizen.connect(synapse, f"evanna{suffix}", tmp_path)
    bo = await Citizen.connect(synapse, f"evbo{suffix}", tmp_path)
    try:
        anna_room, bo_room = await asyncio.gather(
            anna.open_dm(running.config.user_id, encrypted=encrypted),
            bo.open_dm(running.config.user_id, encrypted=encrypted),
        )
        await asyncio.gather(onboard(anna, anna_room), onboard(bo, bo_room))
        await kim.onboard("kim", name="Kim")
        event = await create_event(kim)
        assert event.starts_at == SATURDAY_10

        # The invitations go out through the real delivery worker.
        before_anna, before_bo = len(anna.messages_in(anna_room)), len(bo.messages_in(bo_room))
        await app.drain_outbox()
        [invitation_a] = await anna.replies(anna_room, before_anna)
        [invitation_b] = await bo.replies(bo_room, before_bo)
        assert "Skovtur med suppe" in invitation_a.body
        assert "1. ✅" in invitation_a.body

        # The bot restarts: nothing is sent again, and the buttons still work afterwards.
        await bo.reactions_on(invitation_b, 3)
        await running.stop()
        await running.start()
        app = running.app
        assert app is not None
        await app.drain_outbox()
        await anna.settled(running)
        await bo.settled(running)
        assert anna.messages_in(anna_room)[-1] is invitation_a
        assert bo.messages_in(bo_room)[-1] is invitation_b

        # Anna taps "Tæl mig med"; Bo types 2 (maybe).
        [confirmed] = await tap(anna, anna_room, invitation_a, "✅")
        assert "du er med" in confirmed.body
        # shown in Element as a reply to the invitation whose reaction chose it
        relation = confirmed.content["m.relates_to"]
        assert relation == {"m.in_reply_to": {"event_id": invitation_a.event_id}}
        await bo.reactions_on(invitation_b, 3)
        [maybe] = await bo.ask(bo_room, "2")
        da = catalogs().get("da")
        noted = "Thanks, noted as maybe. You can change your answer until it begins."
        assert maybe.body == da.gettext(noted)
        assert await rsvp_status(app, event, anna.user_id) == "yes"
        assert await rsvp_status(app, event, bo.user_id) == "maybe"

        # A day before: Anna's reminder, Bo's one gentle nudge (with the buttons again).
        before_anna, before_bo = len(anna.messages_in(anna_room)), len(bo.messages_in(bo_room))
        clock.set(SATURDAY_10 - timedelta(hours=24, minutes=-1))
        await jobs_then_outbox(app)
        [reminder] = await anna.replies(anna_room, before_anna)
        assert "påmindelse" in reminder.body.lower()
        [nudge] = await bo.replies(bo_room, before_bo)
        assert "1. ✅" in nudge.body
        assert "✅" in await bo.reactions_on(nudge, 3)

        # An hour after the end: Anna is asked for feedback and answers by reactions.
        before_anna = len(anna.messages_in(anna_room))
        clock.set(event_end(event) + timedelta(hours=1))
        await jobs_then_outbox(app)
        [asked] = await anna.replies(anna_room, before_anna)
        assert "✍️" in asked.body
        [came] = await tap(anna, anna_room, asked, "✍️")
        [step_one] = await tap(anna, anna_room, came, "✅")
        assert "👍" in step_one.body

        # A photo sent meanwhile: asked once whether it may be kept, then stored as a file.
        before_photo = len(anna.messages_in(anna_room))
        await anna.send_file(
            anna_room, PHOTO_BYTES, mime_type="image/png", filename="skov.png", msgtype="m.image"
        )
        [consent] = await anna.replies(anna_room, before_photo)
        assert "📷" in consent.body
        [kept, step_again] = await tap(anna, anna_room, consent, "📷", count=2)
        assert "Skovtur med suppe" in kept.body
        [step_two] = await tap(anna, anna_room, step_again, "👍")
        assert "👍" in step_two.body
        assert step_two.body != step_again.body
        snaps = await wait_until_stored(app)  # fetched after the answer, by the file worker
        async with app.uow() as uow:
            answers = list((await uow.session.execute(select(FeedbackAnswer))).scalars().all())
        assert [(s.kind, s.platform) for s in snaps] == [("photo", "matrix")]
        assert snaps[0].path is not None
        assert stored_bytes(snaps[0].path) == PHOTO_BYTES
        assert Path(snaps[0].path).is_relative_to(tmp_path / "media")
        assert [a.verdict for a in answers] == ["good"]

        # Nothing more: no second reminder or nudge, no late 2-hour reminder, no repeats.
        await app.drain_outbox()
        await anna.settled(running)
        await bo.settled(running)
        assert anna.messages_in(anna_room)[-1] is step_two
        assert bo.messages_in(bo_room)[-1] is nudge
    finally:
        await asyncio.gather(anna.close(), bo.close())
        await running.stop()


async def rsvp_status(app: BotApp, event: Event, user_id: str) -> str | None:
    async with app.uow() as uow:
        identity = await uow.persons.find_identity("matrix", user_id)
        assert identity is not None
        rsvp = await uow.events.rsvp(event.id, identity.person_id)
    return str(rsvp.answer) if rsvp is not None else None
