"""Other people's reply latency while one photo's download takes 8 s, against the same load
without any download.

    python -m benchmarks.snap_download [--people 10] [--helps 40] [--download 8] [--rounds 2]
                                       [--postgres URL]

The whole bot runs as in production: `BotApp.run` with the real Telegram transport against
the project's fake Bot API (tests/telegram_fake_api.py) on 127.0.0.1, which here answers
every request 50-150 ms after it arrived (uniformly at random, like a real network and Bot
API; a long poll hands over a new update that late too) and serves one file download after
`--download` seconds. A fresh SQLite file (or PostgreSQL
database) per run.

One person (eva) is at /snap; `--people` others are onboarded. In the measured run eva
sends a photo; once its download has begun, the others send `--helps` /help between them,
evenly spaced over the download (each person a few seconds apart, so no one waits for
their own earlier message). The baseline run is the same, without the photo. A reply's
latency is from the update being handed to the bot (pushed to getUpdates) to its
sendMessage reaching the Bot API. The runs alternate `--rounds` times.

Printed: p50 and p99 of both, the delay (during minus baseline; target: at most 100 ms)
and the ratios, how many replies came while the download was still on its way, and that
the photo's file was stored once it ended.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from benchmarks.telegram_updates import Databases
from bot.app import BotApp
from bot.settings import Settings
from bot.transports.telegram import TelegramTransport
from storage.models import EventStatus, Snap, SnapFetch
from tests.telegram_fake_api import FakeBotAPI

TOKEN = "4242:bench-snap-download"
EVA = 7000
LATENCY = (0.050, 0.150)  # seconds per Bot API request
PHOTO = b"\xff\xd8\xff\xe0 a photo of the fire " + bytes(range(256)) * 64
DEADLINE = 60.0


class SlowNetworkBotAPI(FakeBotAPI):
    """The fake Bot API behind a network: every request answered after 50-150 ms, the
    file download after `download_seconds`; notes when each chat's replies arrive."""

    def __init__(self, rng: random.Random, download_seconds: float) -> None:
        super().__init__()
        self._rng = rng
        self._download_seconds = download_seconds
        self.replies: dict[str, list[float]] = defaultdict(list)
        self.download_began: float | None = None
        self.download_ended: float | None = None
        self.polled = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        # Processed on arrival, answered 50-150 ms later: a long poll hands over an update
        # that late too, and a reply counts from its arrival.
        method = request.match_info["method"]
        arrived = time.perf_counter()
        if method == "getUpdates":
            self.polled.set()
        sent_before = len(self.sent)
        response = await super()._handle(request)
        if method == "sendMessage" and len(self.sent) > sent_before:
            self.replies[str(self.sent[-1][1].get("chat_id"))].append(arrived)
        await asyncio.sleep(self._rng.uniform(*LATENCY))
        return response

    async def _download(self, request: web.Request) -> web.Response:
        self.download_began = time.perf_counter()
        await asyncio.sleep(self._download_seconds)
        self.download_ended = time.perf_counter()
        return await super()._download(request)

    def photo_update(self, user_id: int) -> dict[str, Any]:
        update = self.message_update(user_id, "")
        message = update["message"]
        del message["text"]
        message["photo"] = [
            {"file_id": "photo-1", "file_unique_id": "p1", "width": 1280, "height": 960,
             "file_size": len(PHOTO)},
        ]  # fmt: skip
        return update


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    during_download: int = 0  # replies that reached the platform before the download ended
    stored: bool = False
    download_seconds: float = 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def seed(app: BotApp, people: int) -> None:
    """eva, who may send photos to an event that ended yesterday, and `people` others."""
    async with app.uow() as uow:
        now = uow.clock.now()
        for user_id in [EVA, *range(EVA + 1, EVA + 1 + people)]:
            person, _ = await uow.persons.get_or_create(
                "telegram", str(user_id), str(user_id), language="en"
            )
            await uow.persons.record_consent(person, app.settings.consent_version, given=True)
            person.display_name, person.onboarded_at = f"P{user_id}", now
            if user_id == EVA:
                await uow.feedback.set_snap_consent(person.id, True)
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


async def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


async def one_run(
    url: str, media: Path, *, people: int, helps: int, download: float, with_photo: bool
) -> Run:
    run = Run("during the download" if with_photo else "baseline (no download)")
    fake = SlowNetworkBotAPI(random.Random(helps), download)
    fake.files["photo-1"] = PHOTO
    await fake.start()
    settings = Settings(database_url=url, media_path=media, _env_file=None)  # type: ignore[call-arg]
    app = BotApp(settings, [TelegramTransport(TOKEN, api_base_url=fake.url, poll_timeout=10)])
    await app.migrate()
    await seed(app, people)
    bot = asyncio.create_task(app.run())
    try:
        await asyncio.wait_for(fake.polled.wait(), DEADLINE)
        fake.push_update(fake.message_update(EVA, "/snap"))
        await _until(lambda: fake.replies[str(EVA)], "the answer to /snap")
        if with_photo:
            fake.push_update(fake.photo_update(EVA))
            await _until(lambda: fake.download_began is not None, "the download to begin")
        pushed = await _helps(fake, people, helps, download)
        await _until(lambda: all(_answered(fake, *p) for p in pushed), "every /help answer")
        answered = [_answered(fake, chat, at) or at for chat, at in pushed]
        run.latencies = [reply - at for (_chat, at), reply in zip(pushed, answered, strict=True)]
        if with_photo:
            await _until(lambda: fake.download_ended is not None, "the download to end")
            began, ended = fake.download_began or 0.0, fake.download_ended or 0.0
            run.download_seconds = ended - began
            run.during_download = sum(reply < ended for reply in answered)
            run.stored = await _stored(app)
    finally:
        await app.stop()
        await asyncio.wait_for(bot, DEADLINE)
        await fake.stop()
    return run


