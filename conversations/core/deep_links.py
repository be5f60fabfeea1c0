"""`/start <payload>` links: a prefix names the flow that opens, the rest is its argument.

`ev_12` opens event 12, `co_ABCDE-FGHIJ` redeems a coordinator code; later flows register
their own prefixes. Payloads are limited to what Telegram allows (64 of A-Z a-z 0-9 _ -).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PAYLOAD = re.compile(r"^([a-z]{1,8})_([A-Za-z0-9_-]{1,60})$")


@dataclass(frozen=True, slots=True)
class LinkTarget:
    flow: str
    args: str


class DeepLinks:
    def __init__(self) -> None:
        self._flows: dict[str, str] = {}

    def register(self, prefix: str, flow: str) -> None:
        if prefix in self._flows:
            raise ValueError(f"deep link prefix {prefix!r} is taken by {self._flows[prefix]}")
        self._flows[prefix] = flow

    def resolve(self, payload: str) -> LinkTarget | None:
        match = _PAYLOAD.match(payload.strip())
        if match is None or match.group(1) not in self._flows:
            return None
        return LinkTarget(self._flows[match.group(1)], match.group(2))

    @staticmethod
    def make(prefix: str, value: str) -> str:
        return f"{prefix}_{value}"
