"""Keeps secrets (the bot token, passwords) out of every log line, tracebacks included.

The Bot API puts the token in every request URL, so a failed request's exception (and
its cause) can carry it; redacting only the log message is not enough. A Matrix access
token is learnt only at login, and nio logs the login response (`nio.responses` at DEBUG)
before the bot sees it, so anything shaped like an access token is redacted by its shape
too: a JSON or dict key, a query parameter, a bearer header.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from bot.settings import Settings

REPLACEMENT = "<secret>"
TOKEN_SHAPES = (
    # "access_token": "…" (JSON), 'access_token': '…' (a dict's repr), access_token=… (a URL)
    re.compile(r"""(?P<keep>['"]?(?:access|refresh)_token['"]?\s*[:=]\s*['"]?)[^'"&\s,}]+"""),
    re.compile(r"(?P<keep>Bearer\s+)[^\s'\",}]+", re.IGNORECASE),
)
_installed: list[RedactSecrets] = []


class RedactSecrets(logging.Filter):
    """Replaces each secret in a record's message, formatted traceback and stack."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # longest first, so a secret containing another is replaced whole
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REPLACEMENT)
        for shape in TOKEN_SHAPES:
            text = shape.sub(lambda match: match["keep"] + REPLACEMENT, text)
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
    redact = RedactSecrets(secrets_of(settings))
    _installed.append(redact)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


def also_redact(secret: str) -> None:
    """A secret learnt while running (the Matrix access token) is redacted from now on."""
    for redact in _installed:
        redact.add(secret)
