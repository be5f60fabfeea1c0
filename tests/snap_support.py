"""Helpers for the snap file tests: a person ready to send photos to an event's log, fake
platforms whose downloads are slow, broken or counted, and waiting for the file worker."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from bot.app import BotApp
from bot.transports.base import Dispatch, PermanentFailure
from storage.models import Event, EventStatus, Snap
from tests.fakes import RecordingTransport

DEADLINE = 20.0  # seconds a test waits for the worker before failing (never a timed assertion)


async def ready_to_send_snaps(
    app: BotApp,
    platform: str,
    user_id: str,
    chat_id: str,
    *,
    language: str = "en",
    shares_snaps: bool | None = True,
) -> Event:
    """A consenting, onboarded person, asked for feedback on an event that ended yesterday
    (so its log takes snaps now), who said `shares_snaps` to sharing photos (None: not
    asked yet); returns the event."""
    async with app.uow() as uow:
        now = uow.clock.now()
        person, _ = await uow.persons.get_or_create(platform, user_id, chat_id, language=language)
        await uow.persons.record_consent(person, app.settings.consent_version, given=True)
        person.display_name, person.onboarded_at = "Eva", now
        if shares_snaps is not None:
            await uow.feedback.set_snap_consent(person.id, shares_snaps)
        event = await uow.events.create(
            title="Bål i skoven",
            starts_at=now - timedelta(days=1, hours=3),
            ends_at=now - timedelta(days=1),
            journey_steps=["velkomsten", "bålet"],
            audience={"kind": "link"},
            status=EventStatus.PUBLISHED,
        )
        await uow.feedback.ensure_request(event.id, person.id, "link")
        await uow.commit()
    return event


async def snaps(app: BotApp) -> list[Snap]:
    async with app.uow() as uow:
        return list((await uow.session.execute(select(Snap).order_by(Snap.id))).scalars().all())


async def wait_for(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.01)


async def wait_until_stored(app: BotApp, count: int = 1) -> list[Snap]:
    async def stored() -> bool:
        return sum(s.fetch_state == "stored" for s in await snaps(app)) >= count

    await wait_for(stored, f"{count} snap file(s) to be stored")
    return await snaps(app)


@dataclass
class SlowFetcher:
    """A download that takes up to `seconds` (8, as measured), or until `release` is set.

    `events` is the order of what happened, shared with the test's other actors."""

    content: bytes = b"\xff\xd8 a photo of the fire"
    seconds: float = 8.0
    events: list[str] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    calls: list[str] = field(default_factory=list)

    async def fetch(self, file_ref: str) -> bytes:
        self.calls.append(file_ref)
        self.events.append("fetch started")
        self.started.set()
        with contextlib.suppress(TimeoutError):  # slow, but it does arrive
            await asyncio.wait_for(self.release.wait(), self.seconds)
        self.events.append("fetch finished")
        return self.content


@dataclass
class CountingFetcher:
    """Answers at once with `content`, or fails the way it is told to; counts the calls."""

    content: bytes = b"\xff\xd8 a photo of the fire"
    error: Exception | None = None
    calls: list[str] = field(default_factory=list)

    async def fetch(self, file_ref: str) -> bytes:
        self.calls.append(file_ref)
        if self.error is not None:
            raise self.error
        return self.content


def gone() -> Exception:
    return PermanentFailure("Bad Request: invalid file_id")


@dataclass
class FetchingTransport(RecordingTransport):
    """The recording transport that can also fetch files people sent, and runs until it
    is stopped (so `BotApp.run` does)."""

    fetcher: CountingFetcher = field(default_factory=CountingFetcher)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, dispatch: Dispatch) -> None:
        await self.stopped.wait()

    async def stop(self) -> None:
        self.stopped.set()

    async def fetch(self, file_ref: str) -> bytes:
        return await self.fetcher.fetch(file_ref)
