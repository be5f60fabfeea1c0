"""Interests and areas people choose to hear about."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import FORGET_DELETE, Base
from storage.models.translations import TextTranslation


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
    # Names in further languages (or a better one in Danish or English): a topic's subject
    # in the translations table is its kind, its key its slug.
    translations: Mapped[list[TextTranslation]] = relationship(
        primaryjoin="and_(foreign(TextTranslation.subject) == Topic.kind,"
        " foreign(TextTranslation.key) == Topic.slug)",
        viewonly=True,
        lazy="selectin",
    )

    def name(self, language: str) -> str:
        """The name in `language`, else in Danish (then English: the topic's own columns)."""
        for row in self.translations:
            if row.language == language:
                return row.text
        if language == "en":
            return self.name_en
        return self.name_da or self.name_en

    def all_names(self) -> tuple[str, ...]:
        """Every name the topic goes by, so a person may type any of them."""
        names = [self.name_da, self.name_en, *(row.text for row in self.translations)]
        return (*dict.fromkeys(names), self.slug)


class PersonTopic(Base):
    __tablename__ = "person_topics"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, info=FORGET_DELETE
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
