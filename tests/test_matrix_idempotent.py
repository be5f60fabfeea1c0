"""Sends on Matrix that can be repeated: every request of an outbox row carries a
transaction id kept with the row, so a row sent again (after a crash, a 429, a timeout)
arrives once and gets only its missing reactions; a row cut off on the wire is sent again
after a restart instead of being called unknown, and its question is answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.settings import Settings
from bot.transports.base import SENDING_TRANSACTION
from bot.transports.matrix.rendering import formatted_body, reaction_keys, render_text
from bot.transports.matrix.sending import MatrixSender
from bot.transports.pacing import RequestGate
from conversations.core.messages import ChatRef, Choice, OutMessage
from storage.clock import FrozenClock
from storage.models import OutboxMessage, OutboxStatus, Prompt
from tests.fakes import Chat, RecordingTransport
from tests.matrix_people import Citizen, CollectingTransport, RunningBot, matrix_config
from tests.synapse import Synapse
from tests.test_events import create_event
from tests.test_matrix_e2e import onboard, tap

QUESTION = OutMessage(
    "Kommer du til skovturen?",
    choices=(
        Choice("yes", "Tæl mig med", "✅"),
        Choice("maybe", "Måske", "🤔"),
        Choice("no", "Kan ikke", "❌"),
    ),
)


@pytest.fixture
async def citizen(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Citizen]:
    person = await Citizen.connect(synapse, f"idem{abs(hash(str(tmp_path))) % 100000}", tmp_path)
    yield person
    await person.close()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_a_row_sent_again_arrives_once_with_its_missing_reactions(
    synapse: Synapse,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    citizen: Citizen,
    encrypted: bool,
) -> None:
    bot = CollectingTransport(matrix_config(synapse, tmp_path, request))
    await bot.start()
    try:
        room = await citizen.open_dm(bot.config.user_id, encrypted=encrypted)
        ref = ChatRef("matrix", room, citizen.user_id)
        transport = bot.transport
        await citizen.wait_until(lambda: room in transport.client.rooms, "the bot in the room")
        # The first try got the text and one reaction out, then the process died.
        first_try = MatrixSender(transport.client, RequestGate(None), transport.community)
        text = render_text(QUESTION)
        content = {"msgtype": "m.text", "body": text, **formatted_body(text)}
        first_id = await first_try.room_send(room, "m.room.message", content, "row-7.text")
        relation = {"rel_type": "m.annotation", "event_id": first_id, "key": "✅"}
        await first_try.room_send(room, "m.reaction", {"m.relates_to": relation}, "row-7.r0")

        transaction = SENDING_TRANSACTION.set("row-7")
        try:
            sent = await transport.send(ref, QUESTION)
        finally:
            SENDING_TRANSACTION.reset(transaction)
        assert sent.message_id == first_id

        [message] = await citizen.replies(room, 0)
        keys = reaction_keys(QUESTION)
        await citizen.reactions_on(message, len(keys))
        await citizen.settled(bot)
        assert citizen.messages_in(room) == [message]
        assert message.reactions == keys  # each once, the missing ones added
    finally:
        await bot.stop()


async def test_an_invitation_cut_off_on_the_wire_is_sent_again_once_and_answered(
    synapse: Synapse, tmp_path: Path, request: pytest.FixtureRequest, citizen: Citizen
) -> None:
    recorder = RecordingTransport()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        coordinators=["fake:kim"],
        _env_file=None,  # type: ignore[call-arg]
    )
    running = RunningBot(
        settings, matrix_config(synapse, tmp_path, request), extra=[recorder], clock=FrozenClock()
    )
    await running.start()
    try:
        app = running.app
        assert app is not None
        room = await citizen.open_dm(running.config.user_id, encrypted=True)
        await onboard(citizen, room)
        kim = Chat(app, recorder)
        await kim.onboard("kim", name="Kim")
        await create_event(kim)
        before = len(citizen.messages_in(room))
        await app.drain_outbox()
        [invitation] = await citizen.replies(room, before)
        await citizen.reactions_on(invitation, len(reaction_keys(QUESTION)))
        async with app.uow() as uow:
            rows = list((await uow.session.execute(select(OutboxMessage))).scalars().all())
            assert all(row.transaction_id for row in rows)  # replies, notices, invitations
        await running.stop()

        # As if the process had died with the request on the wire: the outcome never
        # written, the question not tied to the message.
        async with app.uow() as uow:
            row = (
                await uow.session.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.user_id == citizen.user_id,
                        OutboxMessage.kind == "invitation",
                    )
                )
            ).scalar_one()
            row.status = OutboxStatus.ATTEMPTING
            row.platform_message_id = None
            row.sent_at = None
            await uow.session.execute(
                update(Prompt)
                .where(Prompt.platform_message_id == invitation.event_id)
                .values(platform_message_id=None, sent_at=None)
            )
            await uow.commit()
            row_id = row.id

        await running.start()
        app = running.app
        assert app is not None
        await app.drain_outbox()
        async with app.uow() as uow:
            again = await uow.outbox.get(row_id)
            assert again is not None
            assert again.status == OutboxStatus.SENT
            assert again.platform_message_id == invitation.event_id

        [confirmed] = await tap(citizen, room, invitation, "✅")
        assert "du er med" in confirmed.body
        await citizen.settled(running)
        invitations = [m for m in citizen.messages_in(room) if "Skovtur med suppe" in m.body]
        assert invitations[0] is invitation
        assert all("1. ✅" not in m.body for m in invitations[1:])  # never a second copy
    finally:
        await running.stop()
