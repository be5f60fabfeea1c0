"""The Bot API connection: PTB's application, login, long polling or the webhook server,
and a clean stop.

Nothing of PTB's routing, persistence or conversation machinery is used: the transport adds
one handler that sees every update. PTB's webhook server checks the secret-token header.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor, ContextTypes
from telegram.request import BaseRequest

from bot.transports.base import TransportStopped

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.telegram.org"
PTBApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    listen: str = "127.0.0.1"
    port: int = 8443
    secret: str | None = None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path.lstrip("/")


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Updates run concurrently across chats, strictly one after another within a chat.

    PTB starts one task per update in the order it received them; each task takes its
    chat's lock (FIFO) before any other await, so a chat's updates keep their order.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.get(chat.id)
        if lock is None:
            lock = self._locks[chat.id] = asyncio.Lock()
        async with lock:
            await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def build_application(
    token: str,
    *,
    api_base_url: str,
    request_timeout: float,
    concurrent_updates: int,
    request: BaseRequest | None,
) -> PTBApplication:
    """`request` replaces PTB's HTTP client (benchmarks use an in-process Bot API)."""
    root = api_base_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .concurrent_updates(ChatOrderedUpdateProcessor(concurrent_updates))
        .job_queue(None)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        builder = (
            builder.read_timeout(request_timeout)
            .write_timeout(request_timeout)
            .get_updates_read_timeout(request_timeout)
            .media_write_timeout(max(request_timeout, 20.0))
        )
    return builder.build()


class Connection:
    """Runs the application until stopped; a second poller on the token (409) stops it."""

    def __init__(
        self, application: PTBApplication, *, webhook: WebhookConfig | None, poll_timeout: float
    ) -> None:
        self.application = application
        self.application.add_error_handler(self._on_error)
        self._webhook = webhook
        self._poll_timeout = poll_timeout
        self._stop_requested = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False
        self._fatal: TransportStopped | None = None

    async def run(self, before_updates: Callable[[], Awaitable[None]]) -> None:
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
            log.info("Telegram: logged in as @%s", app.bot.username)
            await before_updates()
            await app.start()
            await self._receive()
            await self._stop_requested.wait()
        finally:
            await self._shutdown()
            self._running = False
            self._finished.set()
        if self._fatal is not None:
            raise self._fatal

    async def _receive(self) -> None:
        updater = self.application.updater
        assert updater is not None
        if self._webhook is not None:
            hook = self._webhook
            await updater.start_webhook(
                listen=hook.listen,
                port=hook.port,
                url_path=hook.path,
                webhook_url=hook.url,
                secret_token=hook.secret,
                allowed_updates=Update.ALL_TYPES,
            )
            log.info("Telegram: webhook server on %s:%s", hook.listen, hook.port)
        else:
            await updater.start_polling(
                timeout=timedelta(seconds=self._poll_timeout),
                allowed_updates=Update.ALL_TYPES,
                error_callback=self._polling_error,
            )
            log.info("Telegram: polling for updates")

    async def stop(self) -> None:
        """Stop receiving, finish the updates in hand, then return (safe to call twice)."""
        self._stop_requested.set()
        if self._running:
            await self._finished.wait()

    async def _shutdown(self) -> None:
        app = self.application
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
        except Exception:
            log.exception("Telegram: error while stopping")
        try:
            await app.shutdown()
        except Exception:
            log.exception("Telegram: error while shutting down")
        log.info("Telegram: stopped")

    def _polling_error(self, exc: TelegramError) -> None:
        if isinstance(exc, Conflict):
            if self._fatal is None:
                log.error(
                    "Telegram: another process is receiving updates for this bot token "
                    "(HTTP 409 Conflict: %s). Stop the other one, or use another token. "
                    "Stopping.",
                    exc,
                )
                self._fatal = TransportStopped(
                    "another process is polling the same Telegram bot token (HTTP 409 Conflict)"
                )
            self._stop_requested.set()
            return
        log.warning("Telegram: polling failed, retrying: %s", exc)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("Telegram: update %s failed", update_id, exc_info=context.error)
