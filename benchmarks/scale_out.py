"""Several real bot processes (webhook mode) on one PostgreSQL, one broadcast, flood control.

    python -m benchmarks.scale_out [--processes 1,2,3] [--messages 600] [--limit 30]
        [--latency 0.05,0.15] [--updates-per-second 5] [--burst 300] [--postgres URL]

For each process count: a fresh database, that many `python -m bot run` processes, each
with its own webhook port, and a fake Bot API in a process of its own under real-time
scheduling where allowed (tests/fake_api_server.py; Telegram's flood control runs on
Telegram's machines, not on the two cores the bots share) that answers every request after
50-150 ms and refuses with 429 above `--limit` messages a second overall, one a second per
private chat or 20 a minute per group (tests/fake_api_wire.py). Once every process has set
its webhook, a broadcast of `--messages` rows is put in the outbox, and people write to the
bot (posted to the processes' webhooks in turn) at `--updates-per-second` while it runs.
Printed per count:

- broadcast time: first to last broadcast message accepted by the fake, and its ratio to
  one process's (target: within 5 %);
- the largest count of messages in any one-second window, wherever it starts (≤ the limit);
- 429s answered, duplicates (a recipient that got the broadcast twice), lost (one that got
  it never, though its row was not left in doubt), rows left unknown;
- updates handled per second while the broadcast ran (each with its reply);
- then, the broadcast done, `--burst` people writing at once: updates handled per second
  (each step taken and its reply in the outbox) and its ratio to one process's, what more
  processes add; answered per second (until the last person's reply reached the fake),
  which the platform's limit bounds however many processes (about 27 a second at 30/s);
  and the 429s met meanwhile; and how many cores the bot processes, PostgreSQL, the fake
  Bot API and this process (the people posting) kept busy until the last was handled.

PostgreSQL comes from --postgres or TEST_POSTGRES_URL; without it the benchmark stops with
an error (it measures several processes on one database, which SQLite cannot be).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from benchmarks._cpu import cpu_seconds_by_pid, cpu_used_between, process_cpu_seconds
from storage.clock import SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head_async
from storage.models import InboxUpdate, OutboxMessage, OutboxStatus
from storage.unit_of_work import UnitOfWorkFactory
from tests.conftest import _create_database, _drop_database
from tests.fake_api_process import FakeAPIProcess
from tests.fake_api_wire import Wire
from tests.fault_transport import enqueue_broadcast, max_in_window, seed_people
from tests.telegram_fake_api import SEND_METHODS, message_update

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "4242:scale-out-benchmark"
SECRET = "scale-out-benchmark-webhook-secret"  # what Telegram would send in its header
SECRET_HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
BROADCAST_TEXT = "Kom og vær med i skoven lørdag!"
WRITERS = 200  # people who write to the bot during the broadcast
SCHEDULING: set[str] = set()  # what the fake Bot API got: realtime, or shared with the bots


@dataclass
class Result:
    processes: int
    seconds: float
    largest_second: int
    flooded: int
    duplicates: int
    lost: int
    unknown: int
    handled_per_second: float
    burst: Burst


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_process_env(url: str, api: str, port: int, limit: int) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TMM_DATABASE_URL": url,
        "TMM_TELEGRAM_TOKEN": TOKEN,
        "TMM_TELEGRAM_API_BASE_URL": api,
        "TMM_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "TMM_TELEGRAM_WEBHOOK_PORT": str(port),
        "TMM_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TMM_TELEGRAM_RATE_PER_SECOND": str(limit),
        "TMM_LOG_LEVEL": "WARNING",
    }


async def write_to_the_bot(ports: list[int], rate: float, stop: asyncio.Event) -> int:
    """People write `/help` at `rate` a second, posted to the processes' webhooks in turn."""
    posted = 0
    async with httpx.AsyncClient(timeout=30, headers=SECRET_HEADERS) as client:
        while not stop.is_set():
            user = 900_000 + posted % WRITERS
            update = message_update(10_000_000 + posted, user, "/help")
            update["update_id"] = 10_000_000 + posted
            port = ports[posted % len(ports)]
            with contextlib.suppress(httpx.HTTPError):
                await client.post(f"http://127.0.0.1:{port}/telegram", json=update)
            posted += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1 / rate)
    return posted


