"""Media people send: what a transport that can fetch their bytes offers, and the size cap."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class MediaFetcher(Protocol):
    """Gets a file's bytes from the platform it was sent on."""

    async def fetch(self, file_ref: str) -> bytes: ...


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit
