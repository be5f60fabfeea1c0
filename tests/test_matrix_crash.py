"""The bot as its own process on a real Synapse, killed (SIGKILL) in the middle of a
conversation: after each restart every message the person sent is answered, and no answer
comes twice. The sync token is saved only once a sync's events are handled, so what the bot
had not finished comes again; what it had finished is handled once (the inbox)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.matrix_people import Citizen
from tests.synapse import Synapse

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = (
    "Hvilket sprog skal jeg skrive på?",
    "Er det i orden med dig?",
    "Hvad vil du gerne kaldes?",
    "Vil du høre om borgernes egne initiativer",  # no topics set up: interests are skipped
)


class BotProcess:
    """`python -m bot run` on Matrix, as an operator would start it, and killed like a crash."""

    def __init__(self, synapse: Synapse, folder: Path, localpart: str = "crashbot") -> None:
        account = synapse.register(localpart)
        admin = synapse.register("admin", admin=True)
        synapse.override_ratelimit(admin, account.user_id)
        self.user_id = account.user_id
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TMM_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bot.db'}",
            "TMM_MATRIX_HOMESERVER": synapse.url,
            "TMM_MATRIX_USER_ID": account.user_id,
            "TMM_MATRIX_PASSWORD": account.password,
            "TMM_MATRIX_STORE_PATH": str(folder / "matrix-store"),
            "TMM_MATRIX_STORE_KEY": "crash test passphrase",
            "TMM_MATRIX_SEND_INTERVAL_MS": "0",
            "TMM_MATRIX_SYNC_TIMEOUT_MS": "500",
            "TMM_LOG_LEVEL": "INFO",
        }
        self.log = folder / "bot.log"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env, stdout=log, stderr=log
            )

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def kill(self) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError):
            self._process.send_signal(signal.SIGKILL)
        await self._process.wait()
        self._process = None

    async def signal(self, signum: signal.Signals, *, within: float) -> int:
        """Send `signum` and wait for the process to end (failing after `within` seconds, with
        the log); returns its exit code."""
        assert self._process is not None
        self._process.send_signal(signum)
        try:
            code = await asyncio.wait_for(self._process.wait(), within)
        except TimeoutError:
            raise AssertionError(
                f"still running {within}s after {signum.name}: {self.log.read_text()[-3000:]}"
            ) from None
        self._process = None
        return code

    async def stop(self) -> None:
        if self._process is not None:
            await self.kill()


@pytest.fixture
async def bot(synapse: Synapse, tmp_path: Path) -> AsyncIterator[BotProcess]:
    process = BotProcess(synapse, tmp_path)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def answered(citizen: Citizen, room: str, text: str) -> None:
    await citizen.wait_until(
        lambda: any(text in m.body for m in citizen.messages_in(room)), f"the bot to ask {text!r}"
    )


async def test_killed_mid_conversation_it_answers_everything_once(
    synapse: Synapse, bot: BotProcess, tmp_path: Path
) -> None:
    citizen = await Citizen.connect(synapse, "kira", tmp_path)
    try:
        room = await citizen.open_dm(bot.user_id, encrypted=False)
        await citizen.say(room, "/start")
        await answered(citizen, room, QUESTIONS[0])

        # killed the moment the answer is sent: the bot may not even have seen it
        await citizen.say(room, "1")
        await bot.kill()
        await bot.start()
        await answered(citizen, room, QUESTIONS[1])

        # killed while it answers (its reply to "ja" may be on its way)
        await citizen.say(room, "ja")
        await asyncio.sleep(0.3)
        await bot.kill()
        await bot.start()
        await answered(citizen, room, QUESTIONS[2])

        # killed after the answer was handled: nothing is asked twice on the restart
        await citizen.say(room, "Kira")
        await answered(citizen, room, QUESTIONS[3])
        await bot.kill()
        await bot.start()
        await citizen.say(room, "/hjaelp")
        await answered(citizen, room, "Det her kan jeg hjælpe med")

        asked = Counter(
            question
            for message in citizen.messages_in(room)
            for question in QUESTIONS
            if question in message.body
        )
        assert asked == dict.fromkeys(QUESTIONS, 1), (asked, bot.log.read_text()[-3000:])
    finally:
        await citizen.close()
