"""People and a bot on a real homeserver, for end-to-end tests (reusable by later features).

    citizen = await Citizen.connect(synapse, "anna", tmp_path)
    room = await citizen.open_dm(bot_user_id, encrypted=True)
    await citizen.say(room, "/start")
    message = await citizen.next_from_bot(room)      # waits, bounded
    await citizen.react(room, message.event_id, "🇩🇰")

`RunningBot` runs a `BotApp` with the Matrix transport in the background and can be
stopped and started again on the same database and store (a restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    MegolmEvent,
    ReactionEvent,
    RoomCreateResponse,
    RoomMessage,
    RoomRedactResponse,
    RoomSendResponse,
    SyncResponse,
)
from nio.api import Api
from nio.crypto.attachments import decrypt_attachment

from bot.app import BotApp
from bot.demo import seed_starter_topics
from bot.settings import Settings
from bot.transports.base import Transport
from bot.transports.matrix import MatrixConfig, MatrixTransport
from conversations.core.messages import Inbound
from storage.clock import Clock
from tests.synapse import Synapse

WAIT_SECONDS = 60.0


@dataclass
class BotMessage:
    room_id: str
    event_id: str
    content: dict[str, Any]
    reactions: list[str] = field(default_factory=list)
    sender: str = ""
    edits: int = 0  # how often the bot put a new text in its place (m.replace)

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))

    @property
    def msgtype(self) -> str:
        return str(self.content.get("msgtype", ""))


def matrix_config(synapse: Synapse, folder: Path, request: Any, **changes: Any) -> MatrixConfig:
    """A bot account of its own for one test (exempt from rate limits), with its token."""
    name = f"bot{abs(hash(request.node.nodeid)) % 1_000_000}"
    account = synapse.register(name)
    admin = synapse.register("admin", admin=True)
    synapse.override_ratelimit(admin, account.user_id)
    config = MatrixConfig(
        homeserver=synapse.url,
        user_id=account.user_id,
        store_path=folder / "matrix-store",
        store_key="end-to-end test passphrase",
        access_token=account.access_token,
        device_id=account.device_id,
        sync_timeout_ms=1000,
    )
    return replace(config, **changes)


class Citizen:
    """A person with their own nio client, device and crypto store."""

    def __init__(self, client: AsyncClient, bot_user_id: str | None = None) -> None:
        self.client = client
        self.bot_user_id = bot_user_id
        self.from_bot: list[BotMessage] = []
        self._seen: set[str] = set()
        self._joining: set[str] = set()
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self.syncs = 0
        self.sync_errors: list[str] = []

    @classmethod
    async def connect(cls, synapse: Synapse, localpart: str, folder: Path) -> Citizen:
        user = synapse.register(localpart)
        store = folder / f"store-{localpart}"
        store.mkdir(parents=True, exist_ok=True)
        client = AsyncClient(
            synapse.url,
            user.user_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, max_limit_exceeded=3),
        )
        client.restore_login(user.user_id, user.device_id, user.access_token)
        citizen = cls(client)
        await citizen._sync(wait_ms=0)
        citizen._task = asyncio.create_task(citizen._loop())
        return citizen

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def _loop(self) -> None:
        while True:
            try:
                await self._sync(wait_ms=1000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a loaded machine: a timeout, a key race; sync again
                self.sync_errors.append(repr(exc))
                await asyncio.sleep(0.2)

    async def _sync(self, wait_ms: int) -> None:
        client = self.client
        response = await client.sync(timeout=wait_ms)
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        if not isinstance(response, SyncResponse):
            return
        for room_id in response.rooms.invite:  # a direct chat the bot opened, a shared room
            if room_id not in self._joining:
                self._joining.add(room_id)
                await client.join(room_id)
        for room_id, info in response.rooms.join.items():
            for event in info.timeline.events:
                self._record(room_id, event)
        async with self._changed:
            self.syncs += 1
            self._changed.notify_all()

    def _record(self, room_id: str, event: Any) -> None:
        sender = getattr(event, "sender", None)
        if sender is None or sender == self.user_id:
            return
        if event.event_id in self._seen:
            return
        self._seen.add(event.event_id)
        if isinstance(event, MegolmEvent):  # the room key never came: say so if a wait fails
            self.sync_errors.append(f"could not decrypt {event.event_id} from {sender}")
        elif isinstance(event, ReactionEvent):
            for message in self.from_bot:
                if message.event_id == event.reacts_to:
                    message.reactions.append(event.key)
        elif isinstance(event, RoomMessage) or event.source.get("type") == "m.room.message":
            content = dict(event.source.get("content", {}))
            if "m.new_content" in content:
                replaced = (content.get("m.relates_to") or {}).get("event_id")
                for message in self.from_bot:
                    if message.event_id == replaced:
                        message.content = dict(content["m.new_content"])
                        message.edits += 1
                return
            self.from_bot.append(BotMessage(room_id, event.event_id, content, sender=sender))

    async def wait_until(self, check: Callable[[], bool], what: str) -> None:
        async def waiting() -> None:
            async with self._changed:
                await self._changed.wait_for(check)

        try:
            await asyncio.wait_for(waiting(), WAIT_SECONDS)
        except TimeoutError:
            errors = f"; sync errors: {self.sync_errors}" if self.sync_errors else ""
            raise AssertionError(f"{self.user_id} waited in vain for {what}{errors}") from None

    # -- doing things ----------------------------------------------------------------------

    async def open_dm(self, bot_user_id: str, *, encrypted: bool, wait: bool = True) -> str:
        self.bot_user_id = bot_user_id
        initial_state = []
        if encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        response = await self.client.room_create(
            is_direct=True, invite=[bot_user_id], initial_state=initial_state
        )
        assert isinstance(response, RoomCreateResponse), response
        room_id = str(response.room_id)
        if not wait:
            return room_id

        def joined() -> bool:
            room = self.client.rooms.get(room_id)
            return (
                room is not None
                and bot_user_id in room.users
                and not (room.users[bot_user_id].invited)
            )

        await self.wait_until(joined, f"the bot to join {room_id}")
        return room_id

    async def say(self, room_id: str, text: str) -> str:
        return await self._send(room_id, "m.room.message", {"msgtype": "m.text", "body": text})

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        return await self._send(room_id, "m.reaction", content)

    async def take_back(self, room_id: str, reaction_event_id: str) -> None:
        """Remove one's own reaction, as Element does when it is tapped again."""
        response = await self.client.room_redact(room_id, reaction_event_id)
        assert isinstance(response, RoomRedactResponse), response

    async def edited(self, message: BotMessage, edits: int) -> BotMessage:
        await self.wait_until(
            lambda: message.edits >= edits, f"{edits} edit(s) of {message.body[:30]!r}"
        )
        return message

    async def _send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        response = await self.client.room_send(
            room_id, event_type, content, ignore_unverified_devices=True
        )
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def send_file(
        self, room_id: str, data: bytes, *, mime_type: str, filename: str, msgtype: str
    ) -> str:
        encrypted = bool(self.client.rooms[room_id].encrypted)
        upload, keys = await self.client.upload(
            lambda _a, _b: data,
            content_type=mime_type,
            filename=filename,
            encrypt=encrypted,
            filesize=len(data),
        )
        content: dict[str, Any] = {
            "msgtype": msgtype,
            "body": filename,
            "info": {"mimetype": mime_type, "size": len(data)},
        }
        if encrypted:
            content["file"] = {**keys, "url": upload.content_uri}
        else:
            content["url"] = upload.content_uri
        return await self._send(room_id, "m.room.message", content)

    async def send_location(self, room_id: str, latitude: float, longitude: float) -> str:
        content = {
            "msgtype": "m.location",
            "body": "Skoven",
            "geo_uri": f"geo:{latitude},{longitude};u=10",
        }
        return await self._send(room_id, "m.room.message", content)

    async def send_undecryptable(self, room_id: str) -> str:
        """An encrypted event with a session the bot never got keys for."""
        content = {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgAEnB4bm90IGEgcmVhbCBzZXNzaW9u",
            "sender_key": "bm90IGEgcmVhbCBrZXk",
            "session_id": "bm90LWEtcmVhbC1zZXNzaW9u",
            "device_id": self.client.device_id,
        }
        method, path, data = Api.room_send(
            self.client.access_token, room_id, "m.room.encrypted", content, "undecryptable-1"
        )
        response = await self.client._send(RoomSendResponse, method, path, data, (room_id,))
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def download(self, message: BotMessage) -> bytes:
        content = message.content
        if "file" in content:
            file = content["file"]
            response = await self.client.download(mxc=file["url"])
            return bytes(
                decrypt_attachment(
                    response.body, file["key"]["k"], file["hashes"]["sha256"], file["iv"]
                )
            )
        response = await self.client.download(mxc=content["url"])
        return bytes(response.body)

    # -- reading the bot -------------------------------------------------------------------

    def messages_in(self, room_id: str) -> list[BotMessage]:
        return [m for m in self.from_bot if m.room_id == room_id]

    async def replies(self, room_id: str, after: int, count: int = 1) -> list[BotMessage]:
        """Wait for `count` bot messages in the room after the first `after` ones."""
        await self.wait_until(
            lambda: len(self.messages_in(room_id)) >= after + count,
            f"{count} message(s) from the bot after #{after}",
        )
        return self.messages_in(room_id)[after:]

    async def ask(self, room_id: str, text: str, count: int = 1) -> list[BotMessage]:
        before = len(self.messages_in(room_id))
        await self.say(room_id, text)
        return await self.replies(room_id, before, count)

    async def reactions_on(self, message: BotMessage, count: int) -> list[str]:
        await self.wait_until(
            lambda: len(message.reactions) >= count, f"{count} reactions on {message.body[:30]!r}"
        )
        return message.reactions

    async def settled(self, bot: RunningBot | CollectingTransport) -> None:
        """Let the bot handle everything it has received, then sync once more."""
        await bot.transport.drain()
        await self._sync_once()

    async def _sync_once(self) -> None:
        before = self.syncs
        # Two: the one running now may have started before the bot's last message.
        await self.wait_until(lambda: self.syncs >= before + 2, "one more sync")


