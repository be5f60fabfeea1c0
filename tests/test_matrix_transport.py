"""The Matrix transport alone against a real Synapse: what arrives, what goes out, restarts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nio import AsyncClient

from bot.transports.matrix import KEYCAPS, MatrixConfig
from conversations.core.messages import (
    Attachment,
    ChatRef,
    Choice,
    Location,
    MediaKind,
    OutMessage,
)
from tests.matrix_people import Citizen, CollectingTransport, matrix_config
from tests.synapse import Synapse

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a0e3a1d90000000049454e44ae426082"
)


@pytest.fixture
async def collecting(
    synapse: Synapse, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[CollectingTransport]:
    bot = CollectingTransport(matrix_config(synapse, tmp_path, request))
    yield bot
    await bot.stop()


@pytest.fixture
async def citizen(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Citizen]:
    person = await Citizen.connect(synapse, f"dora{abs(hash(str(tmp_path))) % 100000}", tmp_path)
    yield person
    await person.close()


async def test_every_kind_of_message_arrives_and_goes_out_in_an_encrypted_room(
    collecting: CollectingTransport, citizen: Citizen
) -> None:
    await collecting.start()
    room = await citizen.open_dm(collecting.config.user_id, encrypted=True)
    ref = ChatRef("matrix", room, citizen.user_id)

    await citizen.say(room, "/start ev_1")
    await citizen.say(room, "!hjælp")
    await citizen.send_file(
        room, PNG, mime_type="image/png", filename="skov.png", msgtype="m.image"
    )
    await citizen.send_location(room, 55.6761, 12.5683)
    received = await collecting.wait_for(4)
    text, bang, image, place = received[:4]
    assert text.text == "/start ev_1"
    assert text.ref == ref
    assert text.event_id.startswith("$")
    assert bang.text == "!hjælp"
    assert image.media is not None
    assert image.media.kind == MediaKind.PHOTO
    assert image.media.mime_type == "image/png"
    assert await collecting.transport.download(image.media.file_ref) == PNG  # decrypted
    assert place.location == Location(55.6761, 12.5683, "Skoven")

    # Out: a question with choices (emoji and keycap reactions), a file, a place, an edit.
    question = OutMessage(
        "Kommer du? <b>ikke fed</b>",
        choices=(Choice("yes", "Ja", "✅"), Choice("maybe", "Måske")),
    )
    before = len(citizen.messages_in(room))
    sent = await collecting.transport.send(ref, question)
    [shown] = await citizen.replies(room, before)
    assert shown.event_id == sent.message_id
    assert shown.body == "Kommer du? <b>ikke fed</b>\n\n1. ✅ Ja\n2. Måske"
    assert "&lt;b&gt;" in shown.content["formatted_body"]
    assert await citizen.reactions_on(shown, 2) == ["✅", KEYCAPS[1]]

    await citizen.react(room, shown.event_id, "✅")
    [*_, reaction] = await collecting.wait_for(5)
    assert reaction.reaction is not None
    assert reaction.reaction.message_id == shown.event_id
    assert reaction.reaction.key == "✅"
    assert len(collecting.received) == 5  # the bot's own reactions never come back

    before = len(citizen.messages_in(room))
    await collecting.transport.send(
        ref, OutMessage("", attachment=Attachment("kort.png", PNG, "image/png"))
    )
    await collecting.transport.send(ref, OutMessage("", location=Location(55.5, 12.25, "Mødested")))
    picture, meeting = await citizen.replies(room, before, 2)
    assert picture.msgtype == "m.image"
    assert "file" in picture.content  # an encrypted attachment
    assert await citizen.download(picture) == PNG
    assert meeting.content["geo_uri"] == "geo:55.5,12.25"

    assert sent.message_id is not None
    await collecting.transport.edit(ref, sent.message_id, OutMessage("Rettet"))


async def test_a_restart_continues_where_it_stopped_and_fills_a_limited_timeline(
    collecting: CollectingTransport, citizen: Citizen
) -> None:
    await collecting.start(timeline_limit=2)
    room = await citizen.open_dm(collecting.config.user_id, encrypted=False)
    await citizen.say(room, "første")
    await collecting.wait_for(1)
    await collecting.stop()

    for number in range(5):
        await citizen.say(room, f"mens du sov {number}")
    await collecting.start()
    received = await collecting.wait_for(6)
    assert [i.text for i in received] == ["første"] + [f"mens du sov {n}" for n in range(5)]

    await collecting.stop()
    await collecting.start()
    await citizen.say(room, "igen")
    received = await collecting.wait_for(7)
    assert [i.text for i in received][6:] == ["igen"]  # nothing handled twice


async def test_the_first_start_answers_no_history_and_the_password_login_happens_once(
    synapse: Synapse, tmp_path: Path, citizen: Citizen
) -> None:
    account = synapse.register("pwbot")
    # The account is already in a room with old messages before the bot first starts.
    plain = AsyncClient(synapse.url, account.user_id)
    plain.restore_login(account.user_id, account.device_id, account.access_token)
    try:
        room = await citizen.open_dm(account.user_id, encrypted=False, wait=False)
        await plain.join(room)
        await citizen.say(room, "gammel besked")
    finally:
        await plain.close()

    config = MatrixConfig(
        homeserver=synapse.url,
        user_id=account.user_id,
        store_path=tmp_path / "pw-store",
        password=account.password,
        sync_timeout_ms=1000,
    )
    bot = CollectingTransport(config)
    try:
        await bot.start()
        device = bot.transport.client.device_id
        assert device != account.device_id  # a login of its own
        await citizen.say(room, "ny besked")
        assert [i.text for i in await bot.wait_for(1)] == ["ny besked"]
        await bot.stop()

        await bot.start()
        assert bot.transport.client.device_id == device  # no new login, same device
        devices = await bot.transport.client.devices()
        assert len(devices.devices) == 2  # the registration's and the bot's one login
        await citizen.say(room, "efter genstart")
        assert [i.text for i in await bot.wait_for(2)][1:] == ["efter genstart"]
        await bot.stop()

        # An admin revokes the bot's login: it logs in again with the password, once.
        saved = json.loads((config.store_path / "credentials.json").read_text())
        revoker = AsyncClient(synapse.url, account.user_id)
        revoker.restore_login(saved["user_id"], saved["device_id"], saved["access_token"])
        await revoker.logout()
        await revoker.close()
        await bot.start()
        assert bot.transport.client.device_id not in (device, account.device_id)
        await citizen.say(room, "efter nyt login")
        assert [i.text for i in await bot.wait_for(3)][2:] == ["efter nyt login"]
    finally:
        await bot.stop()
