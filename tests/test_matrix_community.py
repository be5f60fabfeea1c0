"""Community rooms on a real Synapse, with three members (two people and the bot): a command
typed there gets a short public pointer, and the conversation, the invitation and anything
personal go to the person's direct chat, never into the room."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from nio import RoomCreateResponse, RoomPreset

from bot.settings import Settings
from conversations.core.messages import OutMessage, message_to_payload
from storage.clock import FrozenClock
from tests.fakes import Chat, RecordingTransport
from tests.matrix_people import BotMessage, Citizen, RunningBot, matrix_config
from tests.synapse import Synapse
from tests.test_events import create_event
from tests.test_matrix_e2e import onboard

ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


async def community_room(owner: Citizen, member: Citizen, *, encrypted: bool) -> str:
    """A public room of two people (the bot joins it from the settings)."""
    response = await owner.client.room_create(
        preset=RoomPreset.public_chat,
        name="Naturens Rige, Hald Ege",
        invite=[member.user_id],
        initial_state=[ENCRYPTION] if encrypted else [],
    )
    assert isinstance(response, RoomCreateResponse), response
    room_id = str(response.room_id)

    def joined() -> bool:
        room = member.client.rooms.get(room_id)
        return room is not None and owner.user_id in room.users and room.joined_count == 2

    await member.wait_until(joined, f"{member.user_id} to join {room_id}")
    return room_id


def from_bot_in(citizen: Citizen, room: str, bot_user_id: str) -> list[BotMessage]:
    return [m for m in citizen.messages_in(room) if m.sender == bot_user_id]


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_a_command_in_a_community_room_is_answered_in_a_direct_chat(
    synapse: Synapse, tmp_path: Path, request: pytest.FixtureRequest, encrypted: bool
) -> None:
    suffix = int(encrypted)
    anna = await Citizen.connect(synapse, f"coanna{suffix}", tmp_path)
    bo = await Citizen.connect(synapse, f"cobo{suffix}", tmp_path)
    room = await community_room(anna, bo, encrypted=encrypted)
    fake = RecordingTransport()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        coordinators=["fake:kim"],
        _env_file=None,  # type: ignore[call-arg]
    )
    config = matrix_config(synapse, tmp_path, request, rooms=(room,))
    running = RunningBot(settings, config, extra=[fake], clock=FrozenClock())
    await running.start()
    app = running.app
    assert app is not None
    bot_id = config.user_id
    try:
        await anna.wait_until(
            lambda: bot_id in anna.client.rooms[room].users, "the bot in the community room"
        )

        # !start in the room: one short pointer there, onboarding in a direct chat.
        await anna.say(room, "!start")
        await anna.wait_until(
            lambda: len(from_bot_in(anna, room, bot_id)) == 1, "the pointer in the room"
        )
        [pointer] = from_bot_in(anna, room, bot_id)
        assert f"https://matrix.to/#/{bot_id}" in pointer.body
        assert pointer.msgtype == "m.notice"

        def direct_chats() -> set[str]:
            return {m.room_id for m in anna.from_bot if m.room_id != room}

        await anna.wait_until(lambda: len(direct_chats()) == 1, "a direct chat from the bot")
        [direct] = direct_chats()
        await anna.wait_until(
            lambda: any("🇩🇰" in m.body for m in anna.messages_in(direct)),
            "the language question in the direct chat",
        )
        assert anna.client.rooms[direct].encrypted  # opened as Element would
        assert set(anna.client.rooms[direct].users) == {anna.user_id, bot_id}
        await onboard(anna, direct)

        # An invitation to everybody goes to her direct chat.
        kim = Chat(app, fake)
        await kim.onboard("kim", name="Kim")
        await create_event(kim)
        before = len(anna.messages_in(direct))
        await app.drain_outbox()
        [invitation] = await anna.replies(direct, before)
        assert "Skovtur med suppe" in invitation.body

        # A second command in the room: a pointer again, the answer in the same chat.
        before = len(anna.messages_in(direct))
        await anna.say(room, "!hjælp")
        await anna.replies(direct, before)
        assert direct_chats() == {direct}

        # Her chat as recorded before rooms were told apart: the message still goes to
        # her direct chat.
        async with app.uow() as uow:
            identity = await uow.persons.find_identity("matrix", anna.user_id)
            assert identity is not None
            assert identity.chat_id == direct
            identity.chat_id = room
            await uow.outbox.enqueue(
                dedupe_key="community-test",
                person_id=identity.person_id,
                platform="matrix",
                chat_id=room,
                user_id=anna.user_id,
                kind="notice",
                payload=message_to_payload(OutMessage("Personligt: din plads er klar")),
                batch=None,
            )
            await uow.commit()
        before = len(anna.messages_in(direct))
        await app.drain_outbox()
        [personal] = await anna.replies(direct, before)
        assert "Personligt" in personal.body

        # The room (as the other member sees it) holds only the two pointers.
        await bo.settled(running)
        in_room = from_bot_in(bo, room, bot_id)
        assert [m.msgtype for m in in_room] == ["m.notice", "m.notice"]
        assert all(f"https://matrix.to/#/{bot_id}" in m.body for m in in_room)
        assert not any(m.room_id != room for m in bo.from_bot if m.sender == bot_id)
    finally:
        await asyncio.gather(anna.close(), bo.close())
        await running.stop()
