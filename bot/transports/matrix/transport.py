"""The Matrix transport, with matrix-nio: direct chats (encrypted or not), reactions as
buttons, files.

- Login once with the password; the access token and device id are kept beside nio's
  crypto store, so a restart is the same device (login.py, store.py).
- The sync loop reads each sync into a queue; a consumer task here hands each sync's
  events to the intake as one batch (kept in the inbox, then handled in the background:
  rooms at the same time, one room in order) and saves the sync position once the batch is
  kept (sync.py, bot/intake.py).
- Community rooms get only a short public pointer; the conversation goes to the person's
  direct chat (community.py).
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
from bot.transports.base import DeliveryError, Dispatch, KeepingIntake
from bot.transports.matrix.community import POINTER, CommunityRooms, matrix_to
from bot.transports.matrix.config import MatrixConfig
from bot.transports.matrix.inbound import PLATFORM, to_inbound
from bot.transports.matrix.login import Login
from bot.transports.matrix.media import download
from bot.transports.matrix.rendering import formatted_body
from bot.transports.matrix.sending import MatrixSender
from bot.transports.matrix.store import SyncToken, keep_private
from bot.transports.matrix.sync import Checkpoint, FromCommunity, Item, SyncLoop, Undecryptable
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
            # a 429 comes back to the sender, which pauses every send for it (sending.py)
            max_limit_exceeded=0,
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
    # Every request of an outbox row carries a transaction id kept with the row (sending.py)
    deduplicates_sends = True

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
        self.community = CommunityRooms(self.client, config.rooms)
        self._sync = SyncLoop(
            self.client,
            config,
            login=self._login,
            token=self._token,
            trust=self._trust,
            queue=self._queue,
            community=self.community,
        )
        self.ready = self._sync.ready
        self._sender = MatrixSender(
            self.client, RequestGate(limiter), self.community, retries=config.max_retries
        )
        self._sync_task: asyncio.Task[None] | None = None
        self._intake: KeepingIntake | None = None

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
        """Until `stop()`: then the long-poll is cancelled at once, what was read is handed
        over, and the connection stays open for the replies (`close()` lets go of it)."""
        self._intake = dispatch if isinstance(dispatch, KeepingIntake) else None
        stopped = False
        try:
            await self.login()
        except BaseException:
            await self.client.close()
            raise
        consumer = asyncio.create_task(self._consume(dispatch), name="matrix-consumer")
        self._sync_task = asyncio.create_task(self._sync.run(), name="matrix-sync")
        try:
            try:
                await self._sync_task
            except asyncio.CancelledError:
                if not self._sync.stopping.is_set():
                    raise
            stopped = True
            await self._queue.join()  # a sync cut short has no checkpoint: it comes again
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
            if not stopped:
                await self.client.close()

    async def stop(self) -> None:
        """Stop receiving now: the long-poll is cancelled rather than waited out."""
        self._sync.stopping.set()
        if self._sync_task is not None:
            self._sync_task.cancel()

    async def close(self) -> None:
        """Let go of the connection once nothing more is sent (`Closable`)."""
        await self.client.close()

    async def login(self, *, with_password: bool = False) -> None:
        """Restore the kept login, or log in once with the password and keep it."""
        await self._login.login(with_password=with_password)
        keep_private(self.config.store_path)  # nio has opened (perhaps made) its database

    def to_inbound(self, room: MatrixRoom, event: Any) -> Inbound | None:
        """A nio event as a neutral message, or None for what the bot does not handle."""
        return to_inbound(room, event)

    # -- handing over: a sync's events as one batch ---------------------------------------

    async def _consume(self, dispatch: Dispatch) -> None:
        batch: list[Inbound] = []
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, Checkpoint):
                    # Kept (or handled) before the token moves on: a crash never skips one.
                    # If keeping fails, the batch waits for the next checkpoint.
                    await self._hand_over(dispatch, batch)
                    batch = []
                    # off the event loop: replacing the file waits for the disk (ext4
                    # flushes a file renamed over another); on a busy machine that held
                    # every send and reply up for 1.7 of the bot's 8.5 s on the loop in a
                    # 10-person encrypted onboarding (89 saves, up to 27 ms each)
                    await asyncio.to_thread(self._token.save, item.next_batch)
                elif isinstance(item, Undecryptable):
                    await self._explain_undecryptable(item)
                elif isinstance(item, FromCommunity):
                    moved = await self._from_community(item.inbound)
                    if moved is not None:
                        batch.append(moved)
                else:
                    batch.append(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("matrix: failed to handle %r", item)
            finally:
                self._queue.task_done()

    async def _hand_over(self, dispatch: Dispatch, batch: list[Inbound]) -> None:
        for ref in dict.fromkeys(inbound.ref for inbound in batch):
            await self._trust.trust_sender(ref)
        if isinstance(dispatch, KeepingIntake):
            await dispatch.receive(PLATFORM, batch)
            return
        for inbound in batch:
            try:
                await dispatch(inbound)
            except Exception:
                log.exception("matrix: failed to handle %r", inbound)

    async def _from_community(self, inbound: Inbound) -> Inbound | None:
        """A command typed in a community room: a short public pointer there, and the
        command handed over as if typed in the person's direct chat."""
        user_id = inbound.ref.user_id
        direct = await self.community.direct_chat(user_id, self.user_id)
        language = self._default_language
        if self._language_of is not None:
            language = await self._language_of(inbound.ref) or language
        translations = self._translations or catalogs()
        text = translations.get(language).gettext(POINTER).format(link=matrix_to(self.user_id))
        content = {"msgtype": "m.notice", "body": text, **formatted_body(text)}
        try:
            await self._sender.room_send(inbound.ref.chat_id, "m.room.message", content)
        except DeliveryError:
            log.warning("matrix: could not point %s to a direct chat", user_id, exc_info=True)
        return None if direct is None else CommunityRooms.moved(inbound, direct)

    async def drain(self) -> None:
        """Wait until everything received so far has been handled (for tests)."""
        await self._queue.join()
        if self._intake is not None:
            await self._intake.finish()

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
        """The person's own reaction (or typed answer) already shows the choice; an answered
        invitation is edited to read as it now is (its answer, places, other choices)."""
        if echo.replacement is not None and echo.prompt_message_id:
            try:
                await self._sender.edit(ref, echo.prompt_message_id, echo.replacement)
            except DeliveryError:
                log.debug("matrix: could not update answered message %s", echo.prompt_message_id)

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        await self._sender.edit(ref, message_id, message)

    # -- files people sent ---------------------------------------------------------------

    async def fetch(self, file_ref: str) -> bytes:
        """`MediaFetcher`: the bytes of a photo or voice note, for the event's snap-log."""
        return await self.download(file_ref)

    async def download(self, file_ref: str) -> bytes:
        """The bytes of a file a person sent (decrypted when it came in an encrypted room)."""
        return await download(self.client, file_ref, max_bytes=self.config.max_download_bytes)
