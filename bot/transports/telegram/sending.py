"""Sending, editing and fetching through the Bot API; every request that sends something
passes the request gate (its rate-limit slot, right before) and has its errors mapped."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardMarkup, InputFile, Message
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application

from bot.transports.base import PermanentFailure
from bot.transports.pacing import RequestGate
from bot.transports.telegram.errors import map_error
from bot.transports.telegram.rendering import (
    MAX_CAPTION,
    escape,
    keyboard,
    plain_text,
    split_text,
    to_html,
)
from conversations.core.messages import Attachment, ChatRef, ChoiceEcho, OutMessage, Sent

log = logging.getLogger(__name__)

REMEMBERED_TEXTS = 2000  # messages with buttons whose text an echo can keep
_T = TypeVar("_T")
PTBApplication = Application[Any, Any, Any, Any, Any, Any]


class TelegramSender:
    def __init__(self, application: PTBApplication, gate: RequestGate) -> None:
        self._application = application
        self.gate = gate
        # text (as HTML) of recent messages with buttons, so an echo can keep it
        self._texts: OrderedDict[tuple[str, str], tuple[str, bool]] = OrderedDict()

    @property
    def bot(self) -> Bot:
        bot: Bot = self._application.bot
        return bot

    def html(self, text: str) -> str:
        """Our plain text as the HTML sent, its `/start <payload>` links to the bot."""
        try:
            username: str | None = self._application.bot.username
        except RuntimeError:  # not initialised yet: no name to link to
            username = None
        return to_html(text, username)

    async def call(self, what: str, request: Callable[[], Awaitable[_T]]) -> _T:
        """One Bot API request that sends something (`what` names it in the log)."""
        async with self.gate.slot():
            try:
                return await request()
            except TelegramError as exc:
                raise map_error(exc, what) from exc

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        chat_id = ref.chat_id
        markup = keyboard(message)
        bot = self.bot
        text = plain_text(message)
        last: Message | None = None
        if message.location is not None:
            loc = message.location
            if loc.title:
                last = await self.call(
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
                last = await self.call(
                    "sendLocation", lambda: bot.send_location(chat_id, loc.latitude, loc.longitude)
                )
        if message.attachment is not None and _is_described_photo(message.attachment):
            # An invitation's photo, then its card as a message of its own, with the buttons:
            # the card is what an answer and a change edit (as text, which a photo's caption
            # is not), and it may grow past a caption's 1,024 characters when it is.
            await self._send_attachment(chat_id, message.attachment, None, None)
            last = await self._send_text(chat_id, text, markup)
        elif message.attachment is not None:
            caption = text if len(escape(text)) <= MAX_CAPTION else None
            if caption is None and text.strip():
                await self._send_text(chat_id, text, None)
            last = await self._send_attachment(chat_id, message.attachment, caption, markup)
            if markup is not None:
                self.remember(chat_id, str(last.message_id), None, self.html(caption or ""))
        elif text.strip() or last is None or markup is not None:
            last = await self._send_text(chat_id, text or "…", markup)
        return Sent(str(last.message_id))

    async def _send_text(
        self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None
    ) -> Message:
        parts = split_text(text)
        bot = self.bot
        sent: Message | None = None
        for index, part in enumerate(parts):
            reply_markup = markup if index == len(parts) - 1 else None
            sent = await self.call(
                "sendMessage",
                lambda part=part, reply_markup=reply_markup: bot.send_message(  # type: ignore[misc]
                    chat_id,
                    self.html(part),
                    parse_mode=ParseMode.HTML,
                    reply_markup=reply_markup,
                    link_preview_options=None,
                ),
            )
        assert sent is not None
        if markup is not None:
            self.remember(chat_id, str(sent.message_id), self.html(parts[-1]), None)
        return sent

    async def _send_attachment(
        self,
        chat_id: str,
        attachment: Attachment,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        bot = self.bot
        caption_html = self.html(caption) if caption else None
        if attachment.is_image:
            return await self.call(
                "sendPhoto",
                lambda: bot.send_photo(
                    chat_id,
                    InputFile(attachment.content, filename=attachment.filename),
                    caption=caption_html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                ),
            )
        return await self.call(
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
        """The bytes of a photo or voice note people sent (its file_id); a download, so it
        takes no send slot."""
        try:
            telegram_file = await self.bot.get_file(file_ref)
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
        bot = self.bot
        card = echo.replacement
        if card is not None and (known is None or not known[1]):
            # the answered invitation as it now reads, with the buttons that still make sense
            try:
                await self.edit(ref, message_id, card)
            except PermanentFailure:
                log.debug("Telegram: could not update answered message %s", message_id)
            return
        try:
            if known is not None and not known[1]:
                await self.call(
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
                await self.call(
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
                await self.call(
                    "editMessageReplyMarkup",
                    lambda: bot.edit_message_reply_markup(
                        chat_id=chat_id, message_id=int(message_id), reply_markup=None
                    ),
                )
        except PermanentFailure:
            # "message is not modified", or too old to edit: the answer stands anyway
            log.debug("Telegram: could not mark message %s as answered", message_id)

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        bot = self.bot
        text = split_text(plain_text(message))[0]
        markup = keyboard(message)
        try:
            await self.call(
                "editMessageText",
                lambda: bot.edit_message_text(
                    self.html(text),
                    chat_id=ref.chat_id,
                    message_id=int(message_id),
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                ),
            )
        except PermanentFailure as exc:
            if "not modified" not in str(exc):
                raise

    def remember(
        self, chat_id: str, message_id: str, text: str | None, caption: str | None
    ) -> None:
        """The HTML of a message with buttons (its text, or else its caption), for its echo."""
        key = (chat_id, message_id)
        self._texts[key] = (text, False) if text is not None else (caption or "", True)
        self._texts.move_to_end(key)
        while len(self._texts) > REMEMBERED_TEXTS:
            self._texts.popitem(last=False)


def _is_described_photo(attachment: Attachment) -> bool:
    """A picture with a text alternative: an invitation's photo."""
    return attachment.is_image and attachment.description is not None