class RunningBot:
    """The whole bot (BotApp) with the Matrix transport, run in the background."""

    def __init__(
        self,
        settings: Settings,
        config: MatrixConfig,
        extra: Sequence[Transport] = (),
        *,
        clock: Clock | None = None,
    ) -> None:
        # The test account is exempt from Synapse's limits (`matrix_config`): no spacing.
        self.settings = settings.model_copy(update={"matrix_send_interval_ms": 0})
        self.config = config
        self.extra = tuple(extra)
        self.clock = clock
        self.app: BotApp | None = None
        self.transport: MatrixTransport
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.transport = MatrixTransport(self.config)
        self.app = BotApp(self.settings, [self.transport, *self.extra], clock=self.clock)
        await self.app.migrate()
        await seed_starter_topics(self.app.uow)
        self._task = asyncio.create_task(self.app.run())
        ready = asyncio.create_task(self.transport.ready.wait())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=WAIT_SECONDS, return_when="FIRST_COMPLETED"
        )
        if self._task in done:
            ready.cancel()
            self._task.result()  # raises what stopped it
            raise AssertionError("the bot stopped before it was ready")
        if ready not in done:
            ready.cancel()
            raise AssertionError("the bot did not get ready in time")

    async def stop(self) -> None:
        if self._task is None:
            return
        await self.transport.drain()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


