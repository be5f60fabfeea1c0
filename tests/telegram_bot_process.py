"""The bot as its own process (`python -m bot run`) against the fake Bot API, killed with
SIGKILL like a crash, and the count of what actually arrived at the platform, per recipient.

Shared by the crash tests (tests/test_telegram_crash.py) and the kill-cycle benchmark
(benchmarks/kill_cycles.py). The world: people invited to one event (a broadcast with
buttons), people with a reminder due at a chosen time (one event per due time), and people
who write. What they do is pushed to the fake's getUpdates; what the bot sent is read from
the fake's record of arrivals, never from the bot's own rows alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bot.i18n import catalogs
from bot.settings import Settings
from conversations.core.services import Services
from conversations.events.rules.invitations import publish
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
from tests.telegram_fake_api import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "4242:proof-of-the-pipeline"
TIMEZONE = "Europe/Copenhagen"
INVITATION_TITLE = "Skovtur ved søen"
REMINDER_TITLE = "Bål og suppe"
CONFIRMED = "Dejligt, du er med!"  # the reply to a press on "count me in"
HELP = "Det her kan jeg hjælpe med"  # the reply to /hjaelp
OFFSET_MINUTES = 120
CONSENT_VERSION = str(Settings.model_fields["consent_version"].default)
SETTLED = ("sent", "unknown", "failed", "blocked", "expired", "cancelled")


@dataclass
class World:
    url: str
    path: Path
    invited: list[str]  # chat ids (everybody); private chats, user id = chat id
    reminded: list[str]
    writers: list[str]


async def _people(work: Any, now: datetime, chats: list[str]) -> list[int]:
    result = await work.session.execute(
        insert(Person).returning(Person.id),
        [
            {
                "display_name": f"P{chat}",
                "language": "da",
                "consent": ConsentState.GIVEN,
                "consent_version": CONSENT_VERSION,  # the notice they accepted is current
                "onboarded_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for chat in chats
        ],
    )
    ids = list(result.scalars())
    await work.session.execute(
        insert(Identity),
        [
            {"person_id": pid, "platform": "telegram", "user_id": chat, "chat_id": chat,
             "created_at": now}
            for pid, chat in zip(ids, chats, strict=True)
        ],
    )  # fmt: skip
    return ids


async def seed_world(
    folder: Path, *, invited: int, reminders_due: list[datetime], reminded_each: int, writers: int
) -> World:
    """Migrates a SQLite file and writes the world; the broadcast is published (pending)."""
    path = folder / "bot.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_to_head_async(url)
    clock = SystemClock()
    engine = create_engine(url)
    chats = (str(n) for n in itertools.count(100_000))
    world = World(url, path, [], [], [])
    try:
        uow = UnitOfWorkFactory(create_sessionmaker(engine), clock)
        now = clock.now()
        async with uow() as work:
            world.writers = [next(chats) for _ in range(writers)]
            await _people(work, now, world.writers)
            for due_at in reminders_due:
                event = await work.events.create(
                    title=REMINDER_TITLE,
                    starts_at=due_at + timedelta(minutes=OFFSET_MINUTES),
                    place="Bålhytten",
                    status=EventStatus.PUBLISHED,
                    published_at=now,
                    reminder_offsets=[OFFSET_MINUTES],
                    audience={"kind": "link"},
                )
                group = [next(chats) for _ in range(reminded_each)]
                world.reminded += group
                ids = await _people(work, now, group)
                yes = {"event_id": event.id, "answer": RsvpAnswer.YES, "answered_at": now}
                await work.session.execute(insert(Rsvp), [{**yes, "person_id": p} for p in ids])
                await work.session.execute(
                    insert(Reminder),
                    [
                        {"event_id": event.id, "person_id": p, "offset_minutes": OFFSET_MINUTES,
                         "kind": "reminder", "due_at": due_at,
                         "status": ReminderStatus.SCHEDULED, "revision": 0}
                        for p in ids
                    ],
                )  # fmt: skip
            others = [next(chats) for _ in range(invited)]
            await _people(work, now, others)
            world.invited = world.writers + world.reminded + others  # everybody is invited
            event = await work.events.create(
                title=INVITATION_TITLE,
                starts_at=now + timedelta(days=3),
                place="Søbredden",
                journey_steps=[],
                reminder_offsets=[],
                audience={"kind": "everybody"},
            )
            await work.commit()
        async with uow() as work:
            published = await work.events.get(event.id)
            assert published is not None
            await publish(Services(work, catalogs(), TIMEZONE, clock), published)
            await work.commit()
    finally:
        await engine.dispose()
    return world


class BotProcess:
    """`python -m bot run` on Telegram, as an operator would start it, killed like a crash."""

    def __init__(self, api_url: str, world: World, folder: Path, **settings: str) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("TMM_")}
        self.env = {
            **clean,
            "PYTHONPATH": str(ROOT),
            "TMM_DATABASE_URL": world.url,
            "TMM_TELEGRAM_TOKEN": TOKEN,
            "TMM_TELEGRAM_API_BASE_URL": api_url,
            "TMM_TELEGRAM_POLL_TIMEOUT": "1",
            "TMM_TIMEZONE": TIMEZONE,
            "TMM_MEDIA_PATH": str(folder / "media"),
            "TMM_LOG_LEVEL": "INFO",
            **{f"TMM_{name.upper()}": value for name, value in settings.items()},
        }
        self.log = folder / "bot.log"
        self.starts = 0
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        self.starts += 1

    def kill_now(self) -> None:
        """SIGKILL at once (callable from the fake's arrival callback, mid-request)."""
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(signal.SIGKILL)

    async def kill(self) -> None:
        if self._process is None:
            return
        self.kill_now()
        await self._process.wait()
        self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@dataclass
class People:
    """What the people did: every update pushed, so every answer expected is known."""

    fake: FakeBotAPI
    pressed: set[str] = field(default_factory=set)  # chats that pressed "count me in"
    helps: Counter[str] = field(default_factory=Counter)  # /hjaelp sent, per chat
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def invitation_of(self, chat: str) -> Any:
        return next(
            (a for a in self.fake.wire.arrived.get(chat, []) if INVITATION_TITLE in a.text), None
        )

    def press_yes(self, chat: str) -> bool:
        """Presses "count me in" on the invitation that arrived; False if none arrived yet."""
        invitation = self.invitation_of(chat)
        if invitation is None or chat in self.pressed:
            return False
        data = next(d for d in invitation.buttons if d.endswith(":yes"))
        user = {"id": int(chat), "is_bot": False, "first_name": f"P{chat}"}
        chat_of = {"id": int(chat), "type": "private"}
        message = {"message_id": invitation.message_id, "date": int(time.time()),
                   "chat": chat_of, "text": invitation.text}  # fmt: skip
        query = {"id": f"q{next(self._ids)}", "from": user, "chat_instance": chat,
                 "message": message, "data": data}  # fmt: skip
        self.fake.push_update({"callback_query": query})
        self.pressed.add(chat)
        return True

    def ask_help(self, chat: str) -> None:
        self.fake.push_update(self.fake.message_update(int(chat), "/hjaelp"))
        self.helps[chat] += 1


def _count(fake: FakeBotAPI, chat: str, text: str) -> int:
    return sum(1 for a in fake.wire.arrived.get(chat, []) if text in a.text)


@dataclass
class Tally:
    """Per recipient, what arrived against what the database says."""

    duplicates: list[str] = field(default_factory=list)
    lost_answers: list[str] = field(default_factory=list)  # a press with no RSVP row
    lost_replies: list[str] = field(default_factory=list)  # never answered, nothing in doubt
    lost_messages: list[str] = field(default_factory=list)  # neither arrived nor unknown
    unknown_arrived: int = 0
    unknown_not_arrived: list[str] = field(default_factory=list)  # in doubt, never arrived
    rows: int = 0
    unknown: int = 0
    updates: int = 0

    @property
    def clean(self) -> bool:
        return not (
            self.duplicates
            or self.lost_answers
            or self.lost_replies
            or self.lost_messages
            or self.unknown_not_arrived
        )


@dataclass
class Rows:
    statuses: dict[tuple[str, str], str]  # (chat, kind) -> status, invitations and reminders
    said_yes: set[str]
    unknown_replies: Counter[tuple[str, str]]  # (chat, which reply) -> rows in doubt
    replies: int
    updates: int


def _rows(path: Path) -> Rows:
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
        rows = db.execute(
            "SELECT chat_id, kind, status FROM outbox WHERE kind IN ('invitation', 'reminder')"
        ).fetchall()
        yes = db.execute(
            "SELECT i.chat_id FROM rsvps r JOIN identities i ON i.person_id = r.person_id "
            "JOIN events e ON e.id = r.event_id WHERE e.title = ? AND r.answer = 'yes'",
            (INVITATION_TITLE,),
        ).fetchall()
        replies = db.execute(
            "SELECT chat_id, status, json_extract(payload, '$.text') FROM outbox "
            "WHERE kind = 'reply'"
        ).fetchall()
        updates = db.execute("SELECT count(*) FROM inbox").fetchone()[0]
    unknown: Counter[tuple[str, str]] = Counter()
    for chat, status, text in replies:
        for which in (CONFIRMED, HELP):
            if status == "unknown" and which in str(text):
                unknown[(chat, which)] += 1
    return Rows(
        {(c, k): s for c, k, s in rows}, {c for (c,) in yes}, unknown, len(replies), int(updates)
    )


def tally(world: World, people: People) -> Tally:
    """What arrived against what was asked for. A message whose row is `unknown` (its
    request had begun when the process died) and that never arrived is counted apart: the
    bot cannot know, and says so to the coordinator; every other one must be there once."""
    fake = people.fake
    rows = _rows(world.path)
    result = Tally(rows=len(rows.statuses) + rows.replies, updates=rows.updates)
    expected = [(c, "invitation", INVITATION_TITLE) for c in world.invited] + [
        (c, "reminder", REMINDER_TITLE) for c in world.reminded
    ]
    for chat, kind, text in expected:
        arrived = _count(fake, chat, text)
        status = rows.statuses.get((chat, kind))
        if arrived > 1:
            result.duplicates.append(f"{kind} {chat} × {arrived}")
        if status == "unknown":
            result.unknown += 1
            if arrived:
                result.unknown_arrived += 1
            else:
                result.unknown_not_arrived.append(f"{kind} {chat}")
        elif arrived == 0:
            result.lost_messages.append(f"{kind} {chat} ({status})")
    asked = Counter({(chat, CONFIRMED): 1 for chat in people.pressed})
    asked.update({(chat, HELP): n for chat, n in people.helps.items()})
    for (chat, which), wanted in asked.items():
        answered = _count(fake, chat, which)
        in_doubt = rows.unknown_replies[(chat, which)]
        result.unknown += in_doubt
        if answered > wanted:
            result.duplicates.append(f"{which!r} to {chat}: {answered} for {wanted}")
        elif answered + in_doubt < wanted:
            result.lost_replies.append(f"{which!r} to {chat}: {answered} of {wanted}")
        elif answered < wanted:
            result.unknown_not_arrived.append(f"reply {which!r} to {chat}")
        result.unknown_arrived += min(in_doubt, max(0, answered + in_doubt - wanted))
    for chat in people.pressed:
        if chat not in rows.said_yes:
            result.lost_answers.append(chat)
    return result


def _open_work(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
        outbox = db.execute(
            f"SELECT count(*) FROM outbox WHERE status NOT IN ({','.join('?' * len(SETTLED))})",
            SETTLED,
        ).fetchone()[0]
        inbox = db.execute("SELECT count(*) FROM inbox WHERE handled_at IS NULL").fetchone()[0]
        reminders = db.execute(
            "SELECT count(*) FROM reminders WHERE status = 'scheduled'"
        ).fetchone()[0]
    return int(outbox) + int(inbox) + int(reminders)


async def settle(world: World, people: People, bot: BotProcess, patience: float) -> None:
    """Waits until every update is confirmed and handled, nothing is left to send and every
    reminder is handed over (the bot still running), then a little longer for the answers
    on their way."""
    deadline = time.monotonic() + patience
    while people.fake.unconfirmed_updates or await asyncio.to_thread(_open_work, world.path):
        assert bot.running, f"the bot stopped by itself:\n{bot.tail()}"
        assert time.monotonic() < deadline, f"the bot did not settle:\n{bot.tail()}"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