async def _helps(
    fake: SlowNetworkBotAPI, people: int, helps: int, download: float
) -> list[tuple[str, float]]:
    """`helps` /help, round robin over the people, evenly spread over the download."""
    pushed: list[tuple[str, float]] = []
    spacing = download * 0.9 / max(1, helps)
    start = time.perf_counter()
    for number in range(helps):
        await asyncio.sleep(max(0.0, start + number * spacing - time.perf_counter()))
        chat = EVA + 1 + number % people
        pushed.append((str(chat), time.perf_counter()))
        fake.push_update(fake.message_update(chat, "/help"))
    return pushed


def _answered(fake: SlowNetworkBotAPI, chat: str, at: float) -> float | None:
    return next((t for t in fake.replies[chat] if t >= at), None)


async def _stored(app: BotApp) -> bool:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        async with app.uow() as uow:
            states = list((await uow.session.execute(select(Snap.fetch_state))).scalars())
        if states == [SnapFetch.STORED]:
            return True
        await asyncio.sleep(0.02)
    return False


async def measure(
    *,
    people: int = 10,
    helps: int = 40,
    download: float = 8.0,
    rounds: int = 2,
    postgres_url: str | None = None,
) -> tuple[Run, Run]:
    """Baseline and download runs, alternating; returns both with every round's replies."""
    baseline, during = Run("baseline (no download)"), Run("during the download")
    for _ in range(rounds):
        for with_photo, total in ((False, baseline), (True, during)):
            with tempfile.TemporaryDirectory() as tmp:
                databases = Databases(Path(tmp), postgres_url)
                async with databases.fresh("snaps" if with_photo else "plain") as url:
                    run = await one_run(
                        url,
                        Path(tmp) / "media",
                        people=people,
                        helps=helps,
                        download=download,
                        with_photo=with_photo,
                    )
            total.latencies += run.latencies
            total.during_download += run.during_download
            total.stored = run.stored if with_photo else total.stored
            total.download_seconds = max(total.download_seconds, run.download_seconds)
    return baseline, during


def report(baseline: Run, during: Run, *, people: int, rounds: int, backend: str) -> float:
    """Prints the comparison; returns the p99 delay in milliseconds."""
    print(
        f"snap_download: {len(during.latencies)} replies to /help from {people} people during "
        f"one {during.download_seconds:.1f} s download, against the same load without one "
        f"({rounds} alternating rounds, {backend}, fake Bot API {LATENCY[0] * 1000:.0f}-"
        f"{LATENCY[1] * 1000:.0f} ms per request)"
    )
    for run in (baseline, during):
        print(
            f"  {run.name:<24} p50 {run.percentile(0.5):7.1f} ms   "
            f"p99 {run.percentile(0.99):7.1f} ms   max {max(run.latencies) * 1000:7.1f} ms"
        )
    delay_p50 = during.percentile(0.5) - baseline.percentile(0.5)
    delay_p99 = during.percentile(0.99) - baseline.percentile(0.99)
    print(
        f"  delay: p50 {delay_p50:+.1f} ms, p99 {delay_p99:+.1f} ms (target <= 100 ms)"
        + ("" if delay_p99 <= 100 else "   ABOVE TARGET")
    )
    print(
        f"  ratio during / baseline: p50 {during.percentile(0.5) / baseline.percentile(0.5):.2f}"
        f", p99 {during.percentile(0.99) / baseline.percentile(0.99):.2f}"
    )
    print(
        f"  {during.during_download} of {len(during.latencies)} replies arrived while the "
        f"download was still on its way; the photo's file "
        + ("was stored after it" if during.stored else "WAS NOT STORED")
    )
    return delay_p99


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.snap_download")
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--helps", type=int, default=40)
    parser.add_argument("--download", type=float, default=8.0, help="seconds")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    baseline, during = asyncio.run(
        measure(
            people=args.people,
            helps=args.helps,
            download=args.download,
            rounds=args.rounds,
            postgres_url=args.postgres,
        )
    )
    report(
        baseline,
        during,
        people=args.people,
        rounds=args.rounds,
        backend="PostgreSQL" if args.postgres else "SQLite",
    )
    return 0 if during.stored else 1


if __name__ == "__main__":
    raise SystemExit(main())
