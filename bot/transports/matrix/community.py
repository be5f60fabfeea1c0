"""Community rooms stay public: a command typed in one is answered there only with a short
pointer to the person's direct chat, where the conversation happens.

A room counts as a community room when it is named in `TMM_MATRIX_ROOMS` or has more
members than the person and the bot. Nothing personal is ever written into one: the
command itself is handed to the bot as if typed in the person's direct chat (found among
the rooms the bot shares with them alone, or opened for it), and `MatrixSender` refuses to
put an outbox message into a community room (it goes to the direct chat instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace

from nio import AsyncClient, MatrixRoom, RoomCreateResponse, RoomPreset

from conversations.core.i18n import N_
from conversations.core.messages import ChatRef, Inbound

log = logging.getLogger(__name__)

ROOM_APPEARS_SECONDS = 20.0  # how long to wait for a new direct chat to come in a sync

POINTER = N_(
    "Let's talk in private, so your answers stay between us. I have written to you in a "
    "direct chat; you can also open it here: {link}"
)

ENCRYPTED = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


def matrix_to(user_id: str) -> str:
    """The link Element and other clients open as a chat with `user_id`."""
    return f"https://matrix.to/#/{user_id}"


class CommunityRooms:
    def __init__(self, client: AsyncClient, named: tuple[str, ...]) -> None:
        self._client = client
        # Room ids (or aliases until joined) from the settings; `joined` adds the ids.
        self._named: set[str] = set(named)
        self._opening: dict[str, asyncio.Lock] = {}
        self._synced = asyncio.Condition()

    async def synced(self) -> None:
        """A sync was read (the sync loop calls it): rooms may have come."""
        async with self._synced:
            self._synced.notify_all()

    def joined(self, room_id: str) -> None:
        """A room of the settings was joined under `room_id` (it may be named by alias)."""
        self._named.add(room_id)

    def is_community(self, room: MatrixRoom | None, bot_user_id: str) -> bool:
        if room is None:
            return False
        if room.room_id in self._named:
            return True
        if room.joined_count > 2:
            return True
        others = {user for user in room.users if user != bot_user_id}
        return len(others) > 1

    def is_community_id(self, room_id: str, bot_user_id: str) -> bool:
        return self.is_community(self._client.rooms.get(room_id), bot_user_id)

    def existing_direct_chat(self, user_id: str, bot_user_id: str) -> str | None:
        """A room the bot shares with `user_id` alone (joined or invited), newest first."""
        found: list[str] = []
        for room_id, room in self._client.rooms.items():
            if room_id in self._named:
                continue
            members = set(room.users)
            if members == {bot_user_id, user_id}:
                found.append(room_id)
        return found[-1] if found else None

    async def direct_chat(self, user_id: str, bot_user_id: str) -> str | None:
        """The person's direct chat with the bot, opened (encrypted, as Element would) when
        there is none; None when the homeserver refused to open one."""
        lock = self._opening.setdefault(user_id, asyncio.Lock())
        async with lock:
            existing = self.existing_direct_chat(user_id, bot_user_id)
            if existing is not None:
                return existing
            response = await self._client.room_create(
                is_direct=True,
                invite=[user_id],
                preset=RoomPreset.trusted_private_chat,
                initial_state=[ENCRYPTED],
            )
            if not isinstance(response, RoomCreateResponse):
                log.warning("matrix: could not open a direct chat with %s: %s", user_id, response)
                return None
            room_id = str(response.room_id)
            log.info("matrix: opened a direct chat %s with %s", room_id, user_id)
            await self._until_known(room_id)
            return room_id

    async def _until_known(self, room_id: str) -> None:
        """Wait until a sync has brought the new room (nio cannot send into it before)."""
        async with self._synced:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._synced.wait_for(lambda: room_id in self._client.rooms),
                    ROOM_APPEARS_SECONDS,
                )

    @staticmethod
    def moved(inbound: Inbound, room_id: str) -> Inbound:
        """The same update, as if it came in the direct chat `room_id`."""
        return replace(inbound, ref=ChatRef(inbound.ref.platform, room_id, inbound.ref.user_id))
