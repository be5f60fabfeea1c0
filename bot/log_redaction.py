"""Keeps secrets (the bot token, passwords) out of every log line, tracebacks included.

The Bot API puts the token in every request URL, so a failed request's exception (and
its cause) can carry it; redacting only the log message is not enough.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from bot.settings import Settings

REPLACEMENT = "<secret>"


class RedactSecrets(logging.Filter):
    """Replaces each secret in a record's message, formatted traceback and stack."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # longest first, so a secret containing another is replaced whole
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REPLACEMENT)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatters use `exc_text` when it is set, so the traceback is formatted once,
            # here, and every handler after this one writes the redacted text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def secrets_of(settings: Settings) -> list[str]:
    secrets = [
        secret.get_secret_value()
        for secret in (
            settings.telegram_token,
            settings.telegram_webhook_secret,
            settings.matrix_password,
        )
        if secret is not None
    ]
    database_password = make_url(settings.database_url).password
    if database_password:
        secrets.append(str(database_password))
    return secrets


def keep_secrets_out_of_logs(settings: Settings) -> None:
    """Install the redaction on the root logger's handlers (after logging is configured)."""
    # httpx logs every request URL at INFO, and Bot API URLs contain the token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    secrets = secrets_of(settings)
    if secrets:
        redact = RedactSecrets(secrets)
        for handler in logging.getLogger().handlers:
            handler.addFilter(redact)
