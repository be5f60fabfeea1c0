"""The Matrix transport, with matrix-nio: direct chats (encrypted or not), reactions as
buttons, files.

- Login once with the password; the access token and device id are kept beside nio's
  crypto store, so a restart is the same device (login.py, store.py).
- The sync loop reads each sync into a queue; a consumer task here hands the items to the
  bot one by one and saves the sync position once a sync's events are all handled
  (sync.py).
- Choices go out as a numbered list plus one reaction per choice on the bot's own message
  (rendering.py, sending.py); every request takes its slot from the platform's rate
  limiter right before it goes.
- Encryption: nio's persistent store; the devices of the people the bot talks to are
  trusted on first use (trust.py; see MATRIX.md for the trade-off); a message the bot
  cannot decrypt gets a plain answer in the person's language saying what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nio import AsyncClient, AsyncClientConfig, MatrixRoom

from bot.i18n import catalogs
from bot.rate_limit import RateLimiter
from bot.settings import Settings
from bot.transports.base import DeliveryError, Dispatch
from bot.transports.matrix.config import MatrixConfig
from bot.transports.matrix.inbound import PLATFORM, to_inbound
from bot.transports.matrix.login import Login
from bot.transports.matrix.media import download
from bot.transports.matrix.rendering import formatted_body
from bot.transports.matrix.sending import MatrixSender
from bot.transports.matrix.store import SyncToken, keep_private
from bot.transports.matrix.sync import Checkpoint, Item, SyncLoop, Undecryptable
from bot.transports.matrix.trust import TrustOnFirstUse
from bot.transports.pacing import RequestGate
from conversations.core.i18n import N_, Translations
from conversations.core.messages import ChatRef, ChoiceEcho, Inbound, OutMessage, Sent

log = logging.getLogger(__name__)

UNDECRYPTABLE = N_(
    "I couldn't read your last message: it was encrypted with keys I don't have. "
    "Please send it again. If this keeps happening, start a new chat with me."
)

LanguageLookup = Callable[[ChatRef], Awaitable[str | None]]


def _client(config: MatrixConfig) -> AsyncClient:
    retries = config.max_retries
    client = AsyncClient(
        config.homeserver,
        config.user_id,
        store_path=str(config.store_path),
        config=AsyncClientConfig(
            max_limit_exceeded=retries,
            max_timeouts=retries,
            encryption_enabled=True,
            store_sync_tokens=False,
            request_timeout=30,
            **({"pickle_key": config.store_key} if config.store_key else {}),
        ),
    )
    if not config.store_key:
        log.warning(
            "matrix: TMM_MATRIX_STORE_KEY is not set; the encryption keys in %s are "
            "protected only by the folder's permissions",
            config.store_path,
        )
    return client


class MatrixTransport:
    platform = PLATFORM

    def __init__(
        self,
        config: MatrixConfig,
        *,
        translations: Translations | None = None,
        default_language: str = "da",
        limiter: RateLimiter | None = None,
    ) -> None:
        """`limiter`: the platform's rate limiter (or later `pace_with`); without one,
        requests go unpaced."""
        self.config = config
        self._translations = translations
        self._default_language = default_language
        self._language_of: LanguageLookup | None = None
        keep_private(config.store_path)
        self.client = _client(config)
        self._login = Login(self.client, config, config.store_path / "credentials.json")
        self._token = SyncToken(config.store_path / "next_batch")
        self._trust = TrustOnFirstUse(self.client)
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._sync = SyncLoop(
            self.client,
            config,
            login=self._login,
            token=self._token,
            trust=self._trust,
            queue=self._queue,
        )
        self.ready = self._sync.ready
        self._sender = MatrixSender(self.client, RequestGate(limiter))

    @classmethod
    def from_settings(cls, settings: Settings) -> MatrixTransport:
        return cls(
            MatrixConfig.from_settings(settings),
            translations=catalogs(),
            default_language=settings.default_language,
        )

    def pace_with(self, limiter: RateLimiter) -> None:
        """Every request that sends something takes its slot from `limiter` from now on."""
        self._sender.gate.limiter = limiter

    @property
    def limiter(self) -> RateLimiter | None:
        return self._sender.gate.limiter

    def set_language_lookup(self, lookup: LanguageLookup) -> None:
        """The app tells the transport how to find a person's language (for notices)."""
        self._language_of = lookup

    @property
    def user_id(self) -> str:
        return self._sync.user_id

    # -- running -------------------------------------------------------------------------

    async def run(self, dispatch: Dispatch) -> None:
        await self.login()
        consumer = asyncio.create_task(self._consume(dispatch), name="matrix-consumer")
        try:
            await self._sync.run()
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
            await self.client.close()

    async def stop(self) -> None:
        self._sync.stopping.set()

    async def login(self, *, with_password: bool = False) -> None:
        """Restore the kept login, or log in once with the password and keep it."""
        await self._login.login(with_password=with_password)
        keep_private(self.config.store_path)  # nio has opened (perhaps made) its database

    def to_inbound(self, room: MatrixRoom, event: Any) -> Inbound | None:
        """A nio event as a neutral message, or None for what the bot does not handle."""
        return to_inbound(room, event)

    # -- handing over (the slow part, one at a time) ---------------------------------------

    async def _consume(self, dispatch: Dispatch) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, Checkpoint):
                    self._token.save(item.next_batch)
                elif isinstance(item, Undecryptable):
                    await self._explain_undecryptable(item)
                else:
                    await self._trust.trust_sender(item.ref)
                    await dispatch(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("matrix: failed to handle %r", item)
            finally:
                self._queue.task_done()

    async def drain(self) -> None:
        """Wait until everything received so far has been handled (for tests)."""
        await self._queue.join()

    async def _explain_undecryptable(self, item: Undecryptable) -> None:
        language = self._default_language
        if self._language_of is not None:
            language = await self._language_of(item.ref) or language
        translations = self._translations or catalogs()
        text = translations.get(language).gettext(UNDECRYPTABLE)
        content = {"msgtype": "m.notice", "body": text, **formatted_body(text)}
        try:
            await self._sender.send_plain(item.ref.chat_id, "m.room.message", content)
        except DeliveryError:
            log.warning("matrix: could not explain an undecryptable message", exc_info=True)

    # -- sending ---------------------------------------------------------------------------

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        return await self._sender.send(ref, message)

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        """Nothing: the person's own reaction (or typed answer) already shows the choice."""
        return None

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        await self._sender.edit(ref, message_id, message)

    # -- files people sent ---------------------------------------------------------------

    async def fetch(self, file_ref: str) -> bytes:
        """`MediaFetcher`: the bytes of a photo or voice note, for the event's snap-log."""
        return await self.download(file_ref)

    async def download(self, file_ref: str) -> bytes:
        """The bytes of a file a person sent (decrypted when it came in an encrypted room)."""
        return await download(self.client, file_ref, max_bytes=self.config.max_download_bytes)
