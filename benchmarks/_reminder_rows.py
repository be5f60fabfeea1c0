"""Rows for the reminder benchmark and its tests: people with answers and due reminders
written in bulk, a reader that sees the outbox as another process would, and the floor (the
same outbox rows written by plain aiosqlite).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import aiosqlite
from sqlalchemy import insert

from conversations.core.messages import OutMessage, message_to_payload
from storage.clock import SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head_async
from storage.models import (
    ConsentState,
    EventStatus,
    Identity,
    Person,
    Reminder,
    ReminderStatus,
    Rsvp,
    RsvpAnswer,
)
from storage.unit_of_work import UnitOfWorkFactory

PLATFORM = "telegram"
OFFSET_MINUTES = 120  # the reminder two hours before
EVENT_SIZE = 500  # people per event


# --- the database -----------------------------------------------------------------------


@asynccontextmanager
async def database(folder: Path, name: str) -> AsyncIterator[tuple[Path, UnitOfWorkFactory]]:
    path = folder / f"{name}.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    try:
        yield path, UnitOfWorkFactory(create_sessionmaker(engine), SystemClock())
    finally:
        await engine.dispose()


async def seed(
    uow: UnitOfWorkFactory, *, people: int, due_at: datetime | None, platform: str = PLATFORM
) -> list[str]:
    """People who can be reached, each with a yes to an event (500 to an event) and, with
    `due_at`, a reminder due then (two hours before the start). Returns their user ids."""
    now = uow.clock.now()
    starts_at = (due_at or now + timedelta(days=7)) + timedelta(minutes=OFFSET_MINUTES)
    users: list[str] = []
    for start in range(0, people, EVENT_SIZE):
        count = min(EVENT_SIZE, people - start)
        async with uow() as work:
            event = await work.events.create(
                title="Skovtur med suppe",
                starts_at=starts_at,
                place="Hald Ege",
                status=EventStatus.PUBLISHED,
                published_at=now,
                reminder_offsets=[OFFSET_MINUTES],
                audience={"kind": "everybody"},
            )
            persons = await work.session.execute(
                insert(Person).returning(Person.id),
                [
                    {
                        "display_name": "Bench",
                        "language": "da",
                        "consent": ConsentState.GIVEN,
                        "onboarded_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for _ in range(count)
                ],
            )
            ids = list(persons.scalars())
            user = {person_id: f"{platform}-{person_id}" for person_id in ids}
            await work.session.execute(
                insert(Identity),
                [
                    {
                        "person_id": pid,
                        "platform": platform,
                        "user_id": user[pid],
                        "chat_id": user[pid],
                        "created_at": now,
                    }
                    for pid in ids
                ],
            )
            answer = {"event_id": event.id, "answer": RsvpAnswer.YES, "answered_at": now}
            await work.session.execute(insert(Rsvp), [{**answer, "person_id": p} for p in ids])
            if due_at is not None:
                await work.session.execute(
                    insert(Reminder),
                    [
                        {
                            "event_id": event.id,
                            "person_id": pid,
                            "offset_minutes": OFFSET_MINUTES,
                            "kind": "reminder",
                            "due_at": due_at,
                            "status": ReminderStatus.SCHEDULED,
                            "revision": 0,
                        }
                        for pid in ids
                    ],
                )
            await work.commit()
        users += [user[pid] for pid in ids]
    return users


class OutboxWatch:
    """Reads the outbox over a connection of its own, as another process would: what it
    sees is committed."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, timeout=10, isolation_level=None)

    def reminders(self) -> int:
        row = self._db.execute("SELECT count(*) FROM outbox WHERE kind = 'reminder'").fetchone()
        return int(row[0])

    async def until(self, count: int, patience: float, every: float = 0.002) -> list[datetime]:
        """Waits until `count` reminder rows are there; returns when each was first seen."""
        seen: list[datetime] = []
        deadline = time.monotonic() + patience
        while len(seen) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(seen)} of {count} reminders reached the outbox")
            now = SystemClock().now()
            seen += [now] * (self.reminders() - len(seen))
            await asyncio.sleep(every)
        return seen

    def close(self) -> None:
        self._db.close()


async def floor_insert(path: Path, count: int) -> float:
    """Seconds for plain aiosqlite to write `count` outbox rows like the job's, at once."""
    payload = json.dumps(
        message_to_payload(OutMessage("En lille påmindelse: Skovtur med suppe er lørdag.\n" * 3))
    )
    now = SystemClock().now().isoformat()
    rows = [
        (f"floor:{i}", 1, PLATFORM, str(i), str(i), "floor", "rem:1", payload, "pending")
        + (0, 0, now, now, now, now)
        for i in range(count)
    ]
    async with aiosqlite.connect(path) as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        started = time.perf_counter()
        await db.execute("BEGIN IMMEDIATE")
        await db.executemany(
            "INSERT INTO outbox (dedupe_key, person_id, platform, chat_id, user_id, kind, batch,"
            " payload, status, attempts, deferrals, next_attempt_at, queued_at, expires_at,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        await db.commit()
        return time.perf_counter() - started
