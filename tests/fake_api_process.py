"""The fake Bot API in a process of its own (tests/fake_api_server.py), for measuring the
wire: in the bot's own process its arrival stamps would wait for the bot's event loop, so a
busy loop would look like bunched arrivals at the platform."""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.request
from collections import defaultdict
from types import TracebackType

from tests.fake_api_wire import Arrival, Wire


class FakeAPIProcess:
    def __init__(
        self,
        *,
        flood: int | None,
        latency_ms: tuple[float, float] | None,
        seed: int = 0,
        realtime: bool = False,
    ) -> None:
        """`realtime`: ask for real-time scheduling (tests/fake_api_server.py says why);
        `scheduling` then says whether it was granted."""
        self._args = ["--seed", str(seed)] + (["--realtime"] if realtime else [])
        self.scheduling = "shared"
        if flood:
            self._args += ["--flood", str(flood)]
        if latency_ms:
            self._args += ["--latency-ms", str(latency_ms[0]), str(latency_ms[1])]
        self._process: asyncio.subprocess.Process | None = None
        self.url = ""

    async def __aenter__(self) -> FakeAPIProcess:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.fake_api_server", *self._args,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), 60)
        words = line.decode().split()
        if not words:
            raise RuntimeError("the fake Bot API did not start")
        self.url = words[0]
        self.scheduling = words[1] if len(words) > 1 else "shared"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def _get(self, path: str) -> object:
        def get() -> object:
            with urllib.request.urlopen(f"{self.url}/_control/{path}", timeout=60) as answer:
                return json.loads(answer.read())

        return await asyncio.to_thread(get)

    async def arrived(self) -> int:
        """How many messages have arrived so far."""
        count = await self._get("arrived")
        assert isinstance(count, int)
        return count

    async def requests(self) -> dict[str, int]:
        """How many requests have come of each method (`setWebhook`, `sendMessage`, ...)."""
        counts = await self._get("requests")
        assert isinstance(counts, dict)
        return {str(method): int(n) for method, n in counts.items()}

    async def chats(self) -> set[str]:
        """The chats that have got at least one message."""
        chats = await self._get("chats")
        assert isinstance(chats, list)
        return {str(chat) for chat in chats}

    async def wire(self) -> Wire:
        """The fake's record of arrivals and refusals, as a `Wire`."""
        record = await self._get("wire")
        assert isinstance(record, dict)
        wire = Wire()
        wire.arrived = defaultdict(list)
        for chat, items in record["arrived"].items():
            wire.arrived[chat] = [Arrival(at, method, text) for at, method, text in items]
        wire.refused = defaultdict(list, record["refused"])
        return wire
