"""What a homeserver's error response means for the sender, as a delivery error."""

from __future__ import annotations

from typing import Any

from bot.transports.base import (
    DeliveryError,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
    TemporaryFailure,
)

DEFAULT_RETRY_AFTER_MS = 5000


def map_error(response: Any) -> DeliveryError:
    code = getattr(response, "status_code", None)
    message = str(response)
    status = getattr(getattr(response, "transport_response", None), "status", None)
    if code in ("M_LIMIT_EXCEEDED", 429) or status == 429:
        retry_after = getattr(response, "retry_after_ms", None) or DEFAULT_RETRY_AFTER_MS
        return RetryLater(retry_after / 1000, message)
    if code == "M_UNKNOWN_TOKEN" or status == 401:
        return TemporaryFailure(f"the bot's Matrix login is no longer valid: {message}")
    if code in ("M_FORBIDDEN", "M_NOT_FOUND") or status in (403, 404):
        return RecipientBlocked(message)
    if isinstance(status, int) and status >= 500:
        return TemporaryFailure(message)
    if isinstance(status, int) and 400 <= status < 500:
        return PermanentFailure(message)
    if code:
        return PermanentFailure(message)
    return TemporaryFailure(message)