@dataclass
class Burst:
    handled_per_second: float  # updates handled (the step taken, its reply in the outbox)
    answered_per_second: float  # people whose answer reached the platform
    flooded: int
    flooded_for_the_chat: int  # of those, the ones whose chat had had its message that second
    largest_second: int  # messages arriving in any one second of the burst
    cores: Cores  # how busy each part was until the last was handled


@dataclass(frozen=True)
class Cores:
    """Cores in use on average, each part: on two cores, a sum near 2 is what bounds it."""

    bots: float
    postgres: float
    fake: float  # the fake Bot API's process
    benchmark: float  # this process: the people posting, the counting

    @property
    def total(self) -> float:
        return self.bots + self.postgres + self.fake + self.benchmark


class CpuWatch:
    """CPU time used by the bot processes, PostgreSQL and this process from `start` on."""

    def __init__(self, children: list[asyncio.subprocess.Process], fake: int | None) -> None:
        self._pids = [child.pid for child in children]
        self._fake = fake
        self._began = time.monotonic()
        self._before = self._now()

    def _now(self) -> tuple[float, float, float, dict[int, float]]:
        own = os.times()
        bots = sum(process_cpu_seconds(pid) or 0.0 for pid in self._pids)
        fake = (process_cpu_seconds(self._fake) or 0.0) if self._fake else 0.0
        return bots, fake, own.user + own.system, cpu_seconds_by_pid("postgres")

    def cores(self) -> Cores:
        wall = max(time.monotonic() - self._began, 1e-9)
        bots, fake, own, postgres = self._now()
        bots0, fake0, own0, postgres0 = self._before
        return Cores(
            (bots - bots0) / wall,
            cpu_used_between(postgres0, postgres) / wall,
            (fake - fake0) / wall,
            (own - own0) / wall,
        )


async def burst(
    fake: FakeAPIProcess,
    ports: list[int],
    uow: UnitOfWorkFactory,
    count: int,
    *,
    first: int,
    children: list[asyncio.subprocess.Process],
) -> Burst:
    """`count` people write at once (posted to the processes in turn, 32 posts in flight):
    per second until the last is handled, and until the last has their answer."""
    if count <= 0:
        return Burst(0.0, 0.0, 0, 0, 0, Cores(0.0, 0.0, 0.0, 0.0))
    watch = CpuWatch(children, fake.pid)
    began = datetime.now(UTC)
    started = time.monotonic()
    flooded_before = (await fake.wire()).refusals
    gate = asyncio.Semaphore(32)
    async with httpx.AsyncClient(timeout=60, headers=SECRET_HEADERS) as client:

        async def post(n: int) -> None:
            update = message_update(first + n, first + n, "/help")
            update["update_id"] = first + n
            async with gate:
                await client.post(f"http://127.0.0.1:{ports[n % len(ports)]}/telegram", json=update)

        await asyncio.gather(*(post(n) for n in range(count)))
    deadline = time.monotonic() + 120 + count
    handled_in: float | None = None
    cores: Cores | None = None
    people = {str(first + n) for n in range(count)}
    while True:
        if handled_in is None:
            async with uow() as work:
                done = await work.session.scalar(
                    select(func.count(InboxUpdate.id)).where(InboxUpdate.handled_at >= began)
                )
            if int(done or 0) >= count:
                handled_in = time.monotonic() - started
                cores = watch.cores()
        answered = await fake.chats() & people
        if handled_in is not None and cores is not None and len(answered) >= count:
            answered_in = time.monotonic() - started
            wire = await fake.wire()
            for_the_chat = refused_for_the_chat(wire, since=started)
            largest = max_in_window([t for t, _ in wire.arrivals() if t >= started], 1.0)
            return Burst(
                count / handled_in,
                count / answered_in,
                wire.refusals - flooded_before,
                for_the_chat,
                largest,
                cores,
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"the burst was not answered: {len(answered)} of {count}")
        await asyncio.sleep(0.1)


