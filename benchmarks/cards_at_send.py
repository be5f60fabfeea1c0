"""What drawing invitations when they go out costs a broadcast, against sending them as written.

    python -m benchmarks.cards_at_send [--recipients 2000] [--limit 20000] [--concurrency 128]

The same broadcast (one event with a capacity and two tasks, one invitation row per person)
through the real outbox worker twice, each on a fresh SQLite file: once with the rows sent
as published (the baseline), once with the app's `draw_at_send`, which draws each card again
with the places and hands of the moment. The platform answers at once, so the worker and the
database are what is measured; the figure is the wall time's ratio to the baseline's, run in
the same process one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from benchmarks.broadcast import CHUNK, FastTransport
from bot.delivery import DeliveryPolicy, DeliveryWorker, DrawAtSend
from bot.i18n import catalogs
from bot.rate_limit import RateLimits
from conversations.core.messages import OutMessage, message_to_payload
from conversations.core.services import Services
from conversations.events.rules.cards_at_send import draw_cards_at_send
from conversations.events.rules.invitations import CARD_OF_EVENT
from storage.clock import SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head_async
from storage.models import EventStatus, Identity, Person
from storage.repositories.outbox import ClaimedMessage
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

TIMEZONE = "Europe/Copenhagen"


async def seed(uow: UnitOfWorkFactory, clock: SystemClock, recipients: int) -> None:
    async with uow() as work:
        event = await work.events.create(
            title="Skovtur med suppe",
            starts_at=clock.now() + timedelta(days=5),
            place="Hald Ege",
            capacity=recipients // 2,
            status=EventStatus.PUBLISHED,
        )
        await work.events.add_task(event.id, "medbring suppe", 3, 0)
        await work.events.add_task(event.id, "tænde bål", 1, 1)
        event_id = event.id
        await work.commit()
    payload = {
        **message_to_payload(OutMessage("🌿 Skovtur med suppe\n👥 pladser tilbage")),
        CARD_OF_EVENT: event_id,
    }
    for start in range(0, recipients, CHUNK):
        now = clock.now()
        count = min(CHUNK, recipients - start)
        async with uow() as work:
            result = await work.session.execute(
                insert(Person).returning(Person.id),
                [{"language": "da", "created_at": now, "updated_at": now} for _ in range(count)],
            )
            ids = list(result.scalars())
            await work.session.execute(
                insert(Identity),
                [
                    {
                        "person_id": person_id,
                        "platform": "telegram",
                        "user_id": str(person_id),
                        "chat_id": str(person_id),
                        "created_at": now,
                    }
                    for person_id in ids
                ],
            )
            await work.outbox.enqueue_many(
                [
                    {
                        "dedupe_key": f"invite:{event_id}:{person_id}",
                        "person_id": person_id,
                        "platform": "telegram",
                        "chat_id": str(person_id),
                        "user_id": str(person_id),
                        "kind": "invitation",
                        "batch": f"bc:{event_id}",
                        "payload": payload,
                    }
                    for person_id in ids
                ]
            )
            await work.commit()


async def broadcast(recipients: int, limit: int, concurrency: int, *, draw: bool) -> float:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_to_head_async(url)
        clock = SystemClock()
        engine = create_engine(url)
        try:
            uow = UnitOfWorkFactory(create_sessionmaker(engine), clock)
            await seed(uow, clock, recipients)
            translations = catalogs()

            async def draw_now(
                work: UnitOfWork, rows: list[ClaimedMessage]
            ) -> list[ClaimedMessage]:
                return await draw_cards_at_send(Services(work, translations, TIMEZONE, clock), rows)

            drawing: DrawAtSend | None = draw_now if draw else None
            transport = FastTransport()
            worker = DeliveryWorker(
                transport,
                uow,
                clock,
                limits=RateLimits(per_second=limit, private_per_second=1),
                policy=DeliveryPolicy(concurrency=concurrency, batch_size=concurrency),
                draw_at_send=drawing,
            )
            await worker.recover()
            started = time.perf_counter()
            await worker.drain()
            seconds = time.perf_counter() - started
            assert transport.sent == recipients, (transport.sent, recipients)
            return seconds
        finally:
            await engine.dispose()


async def run(recipients: int, limit: int, concurrency: int) -> int:
    print(
        f"cards_at_send: {recipients:,} invitations, limit {limit:,}/s, {concurrency} in flight",
        flush=True,
    )
    baseline = await broadcast(recipients, limit, concurrency, draw=False)
    drawn = await broadcast(recipients, limit, concurrency, draw=True)
    print(f"  as published (baseline): {baseline:.2f} s ({recipients / baseline:,.0f}/s)")
    print(f"  drawn when sent:         {drawn:.2f} s ({recipients / drawn:,.0f}/s)")
    print(
        f"  ratio to the baseline: {drawn / baseline:.2f}  "
        f"({1000 * (drawn - baseline) / recipients:.2f} ms more a message; "
        f"Telegram's 30/s leaves 33 ms a message)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cards_at_send")
    parser.add_argument("--recipients", type=int, default=2_000)
    parser.add_argument("--limit", type=int, default=20_000, help="sends in any one second")
    parser.add_argument("--concurrency", type=int, default=128, help="sends in flight")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.recipients, args.limit, args.concurrency))


if __name__ == "__main__":
    raise SystemExit(main())
