"""Helpers for the Telegram end-to-end tests: the emulator process, a person on it, the bot.

`Emulator` starts `tests/telegram_emulator/launch.mjs` (telegram-test-api 4.2.1, patched) on
127.0.0.1 and reads the port it bound. `Person` acts as one Telegram user through the
emulator's client routes (messages, commands, button presses) and reads what the bot did.
`RunningBot` runs a `BotApp` with the real `TelegramTransport` in the test's event loop and
counts finished updates, so a test waits for the bot to finish instead of sleeping.

Later flows (invitation broadcast, reminders, journey feedback) only need more `Person`
actions and reads: `person.tap("yes")`, `person.messages()`, `bot.app.clock.advance(...)`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.app import BotApp
from bot.settings import Settings
from bot.transports.telegram import TelegramTransport, WebhookConfig
from conversations.core.messages import Inbound
from storage.clock import Clock

EMULATOR_DIR = Path(__file__).parent / "telegram_emulator"
DEADLINE = 20.0  # seconds a test waits for the bot before failing (never a timed assertion)
_tokens = itertools.count(1)


def new_token() -> str:
    """A syntactically valid, obviously fake bot token; each test gets its own bot."""
    return f"{100000 + next(_tokens)}:TEST{os.getpid()}xxxxxxxxxxxxxxxxxxxxxxxxxx"


class Emulator:
    """The emulator in a subprocess; fails loudly if node or the npm package is missing."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed; the Telegram e2e tests need Node.js")
        if not (EMULATOR_DIR / "node_modules" / "telegram-test-api").is_dir():
            raise RuntimeError(
                "telegram-test-api is not installed; run `make install` "
                "(npm ci --prefix tests/telegram_emulator)"
            )
        self.process = subprocess.Popen(
            [node, "launch.mjs"],
            cwd=EMULATOR_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # blocks until the launcher prints its port
        if not line.startswith("PORT "):
            self.process.kill()
            _, err = self.process.communicate(timeout=5)
            raise RuntimeError(f"the Telegram emulator did not start: {line!r} {err[-2000:]}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@dataclass
class BotMessage:
    message_id: int
    text: str | None
    buttons: list[tuple[str, str]]  # (label, callback_data)
    raw: dict[str, Any]

    @property
    def document(self) -> dict[str, Any] | None:
        document: dict[str, Any] | None = self.raw.get("document")
        return document

    def document_bytes(self) -> bytes:
        assert self.document is not None, "not a document"
        return base64.b64decode(self.document["content_base64"])


def _message(raw: dict[str, Any]) -> BotMessage:
    markup = raw.get("reply_markup") or {}
    buttons = [
        (button["text"], button.get("callback_data", ""))
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]
    return BotMessage(int(raw["message_id"]), raw.get("text") or raw.get("caption"), buttons, raw)


_HTTP: dict[int, httpx.AsyncClient] = {}


def http() -> httpx.AsyncClient:
    """One plain-HTTP client per event loop (making one costs more than a request)."""
    loop = id(asyncio.get_running_loop())
    client = _HTTP.get(loop)
    if client is None or client.is_closed:
        _HTTP.clear()
        client = _HTTP[loop] = httpx.AsyncClient(verify=False, timeout=DEADLINE)
    return client


class EmulatorState:
    def __init__(self, url: str, token: str) -> None:
        self._url = url
        self.token = token

    async def read(self) -> dict[str, Any]:
        response = await http().post(f"{self._url}/_test/state", json={"token": self.token})
        result: dict[str, Any] = response.json()["result"]
        return result


class RunningBot:
    """A BotApp with the real Telegram transport, run as a task in the test's loop."""

    def __init__(
        self,
        settings: Settings,
        emulator_url: str,
        token: str,
        *,
        clock: Clock | None = None,
        webhook: WebhookConfig | None = None,
    ) -> None:
        from bot.composition import build_command_menu
        from bot.i18n import catalogs

        self.token = token
        self.transport = TelegramTransport(
            token,
            api_base_url=emulator_url,
            webhook=webhook,
            poll_timeout=10,
            menu=build_command_menu(),
            translations=catalogs(),
        )
        self.app = BotApp(settings, [self.transport], clock=clock)
        self.handled = 0
        self._changed = asyncio.Condition()
        dispatch = self.app.dispatch

        async def counting(inbound: Inbound) -> None:
            try:
                await dispatch(inbound)
            finally:
                async with self._changed:
                    self.handled += 1
                    self._changed.notify_all()

        self.app.dispatch = counting  # type: ignore[method-assign]
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from bot.demo import seed_starter_topics

        await self.app.migrate()
        await seed_starter_topics(self.app.uow)
        self.task = asyncio.create_task(self.app.run())
        await self.wait_until(lambda: self.transport.receiving, "the bot to start")

    async def wait_handled(self, count: int) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.handled >= count), DEADLINE)

    async def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not condition():
            if self.task is not None and self.task.done():
                self.task.result()
                raise AssertionError(f"the bot stopped while waiting for {what}")
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        await self.app.stop()
        if self.task is not None:
            await asyncio.wait_for(self.task, DEADLINE)


