"""The Bot API connection: login, our own long polling or webhook server, a clean stop.

Only PTB's `Bot` is used (its requests and types): neither its updater nor its handlers,
because an update may be confirmed to the Bot API only once it is kept (bot/intake.py), and
PTB's updater confirms as soon as it has queued it. The webhook server is aiohttp's and
checks the secret-token header.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from aiohttp import web
from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest, HTTPXRequest

from bot.rate_limit import request_written
from bot.transports.base import TransportStopped

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.telegram.org"
PTBApplication = Application[Any, Any, Any, Any, Any, Any]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    listen: str = "127.0.0.1"
    port: int = 8443
    secret: str | None = None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path.lstrip("/")


def build_application(
    token: str,
    *,
    api_base_url: str,
    request_timeout: float,
    request: BaseRequest | None,
) -> PTBApplication:
    """`request` replaces PTB's HTTP client (benchmarks use an in-process Bot API)."""
    root = api_base_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .updater(None)
        .job_queue(None)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        sending = HTTPXRequest(
            connection_pool_size=SENDING_CONNECTIONS,
            read_timeout=request_timeout,
            write_timeout=request_timeout,
            media_write_timeout=max(request_timeout, 20.0),
            httpx_kwargs={"event_hooks": {"request": [_trace_the_write]}},
        )
        polling = HTTPXRequest(connection_pool_size=1, read_timeout=request_timeout)
        builder = builder.request(sending).get_updates_request(polling)
    return builder.build()


# PTB's own default for the requests that are not getUpdates
SENDING_CONNECTIONS = 256
WRITTEN = ("http11.send_request_body.complete", "http2.send_request_body.complete")


async def _trace_the_write(request: httpx.Request) -> None:
    """Tell the rate limiter when a request's body has been written (see
    `bot.rate_limit.request_written`)."""
    request.extensions["trace"] = _on_trace


async def _on_trace(event: str, info: dict[str, Any]) -> None:
    if event in WRITTEN:
        request_written()


