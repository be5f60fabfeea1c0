"""Offers of help without a task, and the messages carried about them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import FORGET_ANONYMISE, FORGET_DELETE, Base


class OfferKind(StrEnum):
    LIFT = "lift"
    COOKING = "cooking"
    TOOLS = "tools"
    PLACE = "place"
    COMPANY = "company"
    OTHER = "other"


class OfferStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Offer(Base):
    """Something a person can give without a task: "I can give a lift on Tuesdays"."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    text: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    area_topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    when_possible: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.ACTIVE)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OfferMessage(Base):
    """A message the bot carried about an offer, between a coordinator and the offer's person.

    Neither side ever sees the other's platform, handle or id: only the text written.
    """

    __tablename__ = "offer_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
