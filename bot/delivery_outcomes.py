"""What one try of an outbox row comes to, and what that means for the row.

The delivery worker (bot/delivery.py) sends; this module holds its rules: the policy
(tries, backoff, concurrency), the outcome a transport's answer or error means (`try_send`),
and writing outcomes to the outbox (`OutcomeRecorder`), and the type of the hook that redraws
claimed rows (`DrawAtSend`). The error rules are in the worker's
module docstring.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from bot.metrics import SEND_OUTCOMES
from bot.settings import Settings
from bot.transports.base import (
    AmbiguousDelivery,
    DeliveryError,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
    TemporaryFailure,
    Transport,
)
from conversations.core.messages import INSTEAD, ChatRef, OutMessage
from storage.clock import Clock
from storage.models import OutboxStatus
from storage.repositories.outbox import ClaimedMessage
from storage.unit_of_work import UnitOfWork

# Rows just claimed, drawn again in the claiming transaction (an invitation's current card);
# it writes what it changes to the rows, so what is recorded is what goes out.
DrawAtSend = Callable[[UnitOfWork, list[ClaimedMessage]], Awaitable[list[ClaimedMessage]]]

log = logging.getLogger(__name__)

MAX_ERROR = 500  # characters of an error kept on the row


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 10.0
    backoff_max_seconds: float = 900.0
    max_retry_after: int = 20
    concurrency: int = 8
    batch_size: int = 50
    poll_seconds: float = 1.0
    progress_seconds: float = 5.0

    def backoff(self, attempts: int, rng: random.Random) -> float:
        """Wait before try number `attempts + 1`: doubling, capped, with jitter (50-100 %)."""
        delay = min(self.backoff_max_seconds, self.backoff_seconds * 2.0 ** max(0, attempts - 1))
        return delay * rng.uniform(0.5, 1.0)


def policy_from(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        max_attempts=settings.delivery_max_attempts,
        backoff_seconds=settings.delivery_backoff_seconds,
        backoff_max_seconds=settings.delivery_backoff_max_seconds,
        max_retry_after=settings.delivery_max_retry_after,
        concurrency=settings.delivery_concurrency,
        batch_size=settings.delivery_batch_size,
        poll_seconds=settings.delivery_poll_seconds,
        progress_seconds=settings.delivery_progress_seconds,
    )


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # a passing failure: try again after a backoff
    POSTPONED = "postponed"  # the platform said retry_after
    FAILED = "failed"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class TryResult:
    outcome: Outcome
    error: str | None = None
    message_id: str | None = None
    retry_after: float = 0.0


@dataclass
class DeliveryStats:
    """What a worker did since it started (outcomes of tries, not final states)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    recovered_unknown: int = 0

    def __getitem__(self, key: str) -> int:
        return self.outcomes[key]


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR]


async def try_send(
    transport: Transport, ref: ChatRef, message: OutMessage, *, edit_of: str | None = None
) -> TryResult:
    """Send once (or, with `edit_of`, put it in place of that message, keeping its buttons'
    stored question); whatever goes wrong becomes the outcome it means."""
    try:
        if edit_of is not None:
            await transport.edit(ref, edit_of, message)
            return TryResult(Outcome.SENT, message_id=edit_of)
        sent = await transport.send(ref, message)
    except RetryLater as exc:  # the platform is paused already (bot/transports/pacing.py)
        return TryResult(Outcome.POSTPONED, describe(exc), retry_after=exc.seconds)
    except RecipientBlocked as exc:
        return TryResult(Outcome.BLOCKED, describe(exc))
    except PermanentFailure as exc:
        return TryResult(Outcome.FAILED, describe(exc))
    except AmbiguousDelivery as exc:
        return TryResult(Outcome.UNKNOWN, describe(exc))
    except (TemporaryFailure, DeliveryError) as exc:
        return TryResult(Outcome.RETRY, describe(exc))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # whatever it was, the message may have gone out
        log.exception("%s: unexpected error sending to %s", ref.platform, ref)
        return TryResult(Outcome.UNKNOWN, describe(exc))
    return TryResult(Outcome.SENT, message_id=sent.message_id)