class Person:
    """One Telegram user in a private chat with the bot, acting through the emulator."""

    _ids = itertools.count(5000)

    def __init__(
        self,
        emulator_url: str,
        bot: RunningBot,
        first_name: str = "Anna",
        *,
        user_id: int | None = None,
        language_code: str = "da",
    ) -> None:
        self._url = emulator_url
        self.bot = bot
        self.user_id = user_id or next(self._ids)
        self.first_name = first_name
        self.language_code = language_code
        self.state = EmulatorState(emulator_url, bot.token)

    @property
    def chat_id(self) -> int:
        return self.user_id

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    def _chat(self) -> dict[str, Any]:
        return {"id": self.chat_id, "type": "private", "first_name": self.first_name}

    async def _post(self, route: str, body: dict[str, Any]) -> None:
        expected = self.bot.handled + 1
        response = await http().post(f"{self._url}{route}", json=body)
        response.raise_for_status()
        await self.bot.wait_handled(expected)

    def _base(self) -> dict[str, Any]:
        return {
            "botToken": self.bot.token,
            "from": self._user(),
            "chat": self._chat(),
            "date": int(time.time()),
        }

    async def say(self, text: str) -> list[BotMessage]:
        before = len(await self.messages())
        if text.startswith("/"):
            command = text.split(" ", 1)[0]
            entities = [{"offset": 0, "length": len(command), "type": "bot_command"}]
            await self._post("/sendCommand", {**self._base(), "text": text, "entities": entities})
        else:
            await self._post("/sendMessage", {**self._base(), "text": text})
        return (await self.messages())[before:]

    async def send(self, **content: Any) -> list[BotMessage]:
        """Send any message content: photo=[...], voice={...}, location={...}."""
        before = len(await self.messages())
        await self._post("/sendMessage", {**self._base(), **content})
        return (await self.messages())[before:]

    async def tap(self, choice: str) -> list[BotMessage]:
        """Press the button (by choice id or label) on the newest message that has buttons."""
        messages = await self.messages()
        question = next((m for m in reversed(messages) if m.buttons), None)
        assert question is not None, "the bot never showed me buttons"
        data = next(
            (
                d
                for label, d in question.buttons
                if d.split(":", 1)[1] == choice or label == choice or label.endswith(f" {choice}")
            ),
            None,
        )
        assert data is not None, f"no button {choice!r} in {question.buttons}"
        return await self.press(question, data)

    async def press(self, question: BotMessage, data: str) -> list[BotMessage]:
        before = len(await self.messages())
        message = {
            "message_id": question.message_id,
            "date": int(time.time()),
            "chat": self._chat(),
            "from": {"id": 666, "is_bot": True, "first_name": "Bot"},
            "text": question.text,
        }
        body = {**self._base(), "message": message, "data": data}
        body.pop("chat")
        await self._post("/sendCallback", body)
        return (await self.messages())[before:]

    async def messages(self) -> list[BotMessage]:
        """Everything the bot sent to me, as it looks now (edits applied)."""
        state = await self.state.read()
        return [
            _message(raw) for raw in state["messages"] if str(raw["chat_id"]) == str(self.chat_id)
        ]

    async def texts(self) -> list[str]:
        return [m.text or "" for m in await self.messages()]

    async def onboard(self, name: str = "Anna", language: str = "en") -> None:
        """/start to the end, by button presses and one typed answer (the name)."""
        await self.say("/start")
        await self.tap(language)
        await self.tap("yes")
        await self.say(name)
        while True:
            question = next(m for m in reversed(await self.messages()) if m.buttons)
            if question.buttons[-1][1].endswith(":done"):
                await self.tap("done")
                continue
            break
        await self.tap("no")  # citizens' initiatives
        await self.tap("none")


async def inject_update(emulator_url: str, token: str, update: dict[str, Any]) -> int:
    response = await http().post(
        f"{emulator_url}/_test/update", json={"token": token, "update": update}
    )
    return int(response.json()["result"])


async def set_blocked(emulator_url: str, token: str, chat_id: int, blocked: bool = True) -> None:
    await http().post(
        f"{emulator_url}/_test/block",
        json={"token": token, "chat_id": chat_id, "blocked": blocked},
    )


def loads(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


Waiter = Callable[[], Awaitable[None]]
