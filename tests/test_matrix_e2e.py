"""The bot on a real Synapse, driven by a citizen's own Matrix client, as a person would.

Synapse comes from the `test` extra and is started by the session fixture `synapse`; if it
cannot start, these tests fail with its log (never skip).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.i18n import catalogs
from bot.settings import Settings
from bot.transports.matrix import KEYCAPS, UNDECRYPTABLE
from tests.fakes import Chat, RecordingTransport
from tests.matrix_people import Citizen, RunningBot, matrix_config, parse_json
from tests.synapse import Synapse
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
    """/start, language by reaction, consent by typed number, name, topics, quiet hours."""
    [_welcome, language] = await citizen.ask(room, "/start", count=2)
    assert "🇩🇰" in language.body
    assert await citizen.reactions_on(language, 2) == ["🇩🇰", "🇬🇧"]
    assert "<br>" in language.content["formatted_body"]

    before = len(citizen.messages_in(room))
    await citizen.react(room, language.event_id, "🇩🇰")  # an answer by reaction
    [consent] = await citizen.replies(room, before)
    assert "1. ✅" in consent.body

    [name_question] = await citizen.ask(room, "1")  # an answer by typed number
    [interests] = await citizen.ask(room, "Anna")
    assert "Anna" in name_question.body or interests.body

    # Topics have no emoji: the bot reacts with keycap digits, and a keycap tap works.
    keys = await citizen.reactions_on(interests, 2)
    assert keys[0] == KEYCAPS[0]
    before = len(citizen.messages_in(room))
    await citizen.react(room, interests.event_id, KEYCAPS[0])
    [again] = await citizen.replies(room, before)
    assert "✅" in again.body

    replies = await citizen.ask(room, "færdig")
    while "👍" in replies[-1].body:  # the areas question
        replies = await citizen.ask(room, "færdig")
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
        assert "Matrix" in elsewhere.last_text("ella")  # the other chat is told, in Danish
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
