"""The event jobs in a process of their own, for the test that kills them with SIGKILL.

    python -m tests.reminder_child <database url>

Runs `EventJobs` as the bot does (its first run at once, in chunks) on the real clock until
killed.
"""

from __future__ import annotations

import asyncio
import sys

from bot.i18n import catalogs
from bot.scheduler import EventJobs
from storage.clock import SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.unit_of_work import UnitOfWorkFactory


async def main(url: str) -> None:
    clock = SystemClock()
    uow = UnitOfWorkFactory(create_sessionmaker(create_engine(url)), clock)
    jobs = EventJobs(uow, clock, catalogs(), "Europe/Copenhagen")
    jobs.start()
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
