"""Which of a batch of due outbox rows go now, which are closed unsent, and which wait.

Used by the outbox worker (bot/delivery.py) on each batch it reads, inside the transaction
that then claims the chosen rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.rate_limit import RateLimiter
from storage.models import OutboxStatus
from storage.repositories.outbox import DueMessage

SAME_CHAT_PAUSE = 0.2  # seconds; a chat with a message on the way waits its turn

Closes = list[tuple[DueMessage, str, str]]
Postpones = list[tuple[int, datetime]]


def sort_due(
    due: list[DueMessage], now: datetime, slots: int, busy: set[str], limiter: RateLimiter
) -> tuple[Closes, Postpones, list[DueMessage]]:
    """`busy`: chats with a message on its way; `slots`: how many may be chosen."""
    closes: Closes = []
    postpones: Postpones = []
    chosen: list[DueMessage] = []
    busy = set(busy)
    for message in due:
        if message.expires_at is not None and message.expires_at <= now:
            closes.append((message, OutboxStatus.EXPIRED, "too late to send"))
        elif message.person_stopped:
            closes.append((message, OutboxStatus.CANCELLED, "the person stopped the bot"))
        elif message.blocked:
            closes.append((message, OutboxStatus.BLOCKED, "the person blocked the bot"))
        elif message.chat_id in busy:
            # One message at a time per chat, in order: look again once the one on its
            # way has gone (its chat's window then says how long the next must wait).
            wait = max(limiter.chat_delay(message.chat_id), SAME_CHAT_PAUSE)
            postpones.append((message.id, now + timedelta(seconds=wait)))
        elif (wait := limiter.chat_delay(message.chat_id)) > 0:
            # at least a millisecond: a wait of a rounding error (1e-16 s) would be no
            # postponement at all, and the row would come straight back, forever
            postpones.append((message.id, now + timedelta(seconds=max(wait, 0.001))))
            busy.add(message.chat_id)
        elif len(chosen) < slots:
            chosen.append(message)
            busy.add(message.chat_id)
    return closes, postpones, chosen
