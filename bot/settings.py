"""Configuration from environment variables (prefix `TMM_`) and an optional `.env` file."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.i18n import LANGUAGES
from conversations.feedback.rules.snaps import FeedbackOptions
from conversations.people.retention import RetentionPolicy
from conversations.tasks.rules.missing_hands import HandsLeads
from storage.db import DEFAULT_DATABASE_URL

ENV_PREFIX = "TMM_"
DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
IdentityList = Annotated[list[str], NoDecode]


class ConfigurationError(Exception):
    """A setting is missing or malformed; the message is one line for a person to read."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite+aiosqlite:///path.db or postgresql+asyncpg://...",
    )
    timezone: str = Field(default="Europe/Copenhagen", description="Time zone times are shown in.")
    default_language: str = Field(
        default="da",
        description="Language for new people: a catalog in bot/locale (da, en, uk, ar).",
    )
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
    late_withdrawal_hours: float = Field(
        default=48,
        ge=0,
        description="A task let go this close to the event tells the coordinator and asks again.",
    )
    missing_hands_hours: float = Field(
        default=48,
        gt=0,
        description="How long before an event those coming are asked for the hands still missing.",
    )
    missing_hands_audience_hours: float = Field(
        default=24,
        gt=0,
        description=(
            "How long before an event the others invited are asked for the hands still "
            "missing (after those coming were asked; never those who said no)."
        ),
    )
    check_in_opens_minutes: float = Field(
        default=60,
        gt=0,
        description="How long before an event's start checking in opens (I'm here, the QR code).",
    )
    check_in_closes_minutes: float = Field(
        default=0,
        ge=0,
        description="How long after an event's end checking in stays open (0: until the end).",
    )
    series_invite_lead_days: float = Field(
        default=7,
        gt=0,
        description="How long before each meeting of a series its invitations go out.",
    )
    initiative_pushes_per_day: int = Field(
        default=1, ge=0, description="How many initiatives one citizen may push to others a day."
    )
    consent_version: str = Field(
        default="2026-11", min_length=1, description="Version of the consent text people accept."
    )
    privacy_notice_path: Path | None = Field(
        default=None,
        description="The privacy notice the municipality fills in (TOML, see "
        "deploy/privacy.example.toml); its version replaces TMM_CONSENT_VERSION.",
    )
    retention_feedback_months: float = Field(
        default=24,
        gt=0,
        description="Written feedback words, photos and voice notes are deleted after this "
        "many months.",
    )
    retention_rsvp_months: float = Field(
        default=12,
        gt=0,
        description="Answers to events that are over lose the person's name after this many "
        "months.",
    )
    retention_check_in_months: float = Field(
        default=12,
        gt=0,
        description="Check-ins at events that are over lose the person's name after this many "
        "months (how many came stays).",
    )
    retention_organiser_log_months: float = Field(
        default=12,
        gt=0,
        description="What co-organisers did on an event (the creator's log) is deleted after "
        "this many months.",
    )
    retention_inactive_months: float = Field(
        default=24,
        gt=0,
        description="People who have not written for this many months are asked once whether "
        "to stay; without an answer everything about them is deleted, as by /forget.",
    )
    retention_stay_days: float = Field(
        default=30,
        gt=0,
        description="How long an answer to that question is waited for.",
    )
    retention_payload_days: float = Field(
        default=30,
        gt=0,
        description="The text of a sent message is deleted this many days after it was sent "
        "(its key, status and time stay).",
    )
    invite_code_days: float = Field(
        default=7, gt=0, description="How long a coordinator invite code stays valid."
    )
    telegram_bot_username: str | None = Field(
        default=None,
        description="The bot's Telegram username (without @), for t.me deep links and QR codes.",
    )
    feedback_delay_minutes: float = Field(
        default=60, ge=0, description="How long after an event ends people are asked how it was."
    )
    feedback_days: float = Field(
        default=14, gt=0, description="How many days after an event feedback can be given."
    )
    feedback_reminder_hours: float = Field(
        default=48, gt=0, description="Feedback left half-way gets one reminder after this long."
    )
    feedback_ask_why_after_good: bool = Field(
        default=False, description="Also ask what was good after a good step, not only after a bad."
    )
    snap_days: float = Field(
        default=3, ge=0, description="How many days after an event photos can go to its log."
    )
    media_path: Path = Field(
        default=Path("data/media"), description="Folder where photos and voice notes are kept."
    )
    snap_max_mb: float = Field(
        default=20, gt=0, description="Largest photo or voice note kept, in megabytes."
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    console: bool = Field(
        default=False, description="Also chat in this terminal when running `python -m bot run`."
    )
    telegram_token: SecretStr | None = Field(
        default=None, description="Bot token from @BotFather; when set, `run` starts Telegram."
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org",
        description="Bot API server root (a self-hosted Bot API server, or an emulator).",
    )
    telegram_webhook_url: str | None = Field(
        default=None,
        description="Public HTTPS URL Telegram posts updates to; unset means long polling.",
    )
    telegram_webhook_listen: str = Field(
        default="127.0.0.1", description="Address the webhook server listens on."
    )
    telegram_webhook_port: int = Field(
        default=8443, ge=0, le=65535, description="Port the webhook server listens on."
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (A-Z a-z 0-9 _ -); "
        "required with a webhook URL.",
    )
    telegram_poll_timeout: float = Field(
        default=30, ge=0, le=50, description="Long-polling timeout for getUpdates, in seconds."
    )
    telegram_request_timeout: float = Field(
        default=10, gt=0, description="Read timeout for Bot API requests, in seconds."
    )

    matrix_homeserver: str | None = Field(
        default=None, description="Matrix homeserver URL, e.g. https://matrix.example.org."
    )
    matrix_user_id: str | None = Field(
        default=None, description="The bot's Matrix account, e.g. @taelmigmed:example.org."
    )
    matrix_password: SecretStr | None = Field(
        default=None,
        description="Password for the first login only; the token and device are kept after.",
    )
    matrix_store_path: Path = Field(
        default=Path("data/matrix"),
        description="Folder for the Matrix login, sync token and encryption keys (keep private).",
    )
    matrix_store_key: SecretStr | None = Field(
        default=None,
        description=(
            "Passphrase that encrypts the Matrix encryption keys kept on disk. Set it before "
            "the first start: a store made with another passphrase cannot be opened."
        ),
    )
    matrix_device_name: str = Field(
        default="Tæl mig med", description="Device name the bot's Matrix login shows."
    )
    matrix_rooms: IdentityList = Field(
        default_factory=list,
        description="Comma-separated community rooms (ids or #aliases) the bot joins on Matrix.",
    )
    matrix_send_interval_ms: int = Field(
        default=0,
        ge=0,
        description=(
            "Least time between two messages the bot sends on Matrix (0: as fast as the "
            "homeserver allows; after a 429 the bot goes at the pace the homeserver asks for)."
        ),
    )
    matrix_max_retries: int = Field(
        default=3, ge=0, description="How often a Matrix request is retried after 429 or timeout."
    )
    matrix_sync_timeout_ms: int = Field(
        default=30_000, ge=0, description="Long-poll time of one Matrix sync request."
    )

    @property
    def matrix_configured(self) -> bool:
        return bool(self.matrix_homeserver and self.matrix_user_id)

    @model_validator(mode="after")
    def _matrix_complete(self) -> Settings:
        if bool(self.matrix_homeserver) != bool(self.matrix_user_id):
            raise ValueError("set both TMM_MATRIX_HOMESERVER and TMM_MATRIX_USER_ID, or neither")
        return self

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        # Without the secret anyone who finds the URL could post forged updates.
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            raise ValueError(
                "TMM_TELEGRAM_WEBHOOK_URL needs TMM_TELEGRAM_WEBHOOK_SECRET: set a long random "
                "secret (A-Z a-z 0-9 _ -), e.g. the output of `openssl rand -hex 32`"
            )
        return self

    @field_validator("matrix_rooms", mode="before")
    @classmethod
    def _split_rooms(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("matrix_user_id")
    @classmethod
    def _matrix_user(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("@") or ":" not in value):
            raise ValueError("should look like @name:example.org")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_database(cls, value: str) -> str:
        # The URL may hold a password, so it is not repeated in the message.
        try:
            driver = make_url(value).drivername
        except ArgumentError:
            driver = None
        if driver not in DATABASE_DRIVERS:
            raise ValueError(
                "must be a URL starting with sqlite+aiosqlite:/// or postgresql+asyncpg://"
            )
        return value

    http_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Port of the operator's HTTP listener with GET /healthz and GET /metrics "
        "(Prometheus); unset: no listener.",
    )
    http_listen: str = Field(
        default="127.0.0.1", description="Address the /healthz and /metrics listener binds to."
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
        default=1000, ge=1, description="Matrix: most messages in any one second, all rooms."
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
    lease_seconds: float = Field(
        default=15.0,
        ge=1,
        le=300,
        description="PostgreSQL, several processes: how long a process's lease lasts without "
        "renewal (renewed every third of it); a dead process's messages and jobs are taken "
        "over after it.",
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

    @field_validator(
        "telegram_token",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "privacy_notice_path",
        "http_port",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("telegram_api_base_url", "telegram_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("use 1 to 256 of the characters A-Z, a-z, 0-9, _ and -")
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

    def feedback_options(self) -> FeedbackOptions:
        return FeedbackOptions(
            delay=timedelta(minutes=self.feedback_delay_minutes),
            window=timedelta(days=self.feedback_days),
            reminder_after=timedelta(hours=self.feedback_reminder_hours),
            ask_why_after_good=self.feedback_ask_why_after_good,
            snap_days=timedelta(days=self.snap_days),
            media_path=self.media_path,
            max_snap_bytes=int(self.snap_max_mb * 1024 * 1024),
        )

    def retention_policy(self) -> RetentionPolicy:
        return RetentionPolicy(
            feedback_months=self.retention_feedback_months,
            rsvp_months=self.retention_rsvp_months,
            check_in_months=self.retention_check_in_months,
            organiser_log_months=self.retention_organiser_log_months,
            payload_days=self.retention_payload_days,
            inactive_months=self.retention_inactive_months,
            stay_days=self.retention_stay_days,
        )

    @property
    def missing_hands_leads(self) -> HandsLeads:
        return HandsLeads(
            coming=timedelta(hours=self.missing_hands_hours),
            audience=timedelta(hours=self.missing_hands_audience_hours),
        )

    @property
    def series_invite_lead(self) -> timedelta:
        return timedelta(days=self.series_invite_lead_days)

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
            if not error["loc"]:  # a rule across settings names them itself
                problems.append(str(error["msg"]).removeprefix("Value error, "))
                continue
            name = ENV_PREFIX + "_".join(str(part) for part in error["loc"]).upper()
            problems.append(f"{name}: {error['msg']}")
        raise ConfigurationError("; ".join(problems)) from None