def parse_json(data: bytes) -> Any:
    return json.loads(data.decode())


class CollectingTransport:
    """The Matrix transport alone, with a dispatch that only records what arrives."""

    def __init__(self, config: MatrixConfig) -> None:
        self.config = config
        self.received: list[Inbound] = []
        self.transport: MatrixTransport
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def _dispatch(self, inbound: Inbound) -> None:
        async with self._changed:
            self.received.append(inbound)
            self._changed.notify_all()

    async def start(self, **changes: Any) -> None:
        if changes:
            self.config = replace(self.config, **changes)
        self.transport = MatrixTransport(self.config)
        self._task = asyncio.create_task(self.transport.run(self._dispatch))
        ready = asyncio.create_task(self.transport.ready.wait())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=WAIT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if self._task in done:
                self._task.result()
            raise AssertionError("the transport did not get ready in time")

    async def stop(self) -> None:
        if self._task is None:
            return
        await self.transport.drain()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def wait_for(self, count: int) -> list[Inbound]:
        async def waiting() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.received) >= count)

        try:
            await asyncio.wait_for(waiting(), WAIT_SECONDS)
        except TimeoutError:
            got = [(i.text, i.reaction, i.media, i.location) for i in self.received]
            raise AssertionError(f"waited in vain for {count} messages; got {got}") from None
        return self.received
