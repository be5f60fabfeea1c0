"""The bot as its own process on a real Synapse, stopped in the middle of a broadcast to
eight people, by SIGKILL (a crash) or SIGTERM (`docker stop`, systemd): after the restart
every invitation has arrived exactly once, with all its reactions, no row ended `unknown` or
stayed `sending`, and the invitations are answered. SIGTERM does not wait for the sync's
long-poll (here ten minutes)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.settings import Settings
from storage.models import OutboxMessage, OutboxStatus
from tests.fakes import Chat, RecordingTransport
from tests.matrix_people import BotMessage, Citizen
from tests.synapse import Synapse
from tests.test_events import create_event
from tests.test_matrix_crash import BotProcess
from tests.test_matrix_e2e import tap

PEOPLE = 8
LONG_POLL_MS = 600_000  # a stop that waited for it would never finish within the test
STOPPED_WITHIN = 60.0  # generous: only a stop that waits for the long-poll exceeds it


def invitations(citizen: Citizen, room: str) -> list[BotMessage]:
    return [m for m in citizen.messages_in(room) if "Skovtur med suppe" in m.body]


async def seed_people_and_broadcast(database_url: str, people: list[tuple[Citizen, str]]) -> None:
    """The eight as joined people, and a coordinator's invitation to everybody, written
    by a bot without Matrix: the rows wait for the Matrix process."""
    recorder = RecordingTransport()
    settings = Settings(
        database_url=database_url,
        coordinators=["fake:kim"],
        _env_file=None,  # type: ignore[call-arg]
    )
    app = BotApp(settings, [recorder])
    await app.migrate()
    try:
        async with app.uow() as uow:
            for citizen, room in people:
                person, _ = await uow.persons.get_or_create(
                    "matrix", citizen.user_id, room, language="da"
                )
                await uow.persons.record_consent(person, settings.consent_version, given=True)
            await uow.commit()
        kim = Chat(app, recorder)
        await kim.onboard("kim", name="Kim")
        await create_event(kim)
    finally:
        await app.close()


async def rows_by_status(database_url: str) -> dict[str, int]:
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    app = BotApp(settings, [])
    try:
        async with app.uow() as uow:
            rows = (
                await uow.session.execute(
                    select(OutboxMessage.status).where(OutboxMessage.kind == "invitation")
                )
            ).scalars()
            counted: dict[str, int] = {}
            for status in rows:
                counted[status] = counted.get(status, 0) + 1
            return counted
    finally:
        await app.engine.dispose()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_stopped_mid_broadcast_every_invitation_arrives_once_and_is_answered(
    synapse: Synapse, tmp_path: Path, how: signal.Signals
) -> None:
    bot = BotProcess(synapse, tmp_path, localpart=f"broadcastbot{how.name.lower()}")
    bot.env["TMM_MATRIX_SYNC_TIMEOUT_MS"] = str(LONG_POLL_MS)
    bot.env["TMM_MATRIX_SEND_INTERVAL_MS"] = "150"  # the broadcast takes a few seconds
    database_url = bot.env["TMM_DATABASE_URL"]
    name = how.name.lower()
    citizens = await asyncio.gather(
        *(Citizen.connect(synapse, f"{name}{n}", tmp_path) for n in range(PEOPLE))
    )
    try:
        await bot.start()
        rooms = await asyncio.gather(*(c.open_dm(bot.user_id, encrypted=False) for c in citizens))
        people = list(zip(citizens, rooms, strict=True))
        assert await bot.signal(signal.SIGTERM, within=STOPPED_WITHIN) == 0
        await seed_people_and_broadcast(database_url, people)

        # Stopped as soon as the first invitation has arrived.
        await bot.start()
        first = asyncio.create_task(
            asyncio.wait(
                [
                    asyncio.create_task(c.wait_until(lambda c=c, r=r: bool(invitations(c, r)), ""))
                    for c, r in people
                ],
                return_when=asyncio.FIRST_COMPLETED,
            )
        )
        await first
        await bot.signal(how, within=STOPPED_WITHIN)
        statuses = await rows_by_status(database_url)
        if how == signal.SIGTERM:  # what was in hand is finished, the rest waits
            assert not {OutboxStatus.SENDING, OutboxStatus.ATTEMPTING} & set(statuses), statuses

        await bot.start()
        got = await asyncio.gather(
            *(
                c.wait_until(lambda c=c, r=r: bool(invitations(c, r)), "an invitation")
                for c, r in people
            )
        )
        assert len(got) == PEOPLE
        for citizen, room in people:
            [invitation] = invitations(citizen, room)
            await citizen.reactions_on(invitation, 5)
        answers = await asyncio.gather(*(tap(c, r, invitations(c, r)[0], "✅") for c, r in people))
        assert all("du er med" in reply.body for [reply] in answers), [a[0].body for a in answers]
        for citizen, room in people:
            assert len(invitations(citizen, room)) == 1
            reactions = invitations(citizen, room)[0].reactions
            assert reactions == ["✅", "🤔", "❌", "ℹ️", "📅"]  # every one, each once
        statuses = await rows_by_status(database_url)
        assert statuses == {OutboxStatus.SENT: PEOPLE}, (statuses, bot.log.read_text()[-3000:])
    finally:
        await bot.stop()
        await asyncio.gather(*(c.close() for c in citizens))
