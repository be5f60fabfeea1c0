"""Matrix, with matrix-nio: direct chats (encrypted or not), reactions as buttons, files.

How it runs:

- Login once with the password; the access token and device id are kept in
  `store_path/credentials.json` beside nio's crypto store, so a restart is the same device
  (every password login would make a new one, and lose the encryption keys).
- The sync loop is ours, not `sync_forever`: each sync response is only *read* here (cheap)
  and turned into items on an asyncio queue; a consumer task hands them to the bot one by
  one. After the events of a sync come a checkpoint item carrying its `next_batch`, and the
  token is saved only when the consumer reaches it, so a crash never skips a message and a
  restart never handles one twice (the router's update log catches the rest).
- On the very first start the bot syncs once with full state and answers nothing of the
  history; invitations waiting then are accepted.
- Choices go out as a numbered list plus one reaction per choice on the bot's own message
  (the choice's emoji, or a keycap digit); a person taps a reaction, or types the number or
  the word.
- Encryption: nio's persistent store; the devices of the people the bot talks to are
  trusted on first use (TOFU, see MATRIX.md for the trade-off); a message the bot cannot
  decrypt gets a plain answer in the person's language saying what to do.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientConnectionError, ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    LocalProtocolError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomEncryptedAudio,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomEncryptedMedia,
    RoomEncryptedVideo,
    RoomMemberEvent,
    RoomMessage,
    RoomMessageAudio,
    RoomMessageFile,
    RoomMessageImage,
    RoomMessageMedia,
    RoomMessageNotice,
    RoomMessagesResponse,
    RoomMessageText,
    RoomMessageUnknown,
    RoomMessageVideo,
    RoomSendResponse,
    SendRetryError,
    SyncResponse,
    UploadResponse,
)
from nio.api import Api, MessageDirection
from nio.crypto.attachments import decrypt_attachment

from bot.i18n import catalogs
from bot.rate_limit import RateLimiter
from bot.settings import ConfigurationError, Settings
from bot.transports.base import (
    AmbiguousDelivery,
    DeliveryError,
    Dispatch,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
    TemporaryFailure,
)
from bot.transports.pacing import RequestGate
from conversations.i18n import N_, Translations
from conversations.messages import (
    ChatRef,
    ChoiceEcho,
    Inbound,
    Location,
    Media,
    MediaKind,
    OutMessage,
    Reaction,
    Sent,
)

log = logging.getLogger(__name__)

PLATFORM = "matrix"
KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
_GEO = re.compile(r"^geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")
_ENCRYPTED_REF = "#enc="
BACKFILL_PAGES = 5
UNDECRYPTABLE = N_(
    "I couldn't read your last message: it was encrypted with keys I don't have. "
    "Please send it again. If this keeps happening, start a new chat with me."
)

LanguageLookup = Callable[[ChatRef], Awaitable[str | None]]


@dataclass(frozen=True)
class MatrixConfig:
    homeserver: str
    user_id: str
    store_path: Path
    password: str | None = None
    # Encrypts the Olm/Megolm keys nio keeps in store_path; without it nio uses a fixed,
    # public default and only the folder's permissions protect the keys.
    store_key: str | None = None
    device_name: str = "Tæl mig med"
    rooms: tuple[str, ...] = ()
    max_retries: int = 3
    sync_timeout_ms: int = 30_000
    timeline_limit: int | None = None
    # A token made elsewhere (an admin tool, a test): used instead of a password login.
    access_token: str | None = None
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    next_batch: str


@dataclass(frozen=True, slots=True)
class _Undecryptable:
    ref: ChatRef
    event_id: str


_Item = Inbound | _Checkpoint | _Undecryptable


@dataclass
class _Credentials:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str

    @classmethod
    def load(cls, path: Path) -> _Credentials | None:
        try:
            data = json.loads(path.read_text())
            return cls(
                str(data["homeserver"]),
                str(data["user_id"]),
                str(data["device_id"]),
                str(data["access_token"]),
            )
        except (OSError, ValueError, KeyError):
            return None

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.__dict__, handle)
        tmp.replace(path)


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
        config.store_path.mkdir(parents=True, exist_ok=True)
        self._credentials_path = config.store_path / "credentials.json"
        self._token_path = config.store_path / "next_batch"
        retries = config.max_retries
        self.client = AsyncClient(
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
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._gate = RequestGate(limiter)
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()
        self._trusted: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> MatrixTransport:
        assert settings.matrix_homeserver
        assert settings.matrix_user_id
        password = settings.matrix_password
        return cls(
            MatrixConfig(
                homeserver=settings.matrix_homeserver.rstrip("/"),
                user_id=settings.matrix_user_id,
                store_path=settings.matrix_store_path,
                password=password.get_secret_value() if password else None,
                store_key=(
                    settings.matrix_store_key.get_secret_value()
                    if settings.matrix_store_key
                    else None
                ),
                device_name=settings.matrix_device_name,
                rooms=tuple(settings.matrix_rooms),
                max_retries=settings.matrix_max_retries,
                sync_timeout_ms=settings.matrix_sync_timeout_ms,
            ),
            translations=catalogs(),
            default_language=settings.default_language,
        )

    def pace_with(self, limiter: RateLimiter) -> None:
        """Every request that sends something takes its slot from `limiter` from now on."""
        self._gate.limiter = limiter

    @property
    def limiter(self) -> RateLimiter | None:
        return self._gate.limiter

    def set_language_lookup(self, lookup: LanguageLookup) -> None:
        """The app tells the transport how to find a person's language (for notices)."""
        self._language_of = lookup

    @property
    def user_id(self) -> str:
        return str(self.client.user_id or self.config.user_id)

    # -- running -------------------------------------------------------------------------

    async def run(self, dispatch: Dispatch) -> None:
        await self.login()
        consumer = asyncio.create_task(self._consume(dispatch), name="matrix-consumer")
        try:
            await self._sync_loop()
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
            await self.client.close()

    async def stop(self) -> None:
        self._stopping.set()

    async def login(self, *, with_password: bool = False) -> None:
        """Restore the kept login, or log in once with the password and keep it."""
        if self.client.access_token:
            return
        saved = None if with_password else _Credentials.load(self._credentials_path)
        if saved is not None and saved.user_id == self.config.user_id:
            self._restore(saved)
            log.info("matrix: restored login of %s (device %s)", saved.user_id, saved.device_id)
            return
        if self.config.access_token and self.config.device_id and not with_password:
            credentials = _Credentials(
                self.config.homeserver,
                self.config.user_id,
                self.config.device_id,
                self.config.access_token,
            )
        else:
            if not self.config.password:
                raise ConfigurationError(
                    "Matrix: no saved login and no TMM_MATRIX_PASSWORD for the first login"
                )
            response = await self.client.login(
                self.config.password, device_name=self.config.device_name
            )
            if not isinstance(response, LoginResponse):
                raise ConfigurationError(f"Matrix login failed: {response}")
            credentials = _Credentials(
                self.config.homeserver, response.user_id, response.device_id, response.access_token
            )
            log.info("matrix: logged in as %s, new device %s", response.user_id, response.device_id)
        credentials.save(self._credentials_path)
        if not self.client.access_token:
            self._restore(credentials)

    def _restore(self, credentials: _Credentials) -> None:
        """Take up the kept login; this opens nio's encryption store."""
        try:
            self.client.restore_login(
                credentials.user_id, credentials.device_id, credentials.access_token
            )
        except Exception as exc:
            raise ConfigurationError(
                f"Matrix: the encryption store in {self.config.store_path} could not be opened "
                f"({type(exc).__name__}). Was it made with another TMM_MATRIX_STORE_KEY?"
            ) from exc

    def _load_token(self) -> str | None:
        try:
            token = self._token_path.read_text().strip()
        except OSError:
            return None
        return token or None

    def _save_token(self, token: str) -> None:
        tmp = self._token_path.with_suffix(".tmp")
        tmp.write_text(token)
        tmp.replace(self._token_path)

    def _sync_filter(self) -> dict[str, Any] | None:
        if self.config.timeline_limit is None:
            return None
        return {"room": {"timeline": {"limit": self.config.timeline_limit}}}

    async def _sync_loop(self) -> None:
        since = self._load_token()
        first_ever = since is None
        response = await self._sync(since, full_state=True)
        if first_ever:
            log.info("matrix: first start; history is not answered")
            await self._handle_invites(response)
            self._save_token(response.next_batch)
        else:
            await self._read(response, since)
        for room in self.config.rooms:
            await self._join(room)
        self.ready.set()
        previous = response.next_batch
        while not self._stopping.is_set():
            response = await self._sync(previous)
            await self._read(response, previous)
            previous = response.next_batch

    async def _sync(self, since: str | None, *, full_state: bool = False) -> Any:
        """One sync plus the key work after it; network trouble is waited out, not fatal."""
        failures = 0
        while True:
            try:
                response = await self.client.sync(
                    timeout=0 if full_state else self.config.sync_timeout_ms,
                    since=since,
                    full_state=full_state or None,
                    sync_filter=self._sync_filter(),
                )
                if isinstance(response, SyncResponse):
                    await self._after_sync()
                    return response
                if getattr(response, "status_code", None) == "M_UNKNOWN_TOKEN":
                    await self._login_again(response)
                    continue
                log.warning("matrix: sync failed: %s", response)
            except (ClientError, TimeoutError) as exc:
                log.warning("matrix: sync failed: %r", exc)
            failures += 1
            await asyncio.sleep(min(60.0, 0.5 * 2**failures))

    async def _login_again(self, response: Any) -> None:
        """The kept token was revoked: log in with the password once more, or give up."""
        if not self.config.password:
            raise ConfigurationError(
                f"Matrix refused the bot's saved login ({response}); set TMM_MATRIX_PASSWORD "
                "so it can log in again"
            )
        log.warning("matrix: the saved login was revoked; logging in again with the password")
        self._credentials_path.unlink(missing_ok=True)
        self.client.access_token = ""
        self.client.store = None
        self.client.olm = None
        self.client.device_id = ""
        self._trusted.clear()
        await self.login(with_password=True)

    async def _after_sync(self) -> None:
        """Keys and to-device messages, as `sync_forever` would do them."""
        client = self.client
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    # -- reading a sync (quick: only queueing) -------------------------------------------

    async def _read(self, response: Any, since: str | None) -> None:
        await self._handle_invites(response)
        for room_id, info in response.rooms.join.items():
            room = self.client.rooms.get(room_id)
            if room is None:
                continue
            events = list(info.timeline.events)
            joined_at = self._own_join(events)
            if joined_at is not None:
                # Newly joined: no gap to fill. In a direct chat, what the person wrote
                # before the bot came is for the bot; in a community room it is not.
                if self._is_group(room):
                    events = events[joined_at + 1 :]
            elif info.timeline.limited and since is not None:
                log.warning(
                    "matrix: timeline of %s was limited (%d events); backfilling",
                    room_id,
                    len(events),
                )
                events = await self._backfill(room_id, info.timeline.prev_batch, since) + events
            for event in events:
                self._take(room, event)
            if any(isinstance(e, RoomMemberEvent) for e in events):
                await self._leave_if_alone(room)
        self._queue.put_nowait(_Checkpoint(response.next_batch))

    def _own_join(self, events: list[Any]) -> int | None:
        for index, event in enumerate(events):
            if (
                isinstance(event, RoomMemberEvent)
                and event.state_key == self.user_id
                and event.membership == "join"
                and (event.prev_membership or "leave") != "join"
            ):
                return index
        return None

    async def _backfill(self, room_id: str, start: str | None, until: str) -> list[Any]:
        """The events of a gap in a limited timeline, oldest first (a few pages at most)."""
        if start is None:
            return []
        found: list[Any] = []
        token = start
        for _ in range(BACKFILL_PAGES):
            page = await self.client.room_messages(
                room_id, start=token, end=until, direction=MessageDirection.back, limit=100
            )
            if not isinstance(page, RoomMessagesResponse) or not page.chunk:
                break
            found.extend(page.chunk)
            if not page.end or page.end == token:
                break
            token = page.end
        found.reverse()
        return found

    async def _handle_invites(self, response: Any) -> None:
        for room_id in response.rooms.invite:
            await self._join(room_id)

    async def _join(self, room: str) -> None:
        result = await self.client.join(room)
        if isinstance(result, ErrorResponse):
            log.warning("matrix: could not join %s: %s", room, result)
        else:
            log.info("matrix: joined %s", room)

    async def _leave_if_alone(self, room: MatrixRoom) -> None:
        others = [
            user for user in room.users if user != self.user_id and not room.users[user].invited
        ]
        if others or room.invited_count:
            return
        log.info("matrix: everyone else left %s; leaving too", room.room_id)
        await self.client.room_leave(room.room_id)
        await self.client.room_forget(room.room_id)

    def _take(self, room: MatrixRoom, event: Any) -> None:
        sender = getattr(event, "sender", None)
        if not sender or sender == self.user_id:
            return  # our own messages and our own choice reactions
        ref = ChatRef(PLATFORM, room.room_id, sender)
        if isinstance(event, MegolmEvent):
            log.warning("matrix: could not decrypt %s from %s", event.event_id, sender)
            self._queue.put_nowait(_Undecryptable(ref, event.event_id))
            return
        inbound = self.to_inbound(room, event)
        if inbound is None:
            return
        if self._is_group(room) and inbound.command is None and inbound.reaction is None:
            text = inbound.text or ""
            if not text.lstrip().startswith(("/", "!")):
                return  # in a community room, only commands and reactions are for the bot
        self._queue.put_nowait(inbound)

    def _is_group(self, room: MatrixRoom) -> bool:
        return bool(room.joined_count > 2 or room.room_id in self.config.rooms)

    def to_inbound(self, room: MatrixRoom, event: Any) -> Inbound | None:
        """A nio event as a neutral message, or None for what the bot does not handle."""
        sender = str(event.sender)
        ref = ChatRef(PLATFORM, room.room_id, sender)
        name = room.user_name(sender) or None
        event_id = str(event.event_id)
        if isinstance(event, ReactionEvent):
            return Inbound(
                ref,
                event_id,
                reaction=Reaction(message_id=event.reacts_to, key=event.key),
                sender_name=name,
                raw=event,
            )
        if not isinstance(event, RoomMessage):
            return None
        content: dict[str, Any] = event.source.get("content", {})
        relates = content.get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace":
            return None  # an edit of an earlier message; the first version was handled
        if isinstance(event, RoomMessageNotice):
            return None  # notices are what bots send; never answer them
        if isinstance(event, RoomMessageText):
            text = _strip_reply_fallback(str(event.body))
            return Inbound(ref, event_id, text=text, sender_name=name, raw=event)
        media = _media(event, content)
        if media is not None:
            return Inbound(ref, event_id, media=media, sender_name=name, raw=event)
        if isinstance(event, RoomMessageUnknown) and event.msgtype == "m.location":
            location = parse_geo_uri(str(content.get("geo_uri", "")), content.get("body"))
            if location is None:
                return None
            return Inbound(ref, event_id, location=location, sender_name=name, raw=event)
        return None

    # -- handing over (the slow part, one at a time) ---------------------------------------

    async def _consume(self, dispatch: Dispatch) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, _Checkpoint):
                    self._save_token(item.next_batch)
                elif isinstance(item, _Undecryptable):
                    await self._explain_undecryptable(item)
                else:
                    await self._trust_sender(item.ref)
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

    async def _trust_sender(self, ref: ChatRef) -> None:
        """Trust on first use: the devices a person has when they first talk to the bot."""
        room = self.client.rooms.get(ref.chat_id)
        if room is None or not room.encrypted or self.client.olm is None:
            return
        if ref.user_id in self._trusted:
            return
        if self.client.should_query_keys:
            await self.client.keys_query()
        for device in self.client.device_store.active_user_devices(ref.user_id):
            if not device.verified and not device.blacklisted:
                self.client.verify_device(device)
        self._trusted.add(ref.user_id)

    async def _explain_undecryptable(self, item: _Undecryptable) -> None:
        language = self._default_language
        if self._language_of is not None:
            language = await self._language_of(item.ref) or language
        translations = self._translations or catalogs()
        text = translations.get(language).gettext(UNDECRYPTABLE)
        content = {"msgtype": "m.notice", "body": text, **_html(text)}
        try:
            await self._send_plain(item.ref.chat_id, "m.room.message", content)
        except DeliveryError:
            log.warning("matrix: could not explain an undecryptable message", exc_info=True)

    # -- sending ---------------------------------------------------------------------------

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        room_id = ref.chat_id
        first_id: str | None = None
        text = render_text(message)
        if text.strip() or (message.attachment is None and message.location is None):
            content = {"msgtype": "m.text", "body": text, **_html(text)}
            first_id = await self._room_send(room_id, "m.room.message", content)
        if message.attachment is not None:
            event_id = await self._send_attachment(room_id, message)
            first_id = first_id or event_id
        if message.location is not None:
            loc = message.location
            content = {
                "msgtype": "m.location",
                "body": loc.title or f"{loc.latitude:.5f}, {loc.longitude:.5f}",
                "geo_uri": f"geo:{loc.latitude},{loc.longitude}",
            }
            event_id = await self._room_send(room_id, "m.room.message", content)
            first_id = first_id or event_id
        if first_id is not None:
            for key in reaction_keys(message):
                try:
                    await self._room_send(
                        room_id,
                        "m.reaction",
                        {
                            "m.relates_to": {
                                "rel_type": "m.annotation",
                                "event_id": first_id,
                                "key": key,
                            }
                        },
                    )
                except DeliveryError:
                    log.warning("matrix: could not add reaction %s", key, exc_info=True)
        return Sent(first_id)

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        """Nothing: the person's own reaction (or typed answer) already shows the choice."""
        return None

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        text = render_text(message)
        new = {"msgtype": "m.text", "body": text, **_html(text)}
        content = {
            "msgtype": "m.text",
            "body": f"* {text}",
            "m.new_content": new,
            "m.relates_to": {"rel_type": "m.replace", "event_id": message_id},
        }
        await self._room_send(ref.chat_id, "m.room.message", content)

    async def _send_attachment(self, room_id: str, message: OutMessage) -> str:
        attachment = message.attachment
        assert attachment is not None
        room = self.client.rooms.get(room_id)
        encrypted = bool(room is not None and room.encrypted)
        content_bytes = attachment.content
        async with self._gate.slot():
            try:
                upload, keys = await self.client.upload(
                    lambda _a, _b: content_bytes,
                    content_type=attachment.mime_type,
                    filename=attachment.filename,
                    encrypt=encrypted,
                    filesize=len(content_bytes),
                )
            except (ClientConnectionError, ClientError) as exc:
                raise TemporaryFailure(str(exc)) from exc
            except TimeoutError as exc:
                raise TemporaryFailure(f"upload timed out: {exc}") from exc
            if not isinstance(upload, UploadResponse):
                raise _delivery_error(upload)
        msgtype = "m.image" if attachment.is_image else "m.file"
        info = {"mimetype": attachment.mime_type, "size": len(content_bytes)}
        content: dict[str, Any] = {
            "msgtype": msgtype,
            "body": attachment.filename,
            "filename": attachment.filename,
            "info": info,
        }
        if encrypted and keys is not None:
            content["file"] = {**keys, "url": upload.content_uri, "mimetype": attachment.mime_type}
        else:
            content["url"] = upload.content_uri
        return await self._room_send(room_id, "m.room.message", content)

    async def _room_send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        async with self._gate.slot():
            try:
                response = await self.client.room_send(
                    room_id, event_type, content, ignore_unverified_devices=True
                )
            except LocalProtocolError as exc:
                # nio says this when it does not (yet) know the room: just joined and not
                # synced, or left. Only the first is worth retrying, but calling it "blocked"
                # would stop every message to the person for good, so it is retried and
                # then fails.
                raise TemporaryFailure(f"{room_id}: {exc}") from exc
            except SendRetryError as exc:
                raise TemporaryFailure(str(exc)) from exc
            except TimeoutError as exc:
                raise AmbiguousDelivery(f"{room_id}: timed out") from exc
            except (ClientConnectionError, ClientError) as exc:
                raise TemporaryFailure(str(exc)) from exc
            if isinstance(response, RoomSendResponse):
                return str(response.event_id)
            raise _delivery_error(response)

    async def _send_plain(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Sent unencrypted even in an encrypted room (for the undecryptable notice)."""
        method, path, data = Api.room_send(
            self.client.access_token, room_id, event_type, content, os.urandom(8).hex()
        )
        async with self._gate.slot():
            try:
                response = await self.client._send(RoomSendResponse, method, path, data, (room_id,))
            except TimeoutError as exc:
                raise AmbiguousDelivery(f"{room_id}: timed out") from exc
            except (ClientConnectionError, ClientError) as exc:
                raise TemporaryFailure(str(exc)) from exc
            if isinstance(response, RoomSendResponse):
                return str(response.event_id)
            raise _delivery_error(response)

    # -- files people sent ---------------------------------------------------------------

    async def fetch(self, file_ref: str) -> bytes:
        """`MediaFetcher`: the bytes of a photo or voice note, for the event's snap-log."""
        return await self.download(file_ref)

    async def download(self, file_ref: str) -> bytes:
        """The bytes of a file a person sent (decrypted when it came in an encrypted room)."""
        mxc, _, secret = file_ref.partition(_ENCRYPTED_REF)
        response = await self.client.download(mxc=mxc)
        body = getattr(response, "body", None)
        if not isinstance(body, bytes):
            raise TemporaryFailure(f"could not download {mxc}: {response}")
        if not secret:
            return body
        keys = json.loads(base64.urlsafe_b64decode(secret.encode()))
        return bytes(
            decrypt_attachment(body, keys["key"]["k"], keys["hashes"]["sha256"], keys["iv"])
        )


# -- pure helpers (tested without a server) ------------------------------------------------


def reaction_keys(message: OutMessage) -> list[str]:
    """One reaction per choice: its emoji, or the keycap digit of its number."""
    keys: list[str] = []
    for number, choice in enumerate(message.choices, start=1):
        key = choice.emoji or (KEYCAPS[number - 1] if number <= len(KEYCAPS) else None)
        if key and key not in keys:
            keys.append(key)
    return keys


def render_text(message: OutMessage) -> str:
    """The text with the choices as a short numbered list."""
    if not message.choices:
        return message.text
    lines = [message.text, ""] if message.text else []
    for number, choice in enumerate(message.choices, start=1):
        emoji = f"{choice.emoji} " if choice.emoji else ""
        lines.append(f"{number}. {emoji}{choice.label}")
    return "\n".join(lines)


def _html(text: str) -> dict[str, str]:
    """A sanitised `formatted_body`: our text escaped, line breaks kept."""
    return {
        "format": "org.matrix.custom.html",
        "formatted_body": html.escape(text).replace("\n", "<br>"),
    }


def parse_geo_uri(uri: str, title: object = None) -> Location | None:
    match = _GEO.match(uri.strip())
    if match is None:
        return None
    latitude, longitude = float(match.group(1)), float(match.group(2))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    label = (
        str(title) if isinstance(title, str) and title and not title.startswith("geo:") else None
    )
    return Location(latitude, longitude, label)


def _strip_reply_fallback(body: str) -> str:
    """Drop the quoted `> ...` lines clients put before a reply."""
    lines = body.splitlines()
    if not lines or not lines[0].startswith("> "):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    return "\n".join(lines[index:]).strip() or body


_MEDIA_KINDS: tuple[tuple[tuple[type, ...], MediaKind], ...] = (
    ((RoomMessageImage, RoomEncryptedImage), MediaKind.PHOTO),
    ((RoomMessageAudio, RoomEncryptedAudio), MediaKind.VOICE),
    (
        (RoomMessageFile, RoomEncryptedFile, RoomMessageVideo, RoomEncryptedVideo),
        MediaKind.DOCUMENT,
    ),
)


def _media(event: Any, content: dict[str, Any]) -> Media | None:
    if not isinstance(event, RoomMessageMedia | RoomEncryptedMedia):
        return None
    kind = next(
        (kind for types, kind in _MEDIA_KINDS if isinstance(event, types)), MediaKind.DOCUMENT
    )
    info = content.get("info") or {}
    file_ref = str(event.url)
    if isinstance(event, RoomEncryptedMedia):
        secret = {"key": event.key, "hashes": event.hashes, "iv": event.iv}
        encoded = base64.urlsafe_b64encode(json.dumps(secret).encode()).decode()
        file_ref = f"{file_ref}{_ENCRYPTED_REF}{encoded}"
    filename = content.get("filename")
    body = str(content.get("body") or "")
    caption = body if filename and body and body != filename else None
    size = info.get("size")
    return Media(
        kind=kind,
        file_ref=file_ref,
        mime_type=info.get("mimetype") or getattr(event, "mimetype", None),
        size=int(size) if isinstance(size, int) else None,
        caption=caption,
    )


def _delivery_error(response: Any) -> DeliveryError:
    code = getattr(response, "status_code", None)
    message = str(response)
    status = getattr(getattr(response, "transport_response", None), "status", None)
    if code in ("M_LIMIT_EXCEEDED", 429) or status == 429:
        retry_after = getattr(response, "retry_after_ms", None) or 5000
        return RetryLater(retry_after / 1000, message)
    if code == "M_UNKNOWN_TOKEN" or status == 401:
        return TemporaryFailure(f"the bot's Matrix login is no longer valid: {message}")
    if code in ("M_FORBIDDEN", "M_NOT_FOUND") or status in (403, 404):
        return RecipientBlocked(message)
    if isinstance(status, int) and status >= 500:
        return TemporaryFailure(message)
    if isinstance(status, int) and 400 <= status < 500:
        return PermanentFailure(message)
    if code:
        return PermanentFailure(message)
    return TemporaryFailure(message)
