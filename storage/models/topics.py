"""Interests and areas people choose to hear about."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import FORGET_DELETE, Base


class TopicKind(StrEnum):
    INTEREST = "interest"
    AREA = "area"


class Topic(Base):
    """An interest or an area people can choose to hear about; the list is curated."""

    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("kind", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    slug: Mapped[str] = mapped_column(String(64))
    name_da: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_da


class PersonTopic(Base):
    __tablename__ = "person_topics"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, info=FORGET_DELETE
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