def refused_for_the_chat(wire: Wire, *, since: float) -> int:
    """Refusals since `since` of a message to a chat that had one in the second before (the
    per-chat limit; the others met the overall one)."""
    return sum(
        1
        for chat, times in wire.refused.items()
        for t in times
        if t >= since and any(t - 1.0 < a.at <= t for a in wire.arrived.get(chat, ()))
    )


async def start_processes(
    webhooks_set: Callable[[], Awaitable[int]], url: str, api: str, ports: list[int], limit: int
) -> list[asyncio.subprocess.Process]:
    """One `python -m bot run` per port, sending at most `limit` a second together; returns
    once each has set its webhook (`webhooks_set`: how many setWebhook the fake has had)."""
    webhooks_before = await webhooks_set()
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env=bot_process_env(url, api, port, limit),
        )
        for port in ports
    ]
    deadline = time.monotonic() + 60
    while await webhooks_set() < webhooks_before + len(ports):
        if time.monotonic() > deadline or any(c.returncode is not None for c in children):
            await stop_processes(children)
            raise RuntimeError("the bot processes did not start")
        await asyncio.sleep(0.05)
    return children


async def stop_processes(children: list[asyncio.subprocess.Process]) -> None:
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            await asyncio.wait_for(child.wait(), 30)
        except TimeoutError:
            child.kill()
            await child.wait()


async def one_count(base_url: str, processes: int, args: argparse.Namespace) -> Result:
    name = f"tmm_scale_{uuid.uuid4().hex[:10]}"
    await _create_database(base_url, name)
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    low, high = args.latency
    async with FakeAPIProcess(
        flood=args.limit, latency_ms=(low * 1000, high * 1000), realtime=True
    ) as fake:
        return await _one_count(fake, base_url, name, url, processes, args)


async def _one_count(
    fake: FakeAPIProcess,
    base_url: str,
    name: str,
    url: str,
    processes: int,
    args: argparse.Namespace,
) -> Result:
    async def webhooks_set() -> int:
        return (await fake.requests()).get("setWebhook", 0)

    SCHEDULING.add(fake.scheduling)
    api = fake.url
    engine = create_engine(url)
    uow = UnitOfWorkFactory(create_sessionmaker(engine), SystemClock())
    children: list[asyncio.subprocess.Process] = []
    try:
        await upgrade_to_head_async(url)
        people = await seed_people(uow, SystemClock(), args.messages)
        ports = [free_port() for _ in range(processes)]
        children += await start_processes(webhooks_set, url, api, ports, args.limit)

        began = datetime.now(UTC)
        await enqueue_broadcast(uow, people, batch=None, text=BROADCAST_TEXT)
        stop = asyncio.Event()
        writers = asyncio.create_task(write_to_the_bot(ports, args.updates_per_second, stop))
        limit_at = time.monotonic() + 60 + 3 * args.messages / args.limit
        while True:
            async with uow() as work:
                open_rows = await work.session.scalar(
                    select(func.count(OutboxMessage.id)).where(
                        OutboxMessage.status.in_(
                            (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.ATTEMPTING)
                        ),
                        OutboxMessage.kind == "invitation",
                    )
                )
            if not open_rows:
                break
            if time.monotonic() > limit_at:
                raise RuntimeError(f"the broadcast did not finish: {open_rows} rows left")
            await asyncio.sleep(0.2)
        ended = datetime.now(UTC)
        stop.set()
        await writers
        flooded_in_broadcast = (await fake.wire()).refusals
        at_limit = await burst(fake, ports, uow, args.burst, first=30_000_000, children=children)

        wire = await fake.wire()
        arrivals = [(a, chat) for chat, items in wire.arrived.items() for a in items]
        broadcast = [
            (a.at, chat)
            for a, chat in arrivals
            if a.method == "sendMessage" and a.text == BROADCAST_TEXT
        ]
        got = Counter(chat for _, chat in broadcast)
        async with uow() as work:
            unknown = await work.session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.status == OutboxStatus.UNKNOWN
                )
            )
            handled = await work.session.scalar(
                select(func.count(InboxUpdate.id)).where(
                    InboxUpdate.handled_at >= began, InboxUpdate.handled_at <= ended
                )
            )
        times = [moment for moment, _ in broadcast]
        # every message the fake accepted while the broadcast ran (replies too)
        sent = [a.at for a, _ in arrivals if a.method in SEND_METHODS]
        broadcast_window = [t for t in sent if times and min(times) <= t <= max(times)]
        seconds = max(times) - min(times) if times else 0.0
        return Result(
            processes=processes,
            seconds=seconds,
            largest_second=max_in_window(sorted(broadcast_window), 1.0),
            flooded=flooded_in_broadcast,
            duplicates=sum(1 for n in got.values() if n > 1),
            lost=max(0, len(people) - len(got) - int(unknown or 0)),
            unknown=int(unknown or 0),
            handled_per_second=int(handled or 0) / max((ended - began).total_seconds(), 1e-9),
            burst=at_limit,
        )
    finally:
        await stop_processes(children)
        await engine.dispose()
        await _drop_database(base_url, name)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_out")
    parser.add_argument("--processes", default="1,2,3")
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--latency", default="0.05,0.15")
    parser.add_argument("--updates-per-second", type=float, default=5.0)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", ""))
    args = parser.parse_args(argv)
    args.latency = tuple(float(x) for x in args.latency.split(","))
    args.processes = [int(x) for x in args.processes.split(",")]
    return args


