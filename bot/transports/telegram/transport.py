"""The Telegram transport: python-telegram-bot 22's Bot inside the bot's own event loop.

Every update becomes a neutral `Inbound` (inbound.py); a batch is kept by the app's intake
before the Bot API is told it arrived, then handled (bot/intake.py). Long polling by
default, webhook mode when a webhook URL is configured (connection.py). Messages go out
as HTML with inline keyboards (rendering.py, sending.py), each request taking its slot
from the platform's rate limiter; errors become the delivery errors of
`bot.transports.base` (errors.py). Coordinators get a command menu of their own (menus.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError
from telegram.request import BaseRequest

from bot.i18n import Catalogs
from bot.rate_limit import RateLimiter
from bot.settings import Settings
from bot.transports.base import Dispatch, KeepingIntake, MenuCommand
from bot.transports.pacing import RequestGate
from bot.transports.telegram.connection import (
    DEFAULT_API_BASE_URL,
    Connection,
    PTBApplication,
    WebhookConfig,
    build_application,
)
from bot.transports.telegram.inbound import PLATFORM, to_inbound
from bot.transports.telegram.menus import CommandMenus
from bot.transports.telegram.sending import TelegramSender
from conversations.core.messages import ChatRef, ChoiceEcho, Inbound, OutMessage, Sent
from storage.models import Role

log = logging.getLogger(__name__)


class TelegramTransport:
    platform = PLATFORM

    def __init__(
        self,
        token: str,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        webhook: WebhookConfig | None = None,
        poll_timeout: float = 30,
        request_timeout: float = 10,
        limiter: RateLimiter | None = None,
        menu: Sequence[MenuCommand] = (),
        translations: Catalogs | None = None,
        request: BaseRequest | None = None,
    ) -> None:
        """`request` replaces PTB's HTTP client (benchmarks use an in-process Bot API).
        `limiter`: the platform's rate limiter (or later `pace_with`); without one, requests
        go unpaced. `menu`: the commands of the command menus (none without)."""
        self.application: PTBApplication = build_application(
            token,
            api_base_url=api_base_url,
            request_timeout=request_timeout,
            request=request,
        )
        self._connection = Connection(self.application, webhook=webhook, poll_timeout=poll_timeout)
        self._sender = TelegramSender(self.application, RequestGate(limiter))
        self.menus = CommandMenus(self._sender, menu, translations)
        self._ready: Callable[[], Awaitable[None]] | None = None
        self._dispatch: Dispatch | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, menu: Sequence[MenuCommand]) -> TelegramTransport:
        from bot.i18n import catalogs

        assert settings.telegram_token is not None
        webhook = None
        if settings.telegram_webhook_url:
            secret = settings.telegram_webhook_secret
            webhook = WebhookConfig(
                url=settings.telegram_webhook_url,
                listen=settings.telegram_webhook_listen,
                port=settings.telegram_webhook_port,
                secret=secret.get_secret_value() if secret else None,
            )
        return cls(
            settings.telegram_token.get_secret_value(),
            api_base_url=settings.telegram_api_base_url,
            webhook=webhook,
            poll_timeout=settings.telegram_poll_timeout,
            request_timeout=settings.telegram_request_timeout,
            menu=menu,
            translations=catalogs(),
        )

    def pace_with(self, limiter: RateLimiter) -> None:
        """Every request that sends something takes its slot from `limiter` from now on."""
        self._sender.gate.limiter = limiter

    @property
    def limiter(self) -> RateLimiter | None:
        return self._sender.gate.limiter

    # -- running -------------------------------------------------------------------------

    async def run(self, dispatch: Dispatch) -> None:
        """Receive until stopped. Given the app's `Intake`, a batch is kept before the Bot API
        hears it arrived; given a plain function (tests), each update is handed to it."""
        self._dispatch = dispatch
        await self._connection.run(self._before_updates, self._receive)

    @property
    def receiving(self) -> bool:
        return self._connection.receiving

    async def _before_updates(self) -> None:
        await self.menus.set_common_menus()
        await self.menus.set_descriptions()
        if self._ready is not None:
            try:
                await self._ready()
            except Exception:  # a menu is a convenience: never a reason not to run
                log.exception("Telegram: setting up the coordinators' command menus failed")

    async def stop(self) -> None:
        """Stop receiving (the app finishes the updates in hand); safe to call twice."""
        await self._connection.stop()

    async def close(self) -> None:
        """After the last send: let go of the Bot API connection."""
        await self._connection.close()

    # -- inbound -------------------------------------------------------------------------

    async def _receive(self, updates: Sequence[Update]) -> None:
        inbounds: list[Inbound] = []
        for update in updates:
            inbound = self.to_inbound(update)
            if update.callback_query is not None:
                self._remember_pressed(update.callback_query)
            if inbound is None:
                log.debug("Telegram: update %s ignored", update.update_id)
                continue
            log.debug("Telegram: update %s from %s", update.update_id, inbound.ref)
            inbounds.append(inbound)
        dispatch = self._dispatch
        if isinstance(dispatch, KeepingIntake):
            await dispatch.receive(PLATFORM, inbounds)
        elif dispatch is not None:
            for inbound in inbounds:
                await dispatch(inbound)
        # a press is answered once it is safe, so the spinner on the button stops
        for update in updates:
            if update.callback_query is not None:
                await self._answer(update.callback_query)

    def _remember_pressed(self, query: CallbackQuery) -> None:
        """Keep the pressed message's text, for the echo that marks it answered."""
        message = query.message
        if isinstance(message, Message):
            text = message.text_html if message.text is not None else None
            caption = message.caption_html if message.caption is not None else None
            if text is not None or caption is not None:
                self._sender.remember(str(message.chat.id), str(message.message_id), text, caption)

    async def _answer(self, query: CallbackQuery) -> None:
        """Answer a button press, so the platform stops showing it as waiting."""
        try:
            await query.answer()
        except TelegramError as exc:
            log.warning("Telegram: could not answer a button press: %s", exc)

    def to_inbound(self, update: Update) -> Inbound | None:
        """The neutral form of an update, or None for updates the bot has no use for."""
        try:
            username: str | None = self.application.bot.username
        except RuntimeError:  # not initialised (a unit test calling to_inbound directly)
            username = None
        return to_inbound(update, username)

    # -- outbound ------------------------------------------------------------------------

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        return await self._sender.send(ref, message)

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        """Show "✓ label" on the answered message and take its buttons away."""
        await self._sender.echo(ref, echo)

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        await self._sender.edit(ref, message_id, message)

    async def fetch(self, file_ref: str) -> bytes:
        """`MediaFetcher`: the bytes of a photo or voice note people sent (its file_id)."""
        return await self._sender.fetch(file_ref)

    # -- a menu per person (RoleCommandMenus, driven by bot/command_menus.py) ------------

    def when_ready(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._ready = callback

    async def show_commands(self, user_id: str, role: Role, language: str) -> None:
        await self.menus.show(user_id, role, language)
