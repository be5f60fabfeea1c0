"""The contract every transport keeps, the delivery errors it may report, and the neutral
description of a command menu the app hands to transports that show one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from conversations.core.messages import ChatRef, ChoiceEcho, Inbound, OutMessage, Sent
from storage.models import Role

Dispatch = Callable[[Inbound], Awaitable[None]]

# The transaction id of the outbox row a delivery worker is sending, while it sends it. A
# transport whose platform drops a request it has seen with the same id (Matrix) gives it
# with every request of the row and says so with `deduplicates_sends = True`: the worker
# then sends a row interrupted on the wire again instead of calling it unknown.
SENDING_TRANSACTION: ContextVar[str | None] = ContextVar("sending_transaction", default=None)


@runtime_checkable
class KeepingIntake(Protocol):
    """What a transport is handed in `run` when the app keeps updates (bot/intake.py): a
    batch given to `receive` is safe once it returns, and only then may the transport tell
    its platform the updates arrived. It is also a `Dispatch` for one update at a time."""

    async def __call__(self, inbound: Inbound) -> None: ...

    async def receive(self, platform: str, inbounds: Sequence[Inbound]) -> None: ...

    async def finish(self) -> None:
        """Wait until every update in hand is handled."""
        ...


class Transport(Protocol):
    platform: str

    async def run(self, dispatch: Dispatch) -> None:
        """Receive updates and hand each to `dispatch` until stopped (or input ends)."""
        ...

    async def stop(self) -> None: ...

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent: ...

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        """Show on the answered prompt which choice was taken (may do nothing)."""
        ...

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        """Replace an earlier message's text (a progress line); may send anew instead."""
        ...


@dataclass(frozen=True, slots=True)
class MenuCommand:
    """One command of a platform's command menu, as the app describes it to a transport.

    `description` is untranslated (a catalog message id); the transport translates it.
    `roles`: who finds it in their menu. `local_names`: the name by language, where it is
    not `name` (Danish: `hjaelp` for `help`).
    """

    name: str
    description: str
    roles: frozenset[Role]
    local_names: Mapping[str, str] = field(default_factory=dict)

    def name_in(self, language: str) -> str:
        return self.local_names.get(language, self.name)


@runtime_checkable
class Closable(Protocol):
    """A transport that keeps a connection after `stop()` (so the replies to the updates in
    hand still go out), let go of in `close()` once nothing more is sent."""

    async def close(self) -> None: ...


@runtime_checkable
class RoleCommandMenus(Protocol):
    """A transport whose command menu can differ per person (Telegram, per private chat).

    The app decides who sees which menu (bot/command_menus.py); the transport only shows it.
    """

    platform: str

    async def show_commands(self, user_id: str, role: Role, language: str) -> None:
        """Give this person the command list of `role`, in `language`; a citizen gets the
        common list back. Raises a `DeliveryError` when the platform refuses."""
        ...

    def when_ready(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Await `callback` once the platform takes requests, before updates are handled."""
        ...


class TransportStopped(Exception):
    """A transport cannot go on (a wrong token, another process on the same account).

    The message is one line for a person to read; `python -m bot run` prints it and exits.
    """


class DeliveryError(Exception):
    """A message could not be delivered; the subclass says whether to try again."""


class RecipientBlocked(DeliveryError):
    """The person blocked the bot or left: never retry."""


class RetryLater(DeliveryError):
    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"retry after {seconds}s")
        self.seconds = seconds


class TemporaryFailure(DeliveryError):
    """The network or the server failed; trying again later may work."""


class PermanentFailure(DeliveryError):
    """The platform refused the message as such; sending it again will not help."""


class AmbiguousDelivery(DeliveryError):
    """It is unknown whether the message arrived (a timeout after sending)."""
