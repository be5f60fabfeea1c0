"""The privacy notice the municipality edits: a TOML file (`TMM_PRIVACY_NOTICE_PATH`),
read once at start; `deploy/privacy.example.toml` is the template.

The chat platforms the bot runs on are processors whatever the file says (they carry every
message), so they are added here from the settings. Without a file the notice says what is
missing, and its version is `TMM_CONSENT_VERSION`. How long things are kept comes from the
TMM_RETENTION_* settings unless the file says it in its own words.
"""

from __future__ import annotations

import tomllib
from urllib.parse import urlsplit

from pydantic import ValidationError

from bot.i18n import LANGUAGES, catalogs
from bot.settings import ConfigurationError, Settings
from conversations.people.privacy_notice import PrivacyNotice, Processor
from conversations.people.retention import retention_lines

TELEGRAM = Processor(
    name="Telegram (Telegram FZ-LLC)",
    does={
        "da": "bringer alle beskeder mellem dig og mig frem, via Telegrams servere uden for EU",
        "en": "carries every message between you and me, through Telegram's servers outside the EU",
    },
)


def matrix_processor(homeserver: str) -> Processor:
    host = urlsplit(homeserver).hostname or homeserver
    return Processor(
        name=f"Matrix ({host})",
        da=f"serveren {host} bringer alle beskeder mellem dig og mig frem og gemmer dem",
        en=f"the server {host} carries every message between you and me and keeps them",
    )


def load_privacy_notice(settings: Settings) -> PrivacyNotice:
    """The notice as configured, or a ConfigurationError with one line saying what is wrong."""
    path = settings.privacy_notice_path
    fields: dict[str, object] = {"version": settings.consent_version}
    if path is not None:
        try:
            fields = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(
                f"TMM_PRIVACY_NOTICE_PATH: cannot read {path} ({exc.strerror})"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(
                f"TMM_PRIVACY_NOTICE_PATH: {path} is not TOML ({exc})"
            ) from None
    try:
        notice = PrivacyNotice.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'file'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"TMM_PRIVACY_NOTICE_PATH: {path}: {problems}") from None
    platforms = []
    if settings.telegram_token is not None:
        platforms.append(TELEGRAM)
    if settings.matrix_homeserver:
        platforms.append(matrix_processor(settings.matrix_homeserver))
    retention = notice.retention or {
        language: retention_lines(settings.retention_policy(), catalogs().get(language))
        for language in LANGUAGES
    }
    return notice.model_copy(
        update={"processors": [*platforms, *notice.processors], "retention": retention}
    )
