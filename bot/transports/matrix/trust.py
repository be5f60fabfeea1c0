"""Trust on first use (see MATRIX.md for the trade-off): the devices a person has when they
first talk to the bot are trusted, so encrypted chats work without verification by hand."""

from __future__ import annotations

from nio import AsyncClient

from conversations.core.messages import ChatRef


class TrustOnFirstUse:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._trusted: set[str] = set()

    async def trust_sender(self, ref: ChatRef) -> None:
        client = self._client
        room = client.rooms.get(ref.chat_id)
        if room is None or not room.encrypted or client.olm is None:
            return
        if ref.user_id in self._trusted:
            return
        if client.should_query_keys:
            await client.keys_query()
        for device in client.device_store.active_user_devices(ref.user_id):
            if not device.verified and not device.blacklisted:
                client.verify_device(device)
        self._trusted.add(ref.user_id)

    def forget(self) -> None:
        """A new login is a new device with a new store: trust anew."""
        self._trusted.clear()
