"""`/start <payload>` links: a prefix names the flow that opens, the rest is its argument.

`ev_12` opens event 12, `co_ABCDE-FGHIJ` redeems a coordinator code; a flow declares its
prefix (`Flow.link_prefix`). Payloads are limited to what Telegram allows (64 of A-Z a-z 0-9 _ -).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_PAYLOAD = re.compile(r"^([a-z]{1,8})_([A-Za-z0-9_-]{1,60})$")


@dataclass(frozen=True, slots=True)
class LinkTarget:
    flow: str
    args: str


class DeepLinks:
    def __init__(self, targets: Iterable[tuple[str, str]] = ()) -> None:
        """`targets`: (prefix, flow name) pairs."""
        self._flows: dict[str, str] = {}
        for prefix, flow in targets:
            self.register(prefix, flow)

    def register(self, prefix: str, flow: str) -> None:
        if prefix in self._flows:
            raise ValueError(f"deep link prefix {prefix!r} is taken by {self._flows[prefix]}")
        self._flows[prefix] = flow

    @property
    def targets(self) -> dict[str, str]:
        """prefix -> flow name"""
        return dict(self._flows)

    def resolve(self, payload: str) -> LinkTarget | None:
        match = _PAYLOAD.match(payload.strip())
        if match is None or match.group(1) not in self._flows:
            return None
        return LinkTarget(self._flows[match.group(1)], match.group(2))

    @staticmethod
    def make(prefix: str, value: str) -> str:
        return f"{prefix}_{value}"
