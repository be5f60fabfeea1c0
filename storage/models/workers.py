"""The bot processes sharing one database, each with a lease it keeps renewing, and the
scheduled work one of them holds at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String
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


class RateBudget(Base):
    """A platform's sending budget shared by every process: the earliest moment the next
    send may go, for the platform as a whole (`scope` empty) and for one chat (`scope` its
    id). In seconds since the epoch on the database's clock, so processes on several hosts
    agree whatever their own clocks say. Only PostgreSQL uses it."""

    __tablename__ = "rate_budget"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_free: Mapped[float] = mapped_column(Float)
