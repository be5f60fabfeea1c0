"""A project-owned fake Telegram Bot API server (aiohttp, 127.0.0.1) for fault tests and
benchmarks.

Unlike the emulator it is strict where Telegram is strict and can misbehave on purpose:

- limits: text ≤ 4096 and captions ≤ 1024 characters *after* HTML parsing, callback_data
  ≤ 64 bytes, only Telegram's HTML tags; Telegram's flood control (`flood=FloodControl()`:
  30 a second overall, 1 a second per private chat, 20 a minute per group, 429 with
  retry_after; `tests/fake_api_wire.py`), or the older simple limits per chat and overall;
- latency: `latency=(0.05, 0.15)` answers each request after a random time in that range
  (seeded with `seed`); the message has arrived when the request did, as on Telegram;
- faults, scripted per method: `fake.fail("sendMessage", Fault.RETRY_AFTER, retry_after=3)`,
  `Fault.FORBIDDEN`, `Fault.BAD_REQUEST`, `Fault.SERVER_ERROR` (500), `Fault.BAD_GATEWAY`
  (502), `Fault.SLOW` (answers after `delay` seconds), `Fault.DROP` (processes the request,
  then closes the connection without an answer), `Fault.CONFLICT` (409, for getUpdates);
- `fake.blocked` chat ids answer 403 like a person who blocked the bot;
- updates: `fake.push_update({...})` is handed out by long-polling getUpdates with offsets.

Everything the bot sent is in `fake.sent` (method, params), in order; every message that
arrived is in `fake.wire.arrived[chat_id]` with the time it arrived, and `on_arrival`
callbacks hear of each as it arrives. `python -m tests.fake_api_server` runs one on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

from tests.fake_api_wire import Arrival, FloodControl, Wire, is_group

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Fake", "username": "FakeBot"}
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "tg-emoji", "code", "pre", "blockquote",
}  # fmt: skip
SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "sendVenue"}
EDIT_METHODS = {"editMessageText", "editMessageCaption", "editMessageReplyMarkup"}


def message_update(
    message_id: int, user_id: int, text: str, first_name: str = "Test"
) -> dict[str, Any]:
    """An update with a private message, as Telegram sends it (a command with its entity)."""
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": first_name},
        "from": {"id": user_id, "is_bot": False, "first_name": first_name},
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split(" ", 1)[0])
        message["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
    return {"message": message}


class Fault(StrEnum):
    RETRY_AFTER = "429"
    FORBIDDEN = "403"
    BAD_REQUEST = "400"
    SERVER_ERROR = "500"
    BAD_GATEWAY = "502"
    CONFLICT = "409"
    SLOW = "slow"
    DROP = "drop"


@dataclass
class _Scripted:
    fault: Fault
    times: int
    retry_after: int = 1
    delay: float = 1.0


class EntityError(ValueError):
    pass


class _HTMLText(HTMLParser):
    """Telegram's HTML parse mode: the visible text, refusing unknown or unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise EntityError(f'Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise EntityError(f'Unmatched end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(text: str, parse_mode: str | None) -> str:
    if parse_mode != "HTML":
        return text
    if re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        raise EntityError("Unsupported HTML entity")
    parser = _HTMLText()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{parser.open[-1]}"')
    return html.unescape("".join(parser.parts))


class FakeBotAPI:
    def __init__(
        self,
        *,
        per_chat_per_second: float | None = None,
        overall_per_second: float | None = None,
        flood: FloodControl | None = None,
        latency: tuple[float, float] | None = None,
        seed: int = 0,
    ) -> None:
        """`latency`: every request is answered after a random pause in this range
        (seconds, seeded with `seed`), like a distant server (its flood limit counts the
        request on arrival). `flood`: Telegram's flood control (tests/fake_api_wire.py)."""
        self.latency = latency
        self.wire = Wire(flood=flood, latency=latency, seed=seed)
        self.on_arrival: list[Callable[[str, Arrival], None]] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.send_times: list[float] = []  # time.monotonic() of each message accepted
        self.flooded = 0  # 429s answered by the flood limit
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile and downloads
        self.requests: list[str] = []
        self.blocked: set[str] = set()
        self.per_chat_per_second = per_chat_per_second
        self.overall_per_second = overall_per_second
        self._faults: dict[str, deque[_Scripted]] = defaultdict(deque)
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._chat_times: dict[str, deque[float]] = defaultdict(deque)
        self._all_times: deque[float] = deque()
        self._messages: dict[tuple[str, int], dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- control ---------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        fault: Fault,
        *,
        times: int = 1,
        retry_after: int = 1,
        delay: float = 1.0,
    ) -> None:
        self._faults[method].append(_Scripted(fault, times, retry_after, delay))

    def push_update(self, update: dict[str, Any]) -> int:
        update_id = int(update.get("update_id") or next(self._update_ids))
        self._updates.append({**update, "update_id": update_id})
        self._new_update.set()
        return update_id

    def message_update(self, user_id: int, text: str, first_name: str = "Test") -> dict[str, Any]:
        return message_update(next(self._message_ids), user_id, text, first_name)

    def sent_messages(self) -> list[tuple[str, dict[str, Any]]]:
        """What `send_times` times: the messages sent (not edits), in order."""
        return [(m, p) for m, p in self.sent if m in SEND_METHODS]

    def sent_to(self, chat_id: int | str, method: str | None = None) -> list[dict[str, Any]]:
        return [
            params
            for name, params in self.sent
            if str(params.get("chat_id")) == str(chat_id) and (method is None or name == method)
        ]

    async def start(self, port: int = 0, extra: dict[str, web.Application] | None = None) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        for prefix, subapp in (extra or {}).items():
            app.add_subapp(prefix, subapp)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- serving ---------------------------------------------------------------------------

    @staticmethod
    def _error(code: int, description: str, **parameters: Any) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = {
                            "file_name": value.filename,
                            "mime_type": value.content_type,
                            "content": value.file.read(),
                        }
                    else:
                        params[key] = value
        for key, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "[{":
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = params.get(value.removeprefix("attach://"))
        return params

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.requests.append(method)
        try:
            params = await self._params(request)
        except ConnectionResetError:  # the sender died with its request half written
            self.wire.torn += 1
            return web.Response(status=400)  # nobody is there to read it
        response = await self._respond(request, method, params)
        await self.wire.answer_delay()  # counted on arrival, answered late
        return response

    async def _respond(
        self, request: web.Request, method: str, params: dict[str, Any]
    ) -> web.StreamResponse:
        scripted = self._faults.get(method)
        if scripted:
            fault = scripted[0]
            fault.times -= 1
            if fault.times <= 0:
                scripted.popleft()
            response = await self._fault(request, method, params, fault)
            if response is not None:
                return response
        return await self._answer(method, params)

    async def _fault(
        self, request: web.Request, method: str, params: dict[str, Any], fault: _Scripted
    ) -> web.StreamResponse | None:
        match fault.fault:
            case Fault.RETRY_AFTER:
                return self._error(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    retry_after=fault.retry_after,
                )
            case Fault.FORBIDDEN:
                return self._error(403, "Forbidden: bot was blocked by the user")
            case Fault.BAD_REQUEST:
                return self._error(400, "Bad Request: chat not found")
            case Fault.SERVER_ERROR:
                return self._error(500, "Internal Server Error")
            case Fault.BAD_GATEWAY:
                return self._error(502, "Bad Gateway")
            case Fault.CONFLICT:
                return self._error(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            case Fault.SLOW:
                await asyncio.sleep(fault.delay)
                return None
            case Fault.DROP:
                await self._answer(method, params)  # processed ...
                assert request.transport is not None
                request.transport.close()  # ... but the answer never arrives
                return web.Response(status=200)
        return None

    async def _answer(self, method: str, params: dict[str, Any]) -> web.StreamResponse:
        if method == "getMe":
            return web.json_response({"ok": True, "result": BOT_USER})
        if method == "getUpdates":
            return await self._get_updates(params)
        if method == "getFile":
            file_id = str(params.get("file_id"))
            if file_id not in self.files:
                return self._error(400, "Bad Request: invalid file_id")
            result = {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"files/{file_id}",
            }
            return web.json_response({"ok": True, "result": result})
        if method in (
            "setMyCommands",
            "setMyDescription",
            "setMyShortDescription",
            "deleteMyCommands",
            "deleteWebhook",
            "setWebhook",
            "sendChatAction",
            "answerCallbackQuery",
        ):
            self.sent.append((method, params))
            return web.json_response({"ok": True, "result": True})
        if method in SEND_METHODS or method in EDIT_METHODS:
            return self._message(method, params)
        return self._error(404, "Not Found: method not found")

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].removeprefix("files/")
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return web.json_response({"ok": True, "result": self._updates[:100]})

    def _limits(self, method: str, params: dict[str, Any]) -> web.Response | None:
        try:
            if "text" in params and method in ("sendMessage", "editMessageText"):
                visible = visible_text(str(params["text"]), params.get("parse_mode"))
                if not visible.strip():
                    return self._error(400, "Bad Request: message text is empty")
                if len(visible) > 4096:
                    return self._error(400, "Bad Request: message is too long")
            if "caption" in params:
                caption = visible_text(str(params["caption"]), params.get("parse_mode"))
                if len(caption) > 1024:
                    return self._error(400, "Bad Request: message caption is too long")
        except EntityError as exc:
            return self._error(400, f"Bad Request: can't parse entities: {exc}")
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if len(str(button.get("callback_data", "")).encode()) > 64:
                        return self._error(400, "Bad Request: BUTTON_DATA_INVALID")
        return None

    def _flood(self, chat_id: str) -> web.Response | None:
        now = time.monotonic()
        for limit, times in (
            (self.per_chat_per_second, self._chat_times[chat_id]),
            (self.overall_per_second, self._all_times),
        ):
            if limit is None:
                continue
            while times and times[0] <= now - 1.0:
                times.popleft()
            if len(times) >= limit:
                self.flooded += 1
                return self._error(429, "Too Many Requests: retry after 1", retry_after=1)
        self._chat_times[chat_id].append(now)
        self._all_times.append(now)
        self.send_times.append(now)
        return None

    @property
    def unconfirmed_updates(self) -> int:
        """Updates the bot has not yet confirmed with a later getUpdates offset."""
        return len(self._updates)

    def _arrive(self, chat_id: str, method: str, params: dict[str, Any], message_id: int) -> None:
        markup = params.get("reply_markup")
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        arrival = Arrival(
            time.monotonic(),
            method,
            str(params.get("text") or params.get("caption") or ""),
            message_id,
            tuple(str(b["callback_data"]) for row in rows for b in row if "callback_data" in b),
        )
        self.wire.record(chat_id, arrival)
        for callback in self.on_arrival:
            callback(chat_id, arrival)

    def _message(self, method: str, params: dict[str, Any]) -> web.Response:
        chat_id = str(params.get("chat_id", ""))
        if not chat_id:
            return self._error(400, "Bad Request: chat_id is empty")
        if chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        refused = self._limits(method, params)
        if refused is not None:
            return refused
        if method in SEND_METHODS:
            flooded = self._flood(chat_id)
            if flooded is not None:
                return flooded
            retry_after = self.wire.admit(chat_id)
            if retry_after is not None:
                return self._error(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    retry_after=retry_after,
                )
        self.sent.append((method, params))
        result: dict[str, Any]
        if method in EDIT_METHODS:
            key = (chat_id, int(params.get("message_id", 0)))
            if key not in self._messages:
                return self._error(400, "Bad Request: message to edit not found")
            result = self._messages[key]
            for name in ("text", "caption"):
                if name in params:
                    result[name] = visible_text(str(params[name]), params.get("parse_mode"))
            if isinstance(params.get("reply_markup"), dict):
                result["reply_markup"] = params["reply_markup"]
            else:
                result.pop("reply_markup", None)
            return web.json_response({"ok": True, "result": result})
        message_id = next(self._message_ids)
        result = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "group" if is_group(chat_id) else "private"},
            "from": BOT_USER,
        }
        if method == "sendMessage":
            result["text"] = visible_text(str(params["text"]), params.get("parse_mode"))
        elif method == "sendPhoto":
            result["photo"] = [{"file_id": f"p{message_id}", "file_unique_id": "p", "width": 1,
                                "height": 1}]  # fmt: skip
        elif method == "sendDocument":
            doc = params.get("document") or {}
            result["document"] = {"file_id": f"d{message_id}", "file_unique_id": "d",
                                  "file_name": doc.get("file_name")}  # fmt: skip
        elif method in ("sendLocation", "sendVenue"):
            location = {"latitude": float(params["latitude"]),
                        "longitude": float(params["longitude"])}  # fmt: skip
            result["location"] = location
            if method == "sendVenue":
                result["venue"] = {"location": location, "title": params.get("title", ""),
                                   "address": params.get("address", "")}  # fmt: skip
        if "caption" in params:
            result["caption"] = visible_text(str(params["caption"]), params.get("parse_mode"))
        if isinstance(params.get("reply_markup"), dict):
            result["reply_markup"] = params["reply_markup"]
        self._messages[(chat_id, message_id)] = result
        self._arrive(chat_id, method, params, message_id)
        return web.json_response({"ok": True, "result": result})
