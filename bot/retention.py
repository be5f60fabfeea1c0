"""Deleting what is kept longer than the municipality said (TMM_RETENTION_*), once a day.

Each kind has its own cut-off (conversations/people/retention.py): the text of sent
messages, written feedback with its photos and voice notes, the names on answers to and
check-ins at past events, the co-organisers' log; and people who have not written for long
are asked once whether to stay, then forgotten as by /forget if they stay silent. The log
says how many rows went, never whose or what.
"""

from __future__ import annotations

import asyncio
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.leases import ProcessLease
from conversations.core.i18n import N_, Translations
from conversations.core.messages import OutMessage
from conversations.core.services import Services
from conversations.events.rules.notifier import Notifier
from conversations.feedback.rules.snaps import remove_files
from conversations.people.retention import RetentionPolicy
from storage.clock import Clock
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

ASK_TO_STAY = N_(
    "Hello! It has been a long time since you wrote to me. Shall I keep what I know about "
    "you? Just write anything to me, and I will. If I hear nothing, I will delete "
    "everything about you on {date}, as if you had written /forget."
)


RETENTION = "retention"  # the scheduled job one process of several holds


class Retention:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: RetentionPolicy,
        translations: Translations,
        timezone: str,
        lease: ProcessLease | None = None,
    ) -> None:
        """`lease`: this process's, when several share the database: the job then runs in
        the one holding it (bot/leases.py)."""
        self._uow = uow
        self._clock = clock
        self._lease = lease
        self.policy = policy
        self._translations = translations
        self._timezone = timezone
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
        if self._lease is not None and not await self._lease.hold(RETENTION):
            return {}  # another process does it
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
            counts["check_in_names"] = await uow.retention.anonymise_check_ins(
                now - self.policy.check_ins
            )
            counts["organiser_actions"] = await uow.retention.forget_organiser_actions(
                now - self.policy.organiser_log
            )
            await uow.commit()
        await asyncio.to_thread(remove_files, files)
        counts["asked_to_stay"] = await self._ask_the_inactive()
        counts["inactive_forgotten"] = await self._forget_the_silent()
        log.info(
            "retention: %s",
            ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())),
        )
        return counts

    async def _ask_the_inactive(self) -> int:
        asked = 0
        while True:
            async with self._uow() as uow:
                now = self._clock.now()
                ids = await uow.retention.inactive_to_ask(now - self.policy.inactive)
                if not ids:
                    return asked
                services = Services(uow, self._translations, self._timezone, self._clock)
                notifier = Notifier(services)
                for person, identity in await uow.audiences.reachable(ids):
                    tr = services.tr(person)
                    text = tr.gettext(ASK_TO_STAY).format(
                        date=tr.format_datetime(now + self.policy.stay, self._timezone)
                    )
                    await notifier.enqueue(
                        person,
                        identity,
                        OutMessage(text),
                        key=f"stay:{person.id}:{now.date().isoformat()}",
                        kind="notice",
                        batch=None,
                    )
                # asked, reachable or not: who cannot be reached cannot answer either
                await uow.retention.mark_asked_to_stay(ids)
                await uow.commit()
            asked += len(ids)

    async def _forget_the_silent(self) -> int:
        forgotten = 0
        while True:
            async with self._uow() as uow:
                ids = await uow.retention.silent_since_asked(
                    self._clock.now() - self.policy.stay, limit=1
                )
                if not ids:
                    return forgotten
                files = list(await uow.feedback.snap_paths_of(ids[0]))
                await uow.personal_records.forget(ids[0])
                await uow.commit()
            await asyncio.to_thread(remove_files, files)
            forgotten += 1
