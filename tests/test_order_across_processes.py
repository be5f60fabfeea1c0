"""One person's updates, posted in turn to two real bot processes (webhook mode) on one
PostgreSQL: they are handled once each and in the order they arrived, although each process
starts handling its own at once and the chat's turn alone (a lock) would let a later update
through first."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from benchmarks.scale_out import SECRET_HEADERS, free_port, start_processes, stop_processes
from storage.clock import FrozenClock
from storage.models import InboxUpdate, OutboxMessage
from tests.conftest import _empty_all_tables
from tests.fault_transport import Database
from tests.telegram_fake_api import FakeBotAPI

pytestmark = pytest.mark.postgres

PERSON = 4711
UPDATES = 40


@pytest.fixture
async def database(postgres_url: str, clock: FrozenClock) -> AsyncIterator[Database]:
    await asyncio.to_thread(asyncio.run, _empty_all_tables(postgres_url))
    db = Database(postgres_url, clock)
    try:
        yield db
    finally:
        await db.close()


async def handled_order(db: Database) -> list[int]:
    async with db.uow() as work:
        rows = await work.session.execute(
            select(InboxUpdate.update_id)
            .where(InboxUpdate.handled_at.is_not(None), InboxUpdate.chat_id == str(PERSON))
            .order_by(InboxUpdate.handled_at)
        )
    return [int(update_id) for (update_id,) in rows]


async def test_one_persons_updates_through_two_processes_are_handled_in_order(
    postgres_url: str, database: Database
) -> None:
    fake = FakeBotAPI()
    api = await fake.start()
    ports = [free_port(), free_port()]
    bots: list[asyncio.subprocess.Process] = []

    async def webhooks_set() -> int:
        return fake.requests.count("setWebhook")

    try:
        bots = await start_processes(webhooks_set, postgres_url, api, ports, 30)
        deadline = time.monotonic() + 60  # a guard against a hang, not a speed check
        async with httpx.AsyncClient(timeout=30, headers=SECRET_HEADERS) as client:
            for n in range(UPDATES):
                # the person writes on: a choice of language, then words the bot answers
                update = fake.message_update(PERSON, "Dansk" if n == 0 else f"/hjaelp {n}")
                update["update_id"] = 1000 + n
                # each kept (200) before the next is posted: this is the order they arrived
                response = await client.post(
                    f"http://127.0.0.1:{ports[n % 2]}/telegram", json=update
                )
                assert response.status_code == 200
        while len(order := await handled_order(database)) < UPDATES:
            assert time.monotonic() < deadline + 120, f"handled only {len(order)}"
            await asyncio.sleep(0.05)
    finally:
        await stop_processes(bots)
        await fake.stop()
    assert order == [1000 + n for n in range(UPDATES)]
    async with database.uow() as work:
        owners = await work.session.scalars(select(OutboxMessage.owner).distinct())
        assert len({o for o in owners if o}) == 2  # both processes answered (else no proof)