async def run_all(args: argparse.Namespace) -> list[Result]:
    results = []
    for count in args.processes:
        results.append(await one_count(args.postgres, count, args))
    return results


def main(argv: list[str]) -> int:
    args = parse(argv)
    if not args.postgres:
        print("scale_out needs PostgreSQL: --postgres URL or TEST_POSTGRES_URL", file=sys.stderr)
        return 2
    results = asyncio.run(run_all(args))
    one = next((r.seconds for r in results if r.processes == 1), None)
    print(
        f"{args.messages} messages, limit {args.limit}/s, latency "
        f"{args.latency[0] * 1000:.0f}-{args.latency[1] * 1000:.0f} ms, "
        f"{args.updates_per_second:g} updates/s offered; "
        f"the fake Bot API in its own process, scheduling: {'/'.join(sorted(SCHEDULING))}"
    )
    print(
        "procs  broadcast s  ×one  max/1s  429s  dup  lost  unknown  updates/s"
        f"  burst of {args.burst}: handled/s  ×one  answered/s  429s"
        " (per chat)  max/1s  cores busy (bots+PostgreSQL+fake+posting)"
    )
    first = next((r.burst for r in results if r.processes == 1), None)
    for r in results:
        ratio = f"{r.seconds / one:5.2f}" if one else "   - "
        burst_ratio = r.burst.handled_per_second / first.handled_per_second if first else 0.0
        c = r.burst.cores
        print(
            f"{r.processes:5}  {r.seconds:11.1f}  {ratio}  {r.largest_second:6}  {r.flooded:4}"
            f"  {r.duplicates:3}  {r.lost:4}  {r.unknown:7}  {r.handled_per_second:9.1f}"
            f"  {r.burst.handled_per_second:19.1f}  {burst_ratio:4.2f}"
            f"  {r.burst.answered_per_second:10.1f}  {r.burst.flooded:4}"
            f" ({r.burst.flooded_for_the_chat:3})  {r.burst.largest_second:6}"
            f"  {c.total:.2f} = {c.bots:.2f}+{c.postgres:.2f}+{c.fake:.2f}+{c.benchmark:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
