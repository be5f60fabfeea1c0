"""Pledges on tasks (*count me in*), and asks for a hand."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import FORGET_ANONYMISE, FORGET_DELETE, Base


class Pledge(Base):
    """A person's *count me in* on a task.

    Forgetting a person *anonymises* the row: the history (how many hands were given) stays
    as a count, but an anonymous pledge no longer holds a hand, like an anonymous answer no
    longer holds a place; the task shows the hand as missing again.
    """

    __tablename__ = "pledges"
    __table_args__ = (Index("ix_pledges_task_active", "task_id", "withdrawn_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    created_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]


class TaskAsk(Base):
    """That a person was asked for a hand on a task again, or said no to it: never twice."""

    __tablename__ = "task_asks"
    __table_args__ = (UniqueConstraint("task_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    asked_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
