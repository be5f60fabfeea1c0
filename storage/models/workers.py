"""The bot processes sharing one database, each with a lease it keeps renewing, and the
scheduled work one of them holds at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Worker(Base):
    """A running bot process. Rows it has claimed carry its id (`outbox.owner`); while its
    lease has not expired, no other process touches them. A process that dies stops
    renewing, and once the lease has run out another process takes its rows over."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    lease_expires_at: Mapped[datetime]


class JobLease(Base):
    """Scheduled work that must run in one process at a time (reminders, housekeeping): the
    process holding it renews it; another takes it once it has run out."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
