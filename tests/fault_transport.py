"""An in-process platform for delivery tests: enforces rate limits and injects faults.

`FaultTransport` behaves like a strict Telegram: it records every message that arrived
(per user, so a duplicate shows), checks that no window of one second ever holds more than
the allowed sends (overall, per private chat; per group chat over a minute), that nothing
is sent while a `retry_after` it gave is running, and raises the delivery errors at chosen
rates, or as scripted for a user's next sends. All times come from the test's frozen clock,
so a broadcast of minutes runs in seconds of CPU.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bot.transports.base import (
    AmbiguousDelivery,
    Dispatch,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
    TemporaryFailure,
)
from conversations.core.messages import ChatRef, ChoiceEcho, OutMessage, Sent, message_to_payload
from storage.clock import Clock
from storage.db import create_engine, create_sessionmaker
from storage.models import Identity, OutboxMessage, Person
from storage.unit_of_work import UnitOfWorkFactory


@dataclass
class Faults:
    """Rates of injected errors (per send), and users that always fail a certain way."""

    retry_after_rate: float = 0.0
    retry_after_seconds: tuple[float, float] = (1.0, 5.0)
    temporary_rate: float = 0.0
    ambiguous_rate: float = 0.0
    ambiguous_arrives: float = 0.5  # of ambiguous sends, the share that did arrive
    blocked_users: frozenset[str] = frozenset()
    always_temporary: frozenset[str] = frozenset()
    permanent_users: frozenset[str] = frozenset()
    # A user's next outcomes, used up in order before any rate applies (set them any time).
    scripted: dict[str, list[str]] = field(default_factory=dict)


# Scripted outcomes: the request timed out after sending, so the bot cannot know whether it
# arrived (the row becomes `unknown`); it did not, or it did.
UNKNOWN_LOST = "unknown, lost"
UNKNOWN_ARRIVED = "unknown, arrived"


def max_in_window(times: Sequence[float], period: float) -> int:
    """The largest number of `times` inside any half-open window [t, t + period)."""
    ordered = sorted(times)
    best = 0
    for i, start in enumerate(ordered):
        best = max(best, bisect.bisect_left(ordered, start + period, lo=i) - i)
    return best


@dataclass
class FaultTransport:
    clock: Clock
    platform: str = "telegram"
    per_second: int | None = 25
    private_per_second: int | None = 1
    group_per_minute: int | None = 20
    faults: Faults = field(default_factory=Faults)
    seed: int = 7
    yield_on_send: bool = True
    on_send: Callable[[ChatRef], Any] | None = None

    arrived: Counter[str] = field(default_factory=Counter)
    messages: dict[str, list[OutMessage]] = field(default_factory=lambda: defaultdict(list))
    attempts: Counter[str] = field(default_factory=Counter)
    send_times: list[float] = field(default_factory=list)
    chat_times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    edits: list[tuple[ChatRef, str, OutMessage]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    raised: Counter[str] = field(default_factory=Counter)
    _paused_until: float = float("-inf")
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _check_limits(self, chat_id: str, now: float) -> None:
        if now < self._paused_until:
            self.violations.append(
                f"sent at {now:.3f} during a retry_after until {self._paused_until:.3f}"
            )
        self.send_times.append(now)
        self.chat_times[chat_id].append(now)
        recent = [t for t in self.send_times[-200:] if t > now - 1.0]
        if self.per_second is not None and len(recent) > self.per_second:
            self.violations.append(f"{len(recent)} sends in the second up to {now:.3f}")
        chat = self.chat_times[chat_id]
        if chat_id.startswith("-"):
            limit, period = self.group_per_minute, 60.0
        else:
            limit, period = self.private_per_second, 1.0
        if limit is not None:
            count = sum(1 for t in chat[-(limit + 1) :] if t > now - period)
            if count > limit:
                self.violations.append(f"{count} sends to chat {chat_id} within {period:g}s")

    async def run(self, dispatch: Dispatch) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        now = self._now()
        self._check_limits(ref.chat_id, now)
        self.attempts[ref.user_id] += 1
        if self.yield_on_send:
            await asyncio.sleep(0)
        faults, user = self.faults, ref.user_id
        script = faults.scripted.get(user)
        if script:
            outcome = script.pop(0)
            self.raised["ambiguous"] += 1
            if outcome == UNKNOWN_ARRIVED:
                self._arrive(ref, message)
            raise AmbiguousDelivery(f"timed out after sending ({outcome})")
        if user in faults.blocked_users:
            self.raised["blocked"] += 1
            raise RecipientBlocked(user)
        if user in faults.permanent_users:
            self.raised["permanent"] += 1
            raise PermanentFailure("message refused")
        if user in faults.always_temporary:
            self.raised["temporary"] += 1
            raise TemporaryFailure("timed out")
        roll = self._rng.random()
        if roll < faults.retry_after_rate:
            seconds = round(self._rng.uniform(*faults.retry_after_seconds), 1)
            self._paused_until = max(self._paused_until, now + seconds)
            self.raised["retry_after"] += 1
            raise RetryLater(seconds)
        roll -= faults.retry_after_rate
        if roll < faults.temporary_rate:
            self.raised["temporary"] += 1
            raise TemporaryFailure("bad gateway")
        roll -= faults.temporary_rate
        if roll < faults.ambiguous_rate:
            self.raised["ambiguous"] += 1
            if self._rng.random() < faults.ambiguous_arrives:
                self._arrive(ref, message)
            raise AmbiguousDelivery("timed out after sending")
        message_id = self._arrive(ref, message)
        if self.on_send is not None:
            result = self.on_send(ref)
            if asyncio.iscoroutine(result):
                await result
        return Sent(message_id)

    def _arrive(self, ref: ChatRef, message: OutMessage) -> str:
        self.arrived[ref.user_id] += 1
        self.messages[ref.user_id].append(message)
        return str(next(self._ids))

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        return None

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        self._check_limits(ref.chat_id, self._now())
        self.edits.append((ref, message_id, message))

    def duplicates(self) -> dict[str, int]:
        return {user: n for user, n in self.arrived.items() if n > 1}

    def largest_second(self) -> int:
        return max_in_window(self.send_times, 1.0)


async def seed_people(
    uow: UnitOfWorkFactory,
    clock: Clock,
    count: int,
    *,
    platform: str = "telegram",
    prefix: str = "u",
    group_every: int = 0,
) -> list[tuple[int, str, str]]:
    """`count` people with an identity each, inserted in bulk: (person id, user, chat)."""
    now = clock.now()
    people: list[tuple[int, str, str]] = []
    async with uow() as work:
        session = work.session
        result = await session.execute(
            insert(Person).returning(Person.id),
            [
                {
                    "display_name": f"{prefix}{i}",
                    "language": "da",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(count)
            ],
        )
        ids = list(result.scalars())
        rows = []
        for i, person_id in enumerate(ids):
            user = f"{prefix}{i}"
            chat = f"-{1000 + i}" if group_every and i % group_every == 0 else str(10_000 + i)
            rows.append(
                {
                    "person_id": person_id,
                    "platform": platform,
                    "user_id": user,
                    "chat_id": chat,
                    "created_at": now,
                }
            )
            people.append((person_id, user, chat))
        await session.execute(insert(Identity), rows)
        await work.commit()
    return people


async def enqueue_broadcast(
    uow: UnitOfWorkFactory,
    people: Sequence[tuple[int, str, str]],
    *,
    batch: str | None,
    platform: str = "telegram",
    text: str = "Kom og vær med i skoven lørdag!",
    expires_in: timedelta | None = None,
    clock: Clock | None = None,
) -> None:
    payload = message_to_payload(OutMessage(text))
    async with uow() as work:
        expires_at = clock.now() + expires_in if clock is not None and expires_in else None
        await work.outbox.enqueue_many(
            [
                {
                    "dedupe_key": f"invite:{batch}:{person_id}",
                    "person_id": person_id,
                    "platform": platform,
                    "chat_id": chat,
                    "user_id": user,
                    "kind": "invitation",
                    "payload": payload,
                    "batch": batch,
                    "expires_at": expires_at,
                }
                for person_id, user, chat in people
            ]
        )
        await work.commit()


class Database:
    """One process's view of a test database: its own engine and unit-of-work factory."""

    def __init__(self, url: str, clock: Clock) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.uow = UnitOfWorkFactory(create_sessionmaker(self.engine), clock)

    async def statuses(self) -> Counter[str]:
        async with self.uow() as work:
            result = await work.session.execute(
                select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(
                    OutboxMessage.status
                )
            )
            return Counter({str(status): int(n) for status, n in result.all()})

    async def rows(self) -> list[OutboxMessage]:
        async with self.uow() as work:
            result = await work.session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
            return list(result.scalars().all())

    async def close(self) -> None:
        await self.engine.dispose()
