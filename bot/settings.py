"""Configuration from environment variables (prefix `TMM_`) and an optional `.env` file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.i18n import LANGUAGES

ENV_PREFIX = "TMM_"
IdentityList = Annotated[list[str], NoDecode]


class ConfigurationError(Exception):
    """A setting is missing or malformed; the message is one line for a person to read."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///data/taelmigmed.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path.db or postgresql+asyncpg://...",
    )
    timezone: str = Field(default="Europe/Copenhagen", description="Time zone times are shown in.")
    default_language: str = Field(default="da", description="Language for new people: da or en.")
    admins: IdentityList = Field(
        default_factory=list,
        description="Comma-separated identities with admin rights, e.g. telegram:12345.",
    )
    coordinators: IdentityList = Field(
        default_factory=list,
        description="Comma-separated identities that are coordinators from the start.",
    )
    conversation_ttl_hours: float = Field(
        default=14 * 24, gt=0, description="A conversation left untouched this long is closed."
    )
    consent_version: str = Field(
        default="2026-11", min_length=1, description="Version of the consent text people accept."
    )
    invite_code_days: float = Field(
        default=7, gt=0, description="How long a coordinator invite code stays valid."
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    console: bool = Field(
        default=False, description="Also chat in this terminal when running `python -m bot run`."
    )

    # --- delivery of the outbox (bot/delivery.py) ---------------------------------------
    telegram_rate_per_second: int = Field(
        default=25,
        ge=1,
        le=30,
        description="Telegram: most messages in any one second, all chats (its ceiling is 30).",
    )
    telegram_private_chat_per_second: int = Field(
        default=1, ge=1, description="Telegram: most messages to one private chat in a second."
    )
    telegram_group_chat_per_minute: int = Field(
        default=20, ge=1, description="Telegram: most messages to one group chat in a minute."
    )
    matrix_rate_per_second: int = Field(
        default=10, ge=1, description="Matrix: most messages in any one second, all rooms."
    )
    other_rate_per_second: int = Field(
        default=100, ge=1, description="Other transports (console): most messages a second."
    )
    delivery_max_attempts: int = Field(
        default=5, ge=1, description="Tries of a message that fails for a passing reason."
    )
    delivery_backoff_seconds: float = Field(
        default=10, gt=0, description="First wait before trying a failed message again."
    )
    delivery_backoff_max_seconds: float = Field(
        default=900, gt=0, description="Longest wait between tries (the wait doubles)."
    )
    delivery_max_retry_after: int = Field(
        default=20,
        ge=1,
        description="Times a message may be postponed by the platform's retry_after before "
        "it counts as failed.",
    )
    delivery_concurrency: int = Field(
        default=8, ge=1, description="Messages a worker has on the way at the same time."
    )
    delivery_batch_size: int = Field(
        default=50, ge=1, description="Due messages a worker reads from the outbox at once."
    )
    delivery_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often a worker looks for new messages unasked."
    )
    delivery_progress_seconds: float = Field(
        default=5.0, gt=0, description="How often a broadcast's progress message is updated."
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a known time zone") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("admins", "coordinators", mode="before")
    @classmethod
    def _split_identities(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("admins", "coordinators")
    @classmethod
    def _identity_form(cls, value: list[str]) -> list[str]:
        for item in value:
            platform, _, user = item.partition(":")
            if not platform or not user:
                raise ValueError(f"{item!r} should look like platform:user, e.g. telegram:12345")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return upper

    @property
    def conversation_ttl(self) -> timedelta:
        return timedelta(hours=self.conversation_ttl_hours)

    @property
    def invite_code_validity(self) -> timedelta:
        return timedelta(days=self.invite_code_days)

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url[len(prefix) :])
        return None


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, or a ConfigurationError with one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ENV_PREFIX + "_".join(str(part) for part in error["loc"]).upper()
            problems.append(f"{name}: {error['msg']}")
        raise ConfigurationError("; ".join(problems)) from None
