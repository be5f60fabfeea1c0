"""Matrix: people onboarding at the same time on a real Synapse, the bot exempt from limits.

    python -m benchmarks.matrix_onboarding [--people 10] [--encrypted] [--stock-limits]
        [--steps N]

Starts Synapse (as the tests do), the bot as its own process (`python -m bot run` with the
Matrix transport, as it is deployed; the people's clients in this process would otherwise
take its event loop) and `--people` citizens with their own matrix-nio clients, who
onboard all at once as a person would: /start, the language by reaction, consent by
number, a name, two interests tapped (the list is edited in place), Done for interests and
areas, no initiatives, quiet hours.
A step's time runs from the citizen's message until the bot's answer (its last message or
the edit) has reached the citizen's client.

Baseline in the same run: the same people and steps against a plain matrix-nio bot, in its
own process too, that answers each message with one text (no storage, no flows); the ratio
of the p90s is what our side costs. Printed: per-step p50/p90/max for both, the ratio, and
how busy Synapse and each bot were (share of one core): Synapse is one Python process, and
when it is near 100 % it sets the pace for both bots; each of our answers is a text and up
to 7 reactions, each an event Synapse stores and hands to both syncs, against the echo's one.

`--stock-limits`: the bot is not exempt but held to Synapse's stock `rc_message` (a burst
of 10, then 0.2 events a second; each reaction is an event), the people exempt, so what is
measured is the bot's account; the target is then 3 s. That pace makes the whole onboarding
of 10 people take most of an hour, so `--steps N` stops each person after N steps.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from benchmarks._cpu import process_cpu_seconds
from bot.app import BotApp
from bot.demo import seed_starter_topics
from bot.settings import Settings
from bot.transports.matrix import KEYCAPS
from tests import matrix_people
from tests.matrix_people import BotMessage, Citizen
from tests.synapse import Synapse
from tests.test_matrix_crash import BotProcess

ROOT = Path(__file__).resolve().parent.parent

P90_TARGET = 1.0  # seconds, the bot exempt from Synapse's limits
STOCK_P90_TARGET = 3.0  # seconds, the bot under Synapse's stock limits
STOCK_PER_SECOND = 0.2  # Synapse's default rc_message
STOCK_BURST = 10
# A person's wait for one answer: at 0.2 events a second, 10 people's answers and their
# reactions take minutes (a test's 60 s would end the run).
STOCK_WAIT_SECONDS = 900.0


CPU_SHARES: list[str] = []


class Enough(Exception):
    """A person has taken the steps asked for (`--steps`)."""


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


Step = Callable[[], Awaitable[None]]


async def timed_step(steps: list[float], action: Step) -> None:
    began = time.perf_counter()
    await action()
    steps.append(time.perf_counter() - began)


async def onboard_with_the_bot(
    citizen: Citizen, room: str, steps: list[float], upto: int | None = None
) -> None:
    taken = 0

    async def timed(steps: list[float], action: Step) -> None:
        nonlocal taken
        if upto is not None and taken >= upto:
            raise Enough
        taken += 1
        await timed_step(steps, action)

    with contextlib.suppress(Enough):
        await _onboard(citizen, room, timed, steps)


async def _onboard(
    citizen: Citizen,
    room: str,
    timed: Callable[[list[float], Step], Awaitable[None]],
    steps: list[float],
) -> None:
    async def say(text: str, count: int = 1) -> list[BotMessage]:
        return await citizen.ask(room, text, count)

    async def react_reply(message: BotMessage, key: str) -> None:
        await citizen.wait_until(lambda: key in message.reactions, f"the {key} reaction")
        before = len(citizen.messages_in(room))
        await citizen.react(room, message.event_id, key)
        await citizen.replies(room, before)

    async def react_edit(message: BotMessage, key: str) -> None:
        await citizen.wait_until(lambda: key in message.reactions, f"the {key} reaction")
        edits = message.edits
        await citizen.react(room, message.event_id, key)
        await citizen.edited(message, edits + 1)

    async def answer(text: str) -> None:
        await say(text)

    found: dict[str, BotMessage] = {}

    async def start() -> None:
        found["language"] = (await say("/start", 2))[-1]

    async def name() -> None:
        found["interests"] = (await say("Anna"))[-1]

    async def done() -> None:
        found["last"] = (await say("færdig"))[-1]

    await timed(steps, start)
    await timed(steps, lambda: react_reply(found["language"], "🇩🇰"))
    await timed(steps, lambda: answer("1"))  # consent
    await timed(steps, name)
    await timed(steps, lambda: react_edit(found["interests"], KEYCAPS[0]))
    await timed(steps, lambda: react_edit(found["interests"], KEYCAPS[1]))
    await timed(steps, done)
    while "👍" in found["last"].body:  # the areas question
        await timed(steps, done)
    await timed(steps, lambda: answer("nej"))
    await timed(steps, lambda: answer("🔔"))


class EchoProcess:
    """The baseline: `benchmarks._matrix_echo` in its own process, exempt from limits."""

    def __init__(self, synapse: Synapse) -> None:
        account = synapse.register("echobot")
        admin = synapse.register("admin", admin=True)
        synapse.override_ratelimit(admin, account.user_id)
        self.account = account
        self.user_id = account.user_id
        self.url = synapse.url
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks._matrix_echo",
            self.url,
            self.account.user_id,
            self.account.device_id,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
        )
        assert self._process.stdin is not None
        self._process.stdin.write(f"{self.account.access_token}\n".encode())
        await self._process.stdin.drain()
        self._process.stdin.close()

    def cpu_seconds(self) -> float | None:
        return None if self._process is None else process_cpu_seconds(self._process.pid)

    async def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            await self._process.wait()


async def onboard_with_the_echo(
    citizen: Citizen, room: str, steps: list[float], count: int
) -> None:
    async def hello() -> None:
        await citizen.ask(room, "hej")

    for _ in range(count):
        await timed_step(steps, hello)


async def measure(
    people: int,
    encrypted: bool,
    rate: int | None = None,
    *,
    stock_limits: bool = False,
    upto: int | None = None,
) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        (folder / "synapse").mkdir()
        synapse = Synapse(folder / "synapse")
        if stock_limits:
            synapse.limit_messages(STOCK_PER_SECOND, STOCK_BURST)
            matrix_people.WAIT_SECONDS = STOCK_WAIT_SECONDS
        synapse.start()
        try:
            return await _measure(synapse, folder, people, encrypted, rate, stock_limits, upto)
        finally:
            synapse.stop()


async def _measure(
    synapse: Synapse,
    folder: Path,
    people: int,
    encrypted: bool,
    rate: int | None,
    stock_limits: bool,
    upto: int | None,
) -> tuple[list[float], list[float]]:
    bot = BotProcess(synapse, folder, localpart="onboardingbot")
    if rate:
        bot.env["TMM_MATRIX_RATE_PER_SECOND"] = str(rate)
    await prepare_database(bot.env["TMM_DATABASE_URL"])
    await bot.start()

    def bot_cpu() -> float | None:
        return None if bot.pid is None else process_cpu_seconds(bot.pid)

    def synapse_cpu() -> float | None:
        return None if synapse.pid is None else process_cpu_seconds(synapse.pid)

    citizens = await asyncio.gather(
        *(Citizen.connect(synapse, f"person{n}", folder) for n in range(people))
    )
    if stock_limits:
        admin = synapse.register("admin", admin=True)
        for citizen in citizens:  # only the bot's account is measured
            synapse.override_ratelimit(admin, str(citizen.client.user_id))
        synapse.remove_ratelimit_override(admin, bot.user_id)
    ours: list[float] = []
    baseline: list[float] = []
    try:
        try:
            rooms = await asyncio.gather(
                *(c.open_dm(bot.user_id, encrypted=encrypted) for c in citizens)
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nthe bot's log: {bot.log.read_text()[-3000:]}") from None
        with cpu_shares("Tæl mig med", {"Synapse": synapse_cpu, "bot": bot_cpu}):
            await asyncio.gather(
                *(
                    onboard_with_the_bot(c, r, ours, upto)
                    for c, r in zip(citizens, rooms, strict=True)
                )
            )
    finally:
        await bot.stop()
    echo = EchoProcess(synapse)
    await echo.start()
    try:
        rooms = await asyncio.gather(*(c.open_dm(echo.user_id, encrypted=False) for c in citizens))
        steps = len(ours) // people
        with cpu_shares("the echo", {"Synapse": synapse_cpu, "echo": echo.cpu_seconds}):
            await asyncio.gather(
                *(
                    onboard_with_the_echo(c, r, baseline, steps)
                    for c, r in zip(citizens, rooms, strict=True)
                )
            )
    finally:
        await echo.stop()
        await asyncio.gather(*(c.close() for c in citizens))
    return ours, baseline


@contextlib.contextmanager
def cpu_shares(name: str, processes: dict[str, Callable[[], float | None]]) -> Iterator[None]:
    """Notes how busy each process was (share of one core) while `name` ran. Synapse is one
    Python process: near 100 % it, not the bot, sets the pace."""
    began = time.perf_counter()
    before = {who: cpu() for who, cpu in processes.items()}
    yield
    wall = time.perf_counter() - began
    shares = []
    for who, cpu in processes.items():
        start, end = before[who], cpu()
        if start is not None and end is not None:
            shares.append(f"{who} {(end - start) / wall:.0%}")
    CPU_SHARES.append(f"busy during {name} (of one core): {', '.join(shares)}")


async def prepare_database(url: str) -> None:
    """The schema and the starter topics (for the interests question), before the bot starts."""
    app = BotApp(Settings(database_url=url, _env_file=None), [])
    await app.migrate()
    await seed_starter_topics(app.uow)
    await app.engine.dispose()


def report(name: str, steps: list[float]) -> str:
    return (
        f"{name:<22} steps {len(steps):>4}  p50 {percentile(steps, 0.5):6.3f} s  "
        f"p90 {percentile(steps, 0.9):6.3f} s  max {max(steps):6.3f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--encrypted", action="store_true")
    parser.add_argument(
        "--stock-limits",
        action="store_true",
        help="the bot under Synapse's stock rc_message (burst 10, then 0.2/s), not exempt",
    )
    parser.add_argument("--steps", type=int, default=None, help="steps per person (default: all)")
    parser.add_argument(
        "--rate",
        type=int,
        default=None,
        help="TMM_MATRIX_RATE_PER_SECOND for the bot (default: the setting's default)",
    )
    args = parser.parse_args(argv)
    ours, baseline = asyncio.run(
        measure(
            args.people,
            args.encrypted,
            args.rate,
            stock_limits=args.stock_limits,
            upto=args.steps,
        )
    )
    print(report("Tæl mig med", ours))
    print(report("plain matrix-nio echo", baseline))
    ratio = percentile(ours, 0.9) / percentile(baseline, 0.9)
    print(f"p90 ratio (ours / baseline): {ratio:.2f}")
    for line in CPU_SHARES:
        print(line)
    p90 = percentile(ours, 0.9)
    target = STOCK_P90_TARGET if args.stock_limits else P90_TARGET
    print(f"p90 {p90:.3f} s (target ≤ {target:.1f} s): {'ok' if p90 <= target else 'over'}")
    return 0 if p90 <= target else 1


if __name__ == "__main__":
    raise SystemExit(main())
