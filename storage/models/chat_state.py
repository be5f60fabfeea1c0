"""Where a chat is in a flow, and the questions with choices sent to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import FORGET_DELETE, Base


class Conversation(Base):
    """Where a person is in a multi-step flow, keyed by (platform, chat, user)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    flow: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    history: Mapped[list[Any]] = mapped_column(default=list)
    prompt_id: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Prompt(Base):
    """A question with choices that was sent, so any later answer to it can be checked.

    A choice arriving for a prompt is only honoured if the prompt was sent to that very
    chat and user and the choice id is one of the stored choices: button data proves
    nothing on its own.
    """

    __tablename__ = "prompts"
    __table_args__ = (Index("ix_prompts_message", "platform", "chat_id", "platform_message_id"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    flow: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    choices: Mapped[list[Any]] = mapped_column(default=list)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    bound: Mapped[bool] = mapped_column(Boolean, default=True)
    platform_message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    # When the question reached the chat; None while it waits in the outbox, so a typed
    # "1" is never taken as an answer to something the person has not seen.
    sent_at: Mapped[datetime | None]