Tried = tuple[ClaimedMessage, OutMessage | None, TryResult]


class OutcomeRecorder:
    """Writes the outcomes of tries to their rows (and marks people who blocked the bot)."""

    def __init__(
        self, platform: str, clock: Clock, policy: DeliveryPolicy, rng: random.Random
    ) -> None:
        self._platform = platform
        self._clock = clock
        self._policy = policy
        self._rng = rng

    async def record_all(self, uow: UnitOfWork, results: list[Tried]) -> list[Outcome]:
        """Write outcomes; the common one, sent, in one statement for all."""
        sent = [(m, out, r) for m, out, r in results if r.outcome is Outcome.SENT]
        await uow.delivery.mark_many_sent(
            [(m.id, r.message_id) for m, _out, r in sent], self._clock.now()
        )
        await uow.prompts.set_message_ids(
            [
                (out.prompt_id, r.message_id)
                for _m, out, r in sent
                if out is not None and out.prompt_id and r.message_id
            ]
        )
        for message, out, _result in sent:
            if out is not None and out.attachment is not None:
                # the file went out; keeping a copy of it (a /mydata file, a report) in the
                # outbox would only keep personal data longer than needed
                await uow.delivery.drop_attachment(message.id, message.payload)
        outcomes = [Outcome.SENT] * len(sent)
        for message, out, result in results:
            if result.outcome is not Outcome.SENT:
                outcomes.append(await self.record(uow, message, out, result))
        for outcome in outcomes:
            SEND_OUTCOMES.labels(platform=self._platform, outcome=str(outcome.value)).inc()
        return outcomes

    async def record(
        self, uow: UnitOfWork, message: ClaimedMessage, out: OutMessage | None, result: TryResult
    ) -> Outcome:
        now = self._clock.now()
        outcome = result.outcome
        outbox = uow.delivery
        if outcome is Outcome.SENT:
            await outbox.mark_sent(message.id, sent_at=now, platform_message_id=result.message_id)
            if out is not None and out.prompt_id and result.message_id:
                await uow.prompts.set_message_id(out.prompt_id, result.message_id)
        elif outcome is Outcome.BLOCKED:
            await outbox.mark_final(message.id, OutboxStatus.BLOCKED, result.error)
            identity = await uow.persons.find_identity(self._platform, message.user_id)
            if identity is not None and identity.blocked_at is None:
                identity.blocked_at = now
        elif outcome is Outcome.RETRY:
            if message.attempts >= self._policy.max_attempts:
                outcome = Outcome.FAILED
                await outbox.mark_final(message.id, OutboxStatus.FAILED, result.error)
            else:
                wait = self._policy.backoff(message.attempts, self._rng)
                await outbox.retry_at(message.id, now + timedelta(seconds=wait), result.error or "")
        elif outcome is Outcome.POSTPONED:
            deferrals = message.deferrals + 1
            if deferrals > self._policy.max_retry_after:
                outcome = Outcome.FAILED
                error = f"the platform kept asking to wait ({result.error})"
                await outbox.mark_final(message.id, OutboxStatus.FAILED, error)
            else:
                await outbox.retry_at(
                    message.id,
                    now + timedelta(seconds=result.retry_after),
                    result.error or "",
                    attempts=message.attempts - 1,  # being told to wait is not a failure
                    deferrals=deferrals,
                    keep_place=True,
                )
        else:  # FAILED, UNKNOWN
            await outbox.mark_final(message.id, outcome.value, result.error)
        if outcome is Outcome.FAILED and INSTEAD in message.payload:
            # an edit the platform refused (too old, deleted): its short notice goes instead
            await uow.outbox.send_instead(message.id, INSTEAD)
        return outcome