Receive = Callable[[Sequence[Update]], Awaitable[None]]
# Seconds between tries while the Bot API cannot be reached, doubling up to the last.
RETRY_DELAYS = (1.0, 2.0, 5.0, 15.0, 30.0)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Connection:
    """Log in, then receive updates until stopped: a batch is handed to `receive`, and only
    once that returns (the updates are kept) does the Bot API hear that they arrived: by the
    next getUpdates offset, or by the webhook's answer. A second poller on the token (409)
    stops it."""

    def __init__(
        self, application: PTBApplication, *, webhook: WebhookConfig | None, poll_timeout: float
    ) -> None:
        self.application = application
        self._webhook = webhook
        self._poll_timeout = poll_timeout
        self._stop_requested = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False
        self._receiving = False
        self._logged_in = False
        self._fatal: TransportStopped | None = None

    @property
    def receiving(self) -> bool:
        """Logged in and taking updates."""
        return self._receiving

    async def run(self, before_updates: Callable[[], Awaitable[None]], receive: Receive) -> None:
        """Log in, await `before_updates`, then receive updates until `stop()`."""
        self._running = True
        app = self.application
        try:
            try:
                await app.initialize()
            except InvalidToken as exc:
                raise TransportStopped(
                    "Telegram did not accept the bot token (TMM_TELEGRAM_TOKEN)"
                ) from exc
            except (NetworkError, TelegramError) as exc:
                raise TransportStopped(f"could not reach the Telegram Bot API: {exc}") from exc
            self._logged_in = True
            log.info("Telegram: logged in as @%s", app.bot.username)
            await before_updates()
            if self._webhook is not None:
                await self._serve_webhook(self._webhook, receive)
            else:
                await self._poll(receive)
        except BaseException:
            await self.close()  # nothing more will be sent either
            raise
        finally:
            self._receiving = False
            self._running = False
            self._finished.set()
        if self._fatal is not None:
            await self.close()
            raise self._fatal

    # -- long polling --------------------------------------------------------------------

    async def _poll(self, receive: Receive) -> None:
        bot = self.application.bot
        await self._until_stopped(bot.delete_webhook())  # getUpdates refuses while one is set
        log.info("Telegram: polling for updates")
        self._receiving = True
        offset: int | None = None
        failures = 0
        while not self._stop_requested.is_set():
            fetch = bot.get_updates(
                offset=offset,
                timeout=int(self._poll_timeout),
                allowed_updates=Update.ALL_TYPES,
            )
            try:
                updates = await self._until_stopped(fetch)
            except Conflict as exc:
                self._conflict(exc)
                break
            except InvalidToken as exc:
                self._fatal = TransportStopped(f"Telegram refused the bot token: {exc}")
                break
            except TelegramError as exc:  # the network, a timeout, a 5xx: try again soon
                delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                failures += 1
                log.warning("Telegram: polling failed (%s); trying again in %gs", exc, delay)
                await self._pause(delay)
                continue
            failures = 0
            if updates is None or not updates:
                continue
            await receive(updates)  # kept: the next getUpdates confirms them
            offset = updates[-1].update_id + 1
        if offset is not None:
            await self._confirm(offset)

    async def _confirm(self, offset: int) -> None:
        """Tell the Bot API the last batch arrived, so the next start does not get it again
        (it would be handled once anyway)."""
        try:
            await self.application.bot.get_updates(offset=offset, timeout=0, limit=1)
        except TelegramError as exc:
            log.debug("Telegram: could not confirm the last updates: %s", exc)

    async def _until_stopped(self, request: Awaitable[_T]) -> _T | None:
        """The request's result, or None once `stop()` was called (the request is dropped:
        what it would have brought comes again at the next start)."""
        task = asyncio.ensure_future(request)
        stop = asyncio.ensure_future(self._stop_requested.wait())
        try:
            await asyncio.wait((task, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await task
            return None
        return task.result()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_requested.wait(), seconds)

    def _conflict(self, exc: Conflict) -> None:
        log.error(
            "Telegram: another process is receiving updates for this bot token "
            "(HTTP 409 Conflict: %s). Stop the other one, or use another token. Stopping.",
            exc,
        )
        self._fatal = TransportStopped(
            "another process is polling the same Telegram bot token (HTTP 409 Conflict)"
        )

    # -- webhook ---------------------------------------------------------------------------

    async def _serve_webhook(self, hook: WebhookConfig, receive: Receive) -> None:
        """An HTTP server for the Bot API's posts: a post is answered 200 only once its
        update is kept, so one lost on the way (or refused: 500) is posted again."""
        bot = self.application.bot

        async def on_post(request: web.Request) -> web.Response:
            if hook.secret is not None and request.headers.get(SECRET_HEADER) != hook.secret:
                return web.Response(status=403)
            try:
                update = Update.de_json(await request.json(), bot)
            except (ValueError, TypeError, KeyError):
                return web.Response(status=400)
            if update is None:
                return web.Response(status=400)
            try:
                await receive([update])
            except Exception:
                log.exception("Telegram: could not keep update %s", update.update_id)
                return web.Response(status=500)
            return web.Response(status=200)

        server = web.Application()
        server.router.add_post("/" + hook.path, on_post)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, hook.listen, hook.port).start()
            await bot.set_webhook(
                url=hook.url, secret_token=hook.secret, allowed_updates=Update.ALL_TYPES
            )
            log.info("Telegram: webhook server on %s:%s", hook.listen, hook.port)
            self._receiving = True
            await self._stop_requested.wait()
        finally:
            await runner.cleanup()

    # -- stopping ----------------------------------------------------------------------------

    async def stop(self) -> None:
        """Stop receiving, then return; the Bot still sends (the replies to the updates in
        hand) until `close()`. Safe to call twice."""
        self._stop_requested.set()
        if self._running:
            await self._finished.wait()

    async def close(self) -> None:
        """Let go of the Bot API connection (once nothing more is sent); safe twice."""
        if not self._logged_in:
            return
        self._logged_in = False
        try:
            await self.application.shutdown()
        except Exception:
            log.exception("Telegram: error while shutting down")
        log.info("Telegram: stopped")
