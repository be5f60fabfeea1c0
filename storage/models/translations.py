"""Names in other languages for the texts coordinators and admins define themselves."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class NamedSubject(StrEnum):
    """What a translated name belongs to; `key` says which one."""

    INTEREST = "interest"  # key: the topic's slug (a topic's subject is its kind)
    AREA = "area"
    STEP = "step"  # key: the step's Danish name, normalised (a step is stored as its text)


class TextTranslation(Base):
    """One name of one defined text in one language; a language needs no column of its own."""

    __tablename__ = "translations"
    __table_args__ = (UniqueConstraint("subject", "key", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
