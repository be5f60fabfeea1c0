"""What the shared rate budget (PostgreSQL) costs per send.

    python -m benchmarks.shared_budget [--sends 2000] [--rounds 3] [--postgres URL]

Takes `--sends` slots one after another with no spacing and a window of 0 (so nothing waits
for the budget and only its cost shows): the platform's pace row, a row of its 30-row ring
and a chat's row in one transaction, as every message's first request does
(`storage/repositories/rate_budget.py`, the statements `bot/shared_budget.py` runs).
Printed next to the baseline on the same engine in the same process, one round trip per
send (a transaction with `SELECT 1`), as a ratio, with the milliseconds per send of both.
At Telegram's 30 messages a second a send has 33 ms; the budget's share of that is the
figure that matters.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.rate_limit import RateLimits
from storage.clock import SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head_async
from storage.repositories.rate_budget import PLATFORM_WIDE, ring_scopes
from storage.unit_of_work import UnitOfWorkFactory
from tests.conftest import _create_database, _drop_database

LIMITS = RateLimits(per_second=30)  # Telegram's: a ring of 30 rows


async def budget_round(uow: UnitOfWorkFactory, sends: int) -> float:
    """A message's first request takes the pace row, a ring row and its chat's row in one
    transaction: here with no spacing and a window of 0, so nothing waits."""
    ring = ring_scopes(LIMITS.per_second)
    async with uow() as work:
        await work.rate_budget.make_ring("telegram", len(ring))
        await work.commit()
    began = time.perf_counter()
    for n in range(sends):
        async with uow() as work:
            budget = work.rate_budget
            pace = await budget.take_pace("telegram", PLATFORM_WIDE, 0.0, force=True)
            slot = await budget.take_ring("telegram", ring, 0.0, pace.at, force=True)
            await budget.take_pace("telegram", str(100_000 + n % 500), 0.0, slot.at, force=True)
            await work.commit()
    return (time.perf_counter() - began) / sends


async def baseline_round(uow: UnitOfWorkFactory, sends: int) -> float:
    began = time.perf_counter()
    for _ in range(sends):
        async with uow() as work:
            await work.session.execute(text("SELECT 1"))
            await work.commit()
    return (time.perf_counter() - began) / sends


async def measure(base_url: str, sends: int, rounds: int) -> tuple[list[float], list[float]]:
    name = f"tmm_budget_{uuid.uuid4().hex[:10]}"
    await _create_database(base_url, name)
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await upgrade_to_head_async(url)
        uow = UnitOfWorkFactory(create_sessionmaker(engine), SystemClock())
        await baseline_round(uow, 50)  # warm the pool
        budget, baseline = [], []
        for _ in range(rounds):  # interleaved, so drift hits both
            baseline.append(await baseline_round(uow, sends))
            budget.append(await budget_round(uow, sends))
        return budget, baseline
    finally:
        await engine.dispose()
        await _drop_database(base_url, name)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shared_budget")
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", ""))
    args = parser.parse_args(argv)
    if not args.postgres:
        print(
            "shared_budget needs PostgreSQL: --postgres URL or TEST_POSTGRES_URL", file=sys.stderr
        )
        return 2
    budget, baseline = asyncio.run(measure(args.postgres, args.sends, args.rounds))
    b, s = statistics.median(budget), statistics.median(baseline)
    print(f"{args.sends} sends × {args.rounds} rounds (medians)")
    print(f"shared budget: {b * 1000:.2f} ms per send (pace, ring and chat rows, one commit)")
    print(f"baseline:      {s * 1000:.2f} ms per round trip (SELECT 1, one commit)")
    print(f"ratio:         {b / s:.2f}")
    print(f"share of a send's 33 ms at 30/s: {b / (1 / 30) * 100:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
