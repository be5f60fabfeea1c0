"""Deleting what is kept longer than the municipality said (TMM_RETENTION_*), once a day.

Each kind has its own cut-off (conversations/people/retention.py): the text of sent
messages, written feedback with its photos and voice notes, the names on answers to past
events. The log says how many rows went, never whose or what.
"""

from __future__ import annotations

import asyncio
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from conversations.feedback.rules.snaps import remove_files
from conversations.people.retention import RetentionPolicy
from storage.clock import Clock
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class Retention:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: RetentionPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self.policy = policy
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.run_once, "interval", days=1, id="retention", coalesce=True, max_instances=1
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def run_once(self) -> dict[str, int]:
        now = self._clock.now()
        counts = {"message_texts": 0}
        while True:  # in chunks, so chat steps never wait long for the writer
            async with self._uow() as uow:
                trimmed = await uow.retention.trim_payloads(now - self.policy.payloads)
                await uow.commit()
            counts["message_texts"] += trimmed
            if not trimmed:
                break
        async with self._uow() as uow:
            files = list(await uow.retention.snap_paths_before(now - self.policy.feedback))
            counts.update(await uow.retention.forget_feedback_words(now - self.policy.feedback))
            counts["rsvp_names"] = await uow.retention.anonymise_rsvps(now - self.policy.rsvps)
            await uow.commit()
        await asyncio.to_thread(remove_files, files)
        log.info(
            "retention: %s",
            ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())),
        )
        return counts
