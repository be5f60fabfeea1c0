"""What a Bot API failure means for the sender, as the delivery errors of
`bot.transports.base`."""

from __future__ import annotations

import logging
import os
import warnings
from datetime import timedelta

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.transports.base import (
    AmbiguousDelivery,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
    TemporaryFailure,
)

# RetryAfter.retry_after as a timedelta (PTB 22.2+ warns about the old int otherwise)
os.environ.setdefault("PTB_TIMEDELTA", "1")

log = logging.getLogger(__name__)


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def map_error(exc: TelegramError, what: str) -> Exception:
    """The delivery error a Bot API failure means for the sender."""
    if isinstance(exc, RetryAfter):
        return RetryLater(retry_seconds(exc), str(exc))
    if isinstance(exc, Forbidden):
        return RecipientBlocked(str(exc))
    if isinstance(exc, BadRequest):
        log.error("Telegram refused %s: %s", what, exc)
        return PermanentFailure(str(exc))
    cause = exc.__cause__
    if isinstance(exc, TimedOut):
        if isinstance(cause, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return TemporaryFailure(str(exc))  # the request never left
        return AmbiguousDelivery(str(exc))
    if isinstance(exc, NetworkError):
        if isinstance(cause, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            # sent, but the answer was lost: Telegram may well have delivered it
            return AmbiguousDelivery(str(exc))
        return TemporaryFailure(str(exc))
    if isinstance(exc, (ChatMigrated, InvalidToken)):
        log.error("Telegram refused %s: %s", what, exc)
        return PermanentFailure(str(exc))
    return TemporaryFailure(str(exc))
