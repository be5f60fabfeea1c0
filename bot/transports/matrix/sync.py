"""The sync loop: each sync response is only *read* here (cheap) and turned into items on
an asyncio queue, which the transport hands to the bot one by one.

After the events of a sync comes a checkpoint carrying its `next_batch`; the token is saved
only when the consumer reaches it, so a crash never skips a message and a restart never
handles one twice (the router's update log catches the rest). On the very first start the
bot syncs once with full state and answers nothing of the history; invitations waiting
then are accepted. Our own loop rather than nio's `sync_forever`, for that checkpointing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    JoinResponse,
    MatrixRoom,
    MegolmEvent,
    RedactionEvent,
    RoomMemberEvent,
    RoomMessagesResponse,
    SyncResponse,
)
from nio.api import MessageDirection

from bot.transports.matrix.community import CommunityRooms
from bot.transports.matrix.config import MatrixConfig
from bot.transports.matrix.inbound import PLATFORM, ReactionMemory, to_inbound
from bot.transports.matrix.login import Login
from bot.transports.matrix.store import SyncToken
from bot.transports.matrix.trust import TrustOnFirstUse
from conversations.core.messages import ChatRef, Inbound

log = logging.getLogger(__name__)

BACKFILL_PAGES = 5
MAX_SYNC_BACKOFF = 60.0  # seconds between two failed syncs, at most


@dataclass(frozen=True, slots=True)
class Checkpoint:
    next_batch: str


@dataclass(frozen=True, slots=True)
class Undecryptable:
    ref: ChatRef
    event_id: str


@dataclass(frozen=True, slots=True)
class FromCommunity:
    """A command typed in a community room: answered with a pointer there, handled in the
    person's direct chat (community.py)."""

    inbound: Inbound


Item = Inbound | Checkpoint | Undecryptable | FromCommunity


class SyncLoop:
    def __init__(
        self,
        client: AsyncClient,
        config: MatrixConfig,
        *,
        login: Login,
        token: SyncToken,
        trust: TrustOnFirstUse,
        queue: asyncio.Queue[Item],
        community: CommunityRooms,
    ) -> None:
        self._client = client
        self._config = config
        self._login = login
        self._token = token
        self._trust = trust
        self._queue = queue
        self._community = community
        self._reactions = ReactionMemory()
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()

    @property
    def user_id(self) -> str:
        return str(self._client.user_id or self._config.user_id)

    def _sync_filter(self) -> dict[str, Any] | None:
        if self._config.timeline_limit is None:
            return None
        return {"room": {"timeline": {"limit": self._config.timeline_limit}}}

    async def run(self) -> None:
        since = self._token.load()
        first_ever = since is None
        response = await self._sync(since, full_state=True)
        if first_ever:
            log.info("matrix: first start; history is not answered")
            await self._handle_invites(response)
            self._token.save(response.next_batch)
        else:
            await self._read(response, since)
        for room in self._config.rooms:
            await self._join(room)
        self.ready.set()
        previous = response.next_batch
        while not self.stopping.is_set():
            response = await self._sync(previous)
            await self._read(response, previous)
            previous = response.next_batch

    async def _sync(self, since: str | None, *, full_state: bool = False) -> Any:
        """One sync plus the key work after it; network trouble is waited out, not fatal."""
        failures = 0
        while True:
            try:
                response = await self._client.sync(
                    timeout=0 if full_state else self._config.sync_timeout_ms,
                    since=since,
                    full_state=full_state or None,
                    sync_filter=self._sync_filter(),
                )
                if isinstance(response, SyncResponse):
                    await self._after_sync()
                    await self._community.synced()
                    return response
                if getattr(response, "status_code", None) == "M_UNKNOWN_TOKEN":
                    self._trust.forget()
                    await self._login.again(response)
                    continue
                log.warning("matrix: sync failed: %s", response)
            except (ClientError, TimeoutError) as exc:
                log.warning("matrix: sync failed: %r", exc)
            failures += 1
            await asyncio.sleep(min(MAX_SYNC_BACKOFF, 0.5 * 2**failures))

    async def _after_sync(self) -> None:
        """Keys and to-device messages, as `sync_forever` would do them."""
        client = self._client
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
            room = self._client.rooms.get(room_id)
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
            if any(self._someone_left(e) for e in events):
                await self._leave_if_alone(room)
        self._queue.put_nowait(Checkpoint(response.next_batch))

    def _someone_left(self, event: Any) -> bool:
        """Only a leave makes the bot look whether it is alone: a room it has just opened
        for a person may come in two syncs, its own join before the invitation."""
        return (
            isinstance(event, RoomMemberEvent)
            and event.state_key != self.user_id
            and event.membership in ("leave", "ban")
        )

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
            page = await self._client.room_messages(
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
        result = await self._client.join(room)
        if isinstance(result, JoinResponse):
            log.info("matrix: joined %s", room)
            if room in self._config.rooms:
                self._community.joined(str(result.room_id))
        else:
            log.warning("matrix: could not join %s: %s", room, result)

    async def _leave_if_alone(self, room: MatrixRoom) -> None:
        # Someone invited still counts: a direct chat the bot opened waits for its person.
        others = [user for user in room.users if user != self.user_id]
        if others or room.invited_count:
            return
        log.info("matrix: everyone else left %s; leaving too", room.room_id)
        await self._client.room_leave(room.room_id)
        await self._client.room_forget(room.room_id)

    def _take(self, room: MatrixRoom, event: Any) -> None:
        sender = getattr(event, "sender", None)
        if not sender or sender == self.user_id:
            return  # our own messages and our own choice reactions
        ref = ChatRef(PLATFORM, room.room_id, sender)
        if isinstance(event, MegolmEvent):
            log.warning("matrix: could not decrypt %s from %s", event.event_id, sender)
            self._queue.put_nowait(Undecryptable(ref, event.event_id))
            return
        if isinstance(event, RedactionEvent):
            inbound = None if self._is_group(room) else self._reactions.taken_back(room, event)
        else:
            inbound = to_inbound(room, event)
        if inbound is None:
            return
        if self._is_group(room):
            # In a community room only commands are for the bot, and they are answered in
            # the person's direct chat; the bot never asks anything there, so a reaction
            # there answers nothing.
            text = inbound.text or ""
            if inbound.command is not None or text.lstrip().startswith(("/", "!")):
                self._queue.put_nowait(FromCommunity(inbound))
            return
        self._reactions.remember(inbound)
        self._queue.put_nowait(inbound)

    def _is_group(self, room: MatrixRoom) -> bool:
        return self._community.is_community(room, self.user_id)
