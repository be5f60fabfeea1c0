"""Telegram, with python-telegram-bot 22, inside the bot's own event loop.

Every update becomes a neutral `Inbound` handed to `dispatch`; nothing of PTB's routing,
persistence or conversation machinery is used. Long polling by default; webhook mode when
a webhook URL is configured (PTB's webhook server checks the secret-token header).

Outbound text is sent with HTML parse mode, every piece of it escaped: our texts are plain.
Choices become an inline keyboard whose `callback_data` is `"{prompt_id}:{choice_id}"`.
Errors are mapped onto the delivery errors of `bot.transports.base`.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, MessageEntityType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot.i18n import Catalogs
from bot.rate_limit import RateLimiter
from bot.settings import Settings
from bot.transports.base import (
    AmbiguousDelivery,
    DeliveryError,
    Dispatch,
    MenuCommand,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
    TemporaryFailure,
    TransportStopped,
)
from bot.transports.pacing import RequestGate
from conversations.messages import (
    Attachment,
    ChatRef,
    ChoiceEcho,
    ChoicePick,
    Command,
    Inbound,
    Location,
    Media,
    MediaKind,
    Membership,
    OutMessage,
    Sent,
)
from storage.models import Role

# RetryAfter.retry_after as a timedelta (PTB 22.2+ warns about the old int otherwise)
os.environ.setdefault("PTB_TIMEDELTA", "1")

PLATFORM = "telegram"
log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
# Telegram picks a menu by the language of the person's app; None is the fallback
MENU_LANGUAGES: tuple[str | None, ...] = (None, "da", "en")
DEFAULT_API_BASE_URL = "https://api.telegram.org"
_T = TypeVar("_T")
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


# ---------------------------------------------------------------------------------------
# Rendering helpers (pure, unit-tested)


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split plain text so each part, once HTML-escaped, fits `limit`: paragraphs first,
    then lines, then words, then characters."""
    if len(escape(text)) <= limit:
        return [text]
    for separator in ("\n\n", "\n", " "):
        pieces = text.split(separator)
        if len(pieces) == 1:
            continue
        parts: list[str] = []
        current = ""
        for piece in pieces:
            candidate = f"{current}{separator}{piece}" if current else piece
            if len(escape(candidate)) <= limit:
                current = candidate
                continue
            if current:
                parts.append(current)
            current = piece
        if current:
            parts.append(current)
        result: list[str] = []
        for part in parts:
            result.extend(split_text(part, limit) if len(escape(part)) > limit else [part])
        return [part for part in result if part.strip()] or [text[:limit]]
    # one unbroken run of characters: cut it where the escaped form reaches the limit
    parts, current = [], ""
    for char in text:
        if len(escape(current + char)) > limit:
            parts.append(current)
            current = ""
        current += char
    if current:
        parts.append(current)
    return parts


def callback_data(prompt_id: str, choice_id: str) -> str:
    data = f"{prompt_id}:{choice_id}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
        raise PermanentFailure(f"callback data {data!r} is longer than {MAX_CALLBACK_DATA} bytes")
    return data


def keyboard(message: OutMessage) -> InlineKeyboardMarkup | None:
    if not message.choices or message.prompt_id is None:
        return None
    rows = [
        [
            InlineKeyboardButton(
                f"{choice.emoji} {choice.label}" if choice.emoji else choice.label,
                callback_data=callback_data(message.prompt_id, choice.id),
            )
        ]
        for choice in message.choices
    ]
    return InlineKeyboardMarkup(rows)


def plain_text(message: OutMessage) -> str:
    """The text to show; choices without a stored prompt are listed as numbered lines."""
    if message.choices and message.prompt_id is None:
        lines = [
            f"{n}. {c.emoji + ' ' if c.emoji else ''}{c.label}"
            for n, c in enumerate(message.choices, start=1)
        ]
        return "\n".join([message.text, "", *lines])
    return message.text


