"""The baseline bot of `matrix_onboarding`, run as its own process as a bot would be:
plain matrix-nio answering each message and reaction with one text (no storage, no flows).

    python -m benchmarks._matrix_echo HOMESERVER USER_ID DEVICE_ID   (the access token on stdin)
"""

from __future__ import annotations

import asyncio
import sys

from nio import AsyncClient, MatrixRoom, ReactionEvent, RoomMessageText, SyncResponse


class EchoBot:
    def __init__(self, homeserver: str, user_id: str, device_id: str, token: str) -> None:
        self.user_id = user_id
        self.client = AsyncClient(homeserver, user_id)
        self.client.restore_login(user_id, device_id, token)

    async def run(self) -> None:
        first = await self.client.sync(timeout=0, full_state=True)
        assert isinstance(first, SyncResponse), first
        self.client.add_event_callback(self._answer, (RoomMessageText, ReactionEvent))
        response, since = first, first.next_batch
        joined: set[str] = set()
        while True:
            # invitations may already be in the first sync: the people start as we do
            for room_id in set(response.rooms.invite) - joined:
                await self.client.join(room_id)
                joined.add(room_id)
            synced = await self.client.sync(timeout=1000, since=since)
            if isinstance(synced, SyncResponse):
                response, since = synced, synced.next_batch

    async def _answer(self, room: MatrixRoom, event: object) -> None:
        if getattr(event, "sender", None) == self.user_id:
            return
        await self.client.room_send(
            room.room_id, "m.room.message", {"msgtype": "m.text", "body": "ok"}
        )


def main() -> None:
    homeserver, user_id, device_id = sys.argv[1:4]
    token = sys.stdin.readline().strip()
    asyncio.run(EchoBot(homeserver, user_id, device_id, token).run())


if __name__ == "__main__":
    main()
