"""Media people send: what a transport that can fetch their bytes offers, the size cap, and
the word that an update kept media whose file is still to be fetched."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Protocol, runtime_checkable


@runtime_checkable
class MediaFetcher(Protocol):
    """Gets a file's bytes from the platform it was sent on; `TooLarge` when the platform
    stops reading at the size limit."""

    async def fetch(self, file_ref: str) -> bytes: ...


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


# Set while an update is handled, read by whoever handled it once it has committed: the
# file is fetched then, outside the transaction, and only updates that kept media need to
# wake the fetcher. A context variable because the flow that keeps the media and the app
# that commits are layers apart, in the same task.
_files_to_fetch: ContextVar[bool] = ContextVar("files_to_fetch", default=False)


def file_to_fetch() -> None:
    """Say that the update being handled kept media whose file is still to be fetched."""
    _files_to_fetch.set(True)


def take_files_to_fetch() -> bool:
    """Whether the update just handled (in this task) kept such media; asking resets it."""
    kept = _files_to_fetch.get()
    if kept:
        _files_to_fetch.set(False)
    return kept