_MENU_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


def menu_name(label: str, fallback: str) -> str:
    """Telegram's menu takes only a-z, 0-9 and _ (so no æ, ø, å): else the English name."""
    return label if _MENU_NAME.match(label) else fallback


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def map_error(exc: TelegramError, what: str) -> Exception:
    """The delivery error a Bot API failure means for the sender."""
    if isinstance(exc, RetryAfter):
        return RetryLater(retry_seconds(exc), str(exc))
    if isinstance(exc, Forbidden):
        return RecipientBlocked(str(exc))
    if isinstance(exc, BadRequest):
        log.error("Telegram refused %s: %s", what, exc)
        return PermanentFailure(str(exc))
    cause = exc.__cause__
    if isinstance(exc, TimedOut):
        if isinstance(cause, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return TemporaryFailure(str(exc))  # the request never left
        return AmbiguousDelivery(str(exc))
    if isinstance(exc, NetworkError):
        if isinstance(cause, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            # sent, but the answer was lost: Telegram may well have delivered it
            return AmbiguousDelivery(str(exc))
        return TemporaryFailure(str(exc))
    if isinstance(exc, (ChatMigrated, InvalidToken)):
        log.error("Telegram refused %s: %s", what, exc)
        return PermanentFailure(str(exc))
    return TemporaryFailure(str(exc))


# ---------------------------------------------------------------------------------------


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
        concurrent_updates: int = 64,
        request: BaseRequest | None = None,
    ) -> None:
        """`request` replaces PTB's HTTP client (benchmarks use an in-process Bot API).
        `limiter`: the platform's rate limiter (or later `pace_with`); without one, requests
        go unpaced. `menu`: the commands of the command menus (none without)."""
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
        self.application: PTBApplication = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self._webhook = webhook
        self._poll_timeout = poll_timeout
        self._gate = RequestGate(limiter)
        self._menu = tuple(menu)
        self._translations = translations
        self._ready: Callable[[], Awaitable[None]] | None = None
        self._dispatch: Dispatch | None = None
        self._stop_requested = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False
        self._fatal: TransportStopped | None = None
        # text (as HTML) of recent messages with buttons, so an echo can keep it
        self._texts: OrderedDict[tuple[str, str], tuple[str, bool]] = OrderedDict()

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
        self._gate.limiter = limiter

    @property
    def limiter(self) -> RateLimiter | None:
        return self._gate.limiter

    # -- running -------------------------------------------------------------------------

    async def run(self, dispatch: Dispatch) -> None:
        self._dispatch = dispatch
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
            await self.set_command_menus()
            if self._ready is not None:
                try:
                    await self._ready()
                except Exception:  # a menu is a convenience: never a reason not to run
                    log.exception("Telegram: setting up the coordinators' command menus failed")
            await app.start()
            assert app.updater is not None
            if self._webhook is not None:
                hook = self._webhook
                await app.updater.start_webhook(
                    listen=hook.listen,
                    port=hook.port,
                    url_path=hook.path,
                    webhook_url=hook.url,
                    secret_token=hook.secret,
                    allowed_updates=Update.ALL_TYPES,
                )
                log.info("Telegram: webhook server on %s:%s", hook.listen, hook.port)
            else:
                await app.updater.start_polling(
                    timeout=timedelta(seconds=self._poll_timeout),
                    allowed_updates=Update.ALL_TYPES,
                    error_callback=self._polling_error,
                )
                log.info("Telegram: polling for updates")
            await self._stop_requested.wait()
        finally:
            await self._shutdown()
            self._running = False
            self._finished.set()
        if self._fatal is not None:
            raise self._fatal

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

    # -- inbound -------------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        inbound = self.to_inbound(update)
        if update.callback_query is not None:
            await self._answer(update.callback_query)
        if inbound is None or self._dispatch is None:
            log.debug("Telegram: update %s ignored", update.update_id)
            return
        log.debug("Telegram: update %s from %s", update.update_id, inbound.ref)
        await self._dispatch(inbound)

    async def _answer(self, query: CallbackQuery) -> None:
        message = query.message
        if isinstance(message, Message):
            text = message.text_html if message.text is not None else None
            caption = message.caption_html if message.caption is not None else None
            if text is not None or caption is not None:
                self._remember(str(message.chat.id), str(message.message_id), text, caption)
        try:
            await query.answer()
        except TelegramError as exc:
            log.warning("Telegram: could not answer a button press: %s", exc)

    def to_inbound(self, update: Update) -> Inbound | None:
        """The neutral form of an update, or None for updates the bot has no use for."""
        event_id = str(update.update_id)
        if update.my_chat_member is not None:
            member = update.my_chat_member
            if member.chat.type != "private":
                return None
            status = member.new_chat_member.status
            if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
                membership = Membership.LEFT
            elif status == ChatMemberStatus.MEMBER:
                membership = Membership.JOINED
            else:
                return None
            ref = ChatRef(PLATFORM, str(member.chat.id), str(member.from_user.id))
            return Inbound(ref, event_id, membership=membership, raw=update)
        if update.callback_query is not None:
            query = update.callback_query
            chat_id = (
                str(query.message.chat.id) if query.message is not None else str(query.from_user.id)
            )
            prompt_id, sep, choice_id = (query.data or "").partition(":")
            if not sep or not prompt_id:
                return None
            return Inbound(
                ChatRef(PLATFORM, chat_id, str(query.from_user.id)),
                event_id,
                choice=ChoicePick(
                    prompt_id,
                    choice_id,
                    message_id=str(query.message.message_id) if query.message else None,
                ),
                sender_name=query.from_user.first_name,
                language_hint=query.from_user.language_code,
                raw=update,
            )
        message = update.message
        if message is None or message.from_user is None:
            return None
        user = message.from_user
        if user.is_bot:
            return None
        ref = ChatRef(PLATFORM, str(message.chat.id), str(user.id))
        common: dict[str, Any] = {
            "sender_name": user.first_name,
            "language_hint": user.language_code,
            "raw": update,
        }
        if message.text is not None:
            command = self._command(message)
            if command is False:
                return None
            if isinstance(command, Command):
                return Inbound(ref, event_id, command=command, **common)
            return Inbound(ref, event_id, text=message.text, **common)
        media = self._media(message)
        if media is not None:
            return Inbound(ref, event_id, media=media, **common)
        if message.venue is not None:
            venue = message.venue
            location = Location(venue.location.latitude, venue.location.longitude, venue.title)
            return Inbound(ref, event_id, location=location, **common)
        if message.location is not None:
            location = Location(message.location.latitude, message.location.longitude)
            return Inbound(ref, event_id, location=location, **common)
        return None

    def _command(self, message: Message) -> Command | bool | None:
        """The command a message starts with; False if it is meant for another bot."""
        text = message.text or ""
        entity = next(
            (
                e
                for e in message.entities
                if e.type == MessageEntityType.BOT_COMMAND and e.offset == 0
            ),
            None,
        )
        if entity is None:
            return None
        word = text[1 : entity.length]
        name, _, addressee = word.partition("@")
        try:
            username: str | None = self.application.bot.username
        except RuntimeError:  # not initialised (a unit test calling to_inbound directly)
            username = None
        if addressee and username and addressee.lower() != username.lower():
            return False
        return Command(name.lower(), text[entity.length :].strip())

    @staticmethod
    def _media(message: Message) -> Media | None:
        caption = message.caption
        if message.photo:
            photo = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
            return Media(MediaKind.PHOTO, photo.file_id, "image/jpeg", photo.file_size, caption)
        if message.voice is not None:
            voice = message.voice
            return Media(MediaKind.VOICE, voice.file_id, voice.mime_type, voice.file_size, caption)
        if message.document is not None:
            doc = message.document
            return Media(MediaKind.DOCUMENT, doc.file_id, doc.mime_type, doc.file_size, caption)
        return None

    # -- outbound ------------------------------------------------------------------------

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        chat_id = ref.chat_id
        markup = keyboard(message)
        bot = self.application.bot
        text = plain_text(message)
        last: Message | None = None
        if message.location is not None:
            loc = message.location
            if loc.title:
                last = await self._call(
                    "sendVenue",
                    lambda: bot.send_venue(
                        chat_id,
                        loc.latitude,
                        loc.longitude,
                        title=loc.title,
                        address=f"{loc.latitude:.5f}, {loc.longitude:.5f}",
                    ),
                )
            else:
                last = await self._call(
                    "sendLocation", lambda: bot.send_location(chat_id, loc.latitude, loc.longitude)
                )
        if message.attachment is not None:
            caption = text if len(escape(text)) <= MAX_CAPTION else None
            if caption is None and text.strip():
                await self._send_text(chat_id, text, None)
            last = await self._send_attachment(chat_id, message.attachment, caption, markup)
            if markup is not None:
                self._remember(chat_id, str(last.message_id), None, escape(caption or ""))
        elif text.strip() or last is None or markup is not None:
            last = await self._send_text(chat_id, text or "…", markup)
        return Sent(str(last.message_id))

    async def _send_text(
        self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None
    ) -> Message:
        parts = split_text(text)
        bot = self.application.bot
        sent: Message | None = None
        for index, part in enumerate(parts):
            reply_markup = markup if index == len(parts) - 1 else None
            sent = await self._call(
                "sendMessage",
                lambda part=part, reply_markup=reply_markup: bot.send_message(  # type: ignore[misc]
                    chat_id,
                    escape(part),
                    parse_mode=ParseMode.HTML,
                    reply_markup=reply_markup,
                    link_preview_options=None,
                ),
            )
        assert sent is not None
        if markup is not None:
            self._remember(chat_id, str(sent.message_id), escape(parts[-1]), None)
        return sent

    async def _send_attachment(
        self,
        chat_id: str,
        attachment: Attachment,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        bot = self.application.bot
        caption_html = escape(caption) if caption else None
        if attachment.is_image:
            return await self._call(
                "sendPhoto",
                lambda: bot.send_photo(
                    chat_id,
                    InputFile(attachment.content, filename=attachment.filename),
                    caption=caption_html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                ),
            )
        return await self._call(
            "sendDocument",
            lambda: bot.send_document(
                chat_id,
                InputFile(attachment.content, filename=attachment.filename),
                caption=caption_html,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            ),
        )

    async def fetch(self, file_ref: str) -> bytes:
        """`MediaFetcher`: the bytes of a photo or voice note people sent (its file_id)."""
        try:
            telegram_file = await self.application.bot.get_file(file_ref)
            return bytes(await telegram_file.download_as_bytearray())
        except TelegramError as exc:
            raise map_error(exc, f"getFile {file_ref}") from exc

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        """Show "✓ label" on the answered message and take its buttons away."""
        if not echo.prompt_message_id:
            return
        chat_id, message_id = ref.chat_id, echo.prompt_message_id
        mark = escape(f"✓ {echo.label}")
        known = self._texts.pop((chat_id, message_id), None)
        bot = self.application.bot
        try:
            if known is not None and not known[1]:
                await self._call(
                    "editMessageText",
                    lambda: bot.edit_message_text(
                        f"{known[0]}\n\n{mark}",
                        chat_id=chat_id,
                        message_id=int(message_id),
                        parse_mode=ParseMode.HTML,
                        reply_markup=None,
                    ),
                )
            elif known is not None:
                await self._call(
                    "editMessageCaption",
                    lambda: bot.edit_message_caption(
                        chat_id=chat_id,
                        message_id=int(message_id),
                        caption=f"{known[0]}\n\n{mark}".strip(),
                        parse_mode=ParseMode.HTML,
                        reply_markup=None,
                    ),
                )
            else:
                await self._call(
                    "editMessageReplyMarkup",
                    lambda: bot.edit_message_reply_markup(
                        chat_id=chat_id, message_id=int(message_id), reply_markup=None
                    ),
                )
        except PermanentFailure:
            # "message is not modified", or too old to edit: the answer stands anyway
            log.debug("Telegram: could not mark message %s as answered", message_id)

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        bot = self.application.bot
        text = split_text(plain_text(message))[0]
        markup = keyboard(message)
        try:
            await self._call(
                "editMessageText",
                lambda: bot.edit_message_text(
                    escape(text),
                    chat_id=ref.chat_id,
                    message_id=int(message_id),
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                ),
            )
        except PermanentFailure as exc:
            if "not modified" not in str(exc):
                raise

    def _remember(
        self, chat_id: str, message_id: str, text: str | None, caption: str | None
    ) -> None:
        key = (chat_id, message_id)
        self._texts[key] = (text, False) if text is not None else (caption or "", True)
        self._texts.move_to_end(key)
        while len(self._texts) > 2000:
            self._texts.popitem(last=False)

    async def _call(self, what: str, request: Callable[[], Awaitable[_T]]) -> _T:
        async with self._gate.slot():
            try:
                return await request()
            except TelegramError as exc:
                raise map_error(exc, what) from exc

    # -- command menus -------------------------------------------------------------------

    def commands_for(self, role: Role, language: str) -> list[BotCommand]:
        """The command list a person with `role` sees, in `language`."""
        if not self._menu or self._translations is None:
            return []
        translator = self._translations.get(language)
        return [
            BotCommand(
                menu_name(entry.name_in(language), entry.name),
                translator.gettext(entry.description)[:256],
            )
            for entry in self._menu
            if role in entry.roles
        ]

    def command_menus(self) -> dict[str | None, list[BotCommand]]:
        """The common (citizens') menus: language code, or None for the default -> commands."""
        if not self._menu or self._translations is None:
            return {}
        return {
            language: self.commands_for(Role.CITIZEN, language or "da")
            for language in MENU_LANGUAGES
        }

    async def set_command_menus(self) -> None:
        """Register the common command menus; a failure is logged, never fatal."""
        bot = self.application.bot
        for language, commands in self.command_menus().items():
            try:
                await self._call(
                    "setMyCommands",
                    lambda commands=commands, language=language: bot.set_my_commands(  # type: ignore[misc]
                        commands, scope=BotCommandScopeDefault(), language_code=language
                    ),
                )
            except DeliveryError as exc:
                log.warning(
                    "Telegram: could not set the %s command menu: %s", language or "default", exc
                )
                return

    # -- a menu per person (RoleCommandMenus, driven by bot/command_menus.py) ------------

    def when_ready(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._ready = callback

    async def show_commands(self, user_id: str, role: Role, language: str) -> None:
        """The person's private chat gets the list of their role, in their language, whatever
        language their Telegram app is set to; a citizen's chat goes back to the common list."""
        if not user_id.lstrip("-").isdigit():
            raise PermanentFailure(f"{user_id!r} is not a Telegram user id")
        scope = BotCommandScopeChat(int(user_id))  # a private chat's id is the user's id
        bot = self.application.bot
        commands = self.commands_for(role, language) if role != Role.CITIZEN else []
        for code in MENU_LANGUAGES:
            if commands:
                await self._call(
                    "setMyCommands",
                    lambda code=code: bot.set_my_commands(  # type: ignore[misc]
                        commands, scope=scope, language_code=code
                    ),
                )
            else:
                await self._call(
                    "deleteMyCommands",
                    lambda code=code: bot.delete_my_commands(  # type: ignore[misc]
                        scope=scope, language_code=code
                    ),
                )
