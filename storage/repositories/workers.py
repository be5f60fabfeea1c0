"""The processes sharing the database and their leases, and who holds each scheduled job."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import JobLease, OutboxMessage, Worker
from storage.repositories.dialect_insert import insert_for
from storage.repositories.outbox import ON_THE_WAY


class WorkerRegistry:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def renew(self, worker_id: str, now: datetime, until: datetime) -> None:
        """Say this process is alive until `until`, and extend with it the lease of every
        outbox row and scheduled job it holds (the row is made again if a long pause let it
        be removed)."""
        insert = insert_for(self._session)
        await self._session.execute(
            insert(Worker)
            .values(id=worker_id, started_at=now, heartbeat_at=now, lease_expires_at=until)
            .on_conflict_do_update(
                index_elements=[Worker.id],
                set_={"heartbeat_at": now, "lease_expires_at": until},
            )
        )
        o = OutboxMessage
        held = o.owner == worker_id
        if self._session.get_bind().dialect.name == "postgresql":
            # Rows this process's worker is writing right now are skipped (it renews them at
            # the next beat, a third of a lease later): waiting for them while holding the
            # others' locks deadlocked against the worker's own updates of several rows.
            mine = aliased(OutboxMessage)
            held = o.id.in_(
                select(mine.id)
                .where(mine.owner == worker_id, mine.status.in_(ON_THE_WAY))
                .with_for_update(skip_locked=True)
            )
        await self._session.execute(
            update(o).where(held, o.status.in_(ON_THE_WAY)).values(lease_expires_at=until)
        )
        await self._session.execute(
            update(JobLease).where(JobLease.holder == worker_id).values(expires_at=until)
        )

    async def retire(self, worker_id: str) -> None:
        """A process that stops cleanly: its lease ends now, and the jobs it held are free."""
        await self._session.execute(delete(Worker).where(Worker.id == worker_id))
        await self._session.execute(delete(JobLease).where(JobLease.holder == worker_id))

    async def live(self, now: datetime) -> list[str]:
        result = await self._session.execute(
            select(Worker.id).where(Worker.lease_expires_at > now).order_by(Worker.id)
        )
        return list(result.scalars())

    async def forget_expired(self, before: datetime) -> int:
        """Remove processes whose lease ran out long ago (housekeeping)."""
        result = await self._session.execute(delete(Worker).where(Worker.lease_expires_at < before))
        return int(getattr(result, "rowcount", 0) or 0)

    async def hold_job(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew a scheduled job: true when `holder` has it until `until`. One
        statement, so two processes asking at once cannot both get it."""
        insert = insert_for(self._session)
        statement = (
            insert(JobLease)
            .values(name=name, holder=holder, expires_at=until)
            .on_conflict_do_update(
                index_elements=[JobLease.name],
                set_={"holder": holder, "expires_at": until},
                where=or_(JobLease.holder == holder, JobLease.expires_at <= now),
            )
            .returning(JobLease.holder)
        )
        result = await self._session.execute(statement)
        return result.scalar_one_or_none() == holder

    async def job_holder(self, name: str, now: datetime) -> str | None:
        result = await self._session.execute(
            select(JobLease.holder).where(JobLease.name == name, JobLease.expires_at > now)
        )
        return result.scalar_one_or_none()
