"""Messages, reactions, edits and uploads to rooms; each request passes the request gate
(its rate-limit slot, right before) and has its errors mapped to delivery errors."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import ClientConnectionError, ClientError
from nio import AsyncClient, LocalProtocolError, RoomSendResponse, SendRetryError, UploadResponse
from nio.api import Api

from bot.transports.base import (
    SENDING_TRANSACTION,
    AmbiguousDelivery,
    DeliveryError,
    RetryLater,
    TemporaryFailure,
)
from bot.transports.matrix.community import CommunityRooms
from bot.transports.matrix.errors import map_error
from bot.transports.matrix.rendering import formatted_body, reaction_keys, render_text
from bot.transports.pacing import RequestGate
from conversations.core.messages import ChatRef, OutMessage, Sent

log = logging.getLogger(__name__)

T = TypeVar("T")


class TransactionIds:
    """The transaction ids of one outbox row's requests: the row's id and the part, the
    same every time the row is sent; none without the row's id."""

    def __init__(self, base: str | None) -> None:
        self.base = base

    def next(self, part: str) -> str | None:
        return None if self.base is None else f"{self.base}.{part}"


class MatrixSender:
    def __init__(
        self,
        client: AsyncClient,
        gate: RequestGate,
        community: CommunityRooms,
        *,
        retries: int = 3,
    ) -> None:
        """`retries`: how often one request is sent again after a 429 before its row
        fails (and is tried again later, adding only what is missing)."""
        self._client = client
        self.gate = gate
        self._community = community
        self._retries = retries

    async def _request(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """One request in its slot. A 429 pauses every send of the account (the gate),
        and this one waits that out with the others, in its turn, and goes again: nio's
        own retries would sleep beside the limiter while the other sends went on into
        429s of their own (`max_limit_exceeded=0` in transport.py)."""
        tries = 0
        while True:
            try:
                async with self.gate.slot():
                    return await attempt()
            except RetryLater as exc:
                tries += 1
                if tries > self._retries:
                    raise
                log.warning(
                    "matrix: 429, every send waits %.1f s and then goes one at a time", exc.seconds
                )
                if self.gate.limiter is None:  # nothing else to wait with
                    await asyncio.sleep(exc.seconds)

    async def _private_room(self, ref: ChatRef) -> str:
        """The room a message for one person goes to: never a community room (their direct
        chat instead, say for a person whose chat was recorded before rooms were told apart)."""
        bot_user_id = str(self._client.user_id)
        if not self._community.is_community_id(ref.chat_id, bot_user_id):
            return ref.chat_id
        direct = await self._community.direct_chat(ref.user_id, bot_user_id)
        if direct is None:
            raise TemporaryFailure(f"no direct chat with {ref.user_id} yet")
        log.warning("matrix: a message for %s goes to their direct chat, not a shared room", ref)
        return direct

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        """Text, file, place and the reactions of one outbox row. Given the row's
        transaction id (`SENDING_TRANSACTION`), each request carries one made from it, so
        the row sent again (after a crash, a 429, a timeout) arrives once: the homeserver
        answers a request it has seen with the event it made then, and the reactions
        already there are not added twice; the ones missing are."""
        room_id = await self._private_room(ref)
        ids = TransactionIds(SENDING_TRANSACTION.get())
        first_id: str | None = None
        text = render_text(message)
        if _is_described_photo(message):
            return await self._send_photo_then_card(room_id, message, text, ids)
        if text.strip() or (message.attachment is None and message.location is None):
            content: dict[str, Any] = {"msgtype": "m.text", "body": text, **formatted_body(text)}
            if message.reply_to is not None:
                # Element shows it under a quote of the message whose reaction chose it
                content["m.relates_to"] = {"m.in_reply_to": {"event_id": message.reply_to}}
            first_id = await self.room_send(room_id, "m.room.message", content, ids.next("text"))
        if message.attachment is not None:
            event_id = await self._send_attachment(room_id, message, ids.next("file"))
            first_id = first_id or event_id
        if message.location is not None:
            loc = message.location
            content = {
                "msgtype": "m.location",
                "body": loc.title or f"{loc.latitude:.5f}, {loc.longitude:.5f}",
                "geo_uri": f"geo:{loc.latitude},{loc.longitude}",
            }
            event_id = await self.room_send(room_id, "m.room.message", content, ids.next("place"))
            first_id = first_id or event_id
        if first_id is not None:
            await self._add_reactions(room_id, first_id, reaction_keys(message), ids)
        return Sent(first_id)

    async def _send_photo_then_card(
        self, room_id: str, message: OutMessage, text: str, ids: TransactionIds
    ) -> Sent:
        """An invitation's photo: the m.image (its `body` the text alternative), then the
        card, which carries the reactions and is the message an answer edits."""
        await self._send_attachment(room_id, message, ids.next("file"))
        content = {"msgtype": "m.text", "body": text, **formatted_body(text)}
        card_id = await self.room_send(room_id, "m.room.message", content, ids.next("text"))
        await self._add_reactions(room_id, card_id, reaction_keys(message), ids)
        return Sent(card_id)

    async def _add_reactions(
        self, room_id: str, event_id: str, keys: list[str], ids: TransactionIds
    ) -> None:
        """The choices as reactions under the bot's message. With a transaction id a
        failure fails the row, which is tried again (after `retry_after` on a 429) and
        adds only what is missing: for someone who only taps, a missing reaction is a
        missing button. Without one (nothing to deduplicate by) a failure costs only
        itself; the numbered list still works."""
        for number, key in enumerate(keys):
            relation = {"rel_type": "m.annotation", "event_id": event_id, "key": key}
            content = {"m.relates_to": relation}
            try:
                await self.room_send(room_id, "m.reaction", content, ids.next(f"r{number}"))
            except DeliveryError:
                if ids.base is not None:
                    raise
                log.warning("matrix: could not add reaction %s", key, exc_info=True)

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        room_id = await self._private_room(ref)
        text = render_text(message)
        new = {"msgtype": "m.text", "body": text, **formatted_body(text)}
        content = {
            "msgtype": "m.text",
            "body": f"* {text}",
            "m.new_content": new,
            "m.relates_to": {"rel_type": "m.replace", "event_id": message_id},
        }
        # the reactions under the message stay: they still mean the same choices
        ids = TransactionIds(SENDING_TRANSACTION.get())
        await self.room_send(room_id, "m.room.message", content, ids.next("edit"))

    async def _send_attachment(
        self, room_id: str, message: OutMessage, transaction_id: str | None
    ) -> str:
        attachment = message.attachment
        assert attachment is not None
        room = self._client.rooms.get(room_id)
        encrypted = bool(room is not None and room.encrypted)
        content_bytes = attachment.content

        async def upload_once() -> tuple[UploadResponse, dict[str, Any] | None]:
            try:
                upload, keys = await self._client.upload(
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
                raise map_error(upload)
            return upload, keys

        upload, keys = await self._request(upload_once)
        msgtype = "m.image" if attachment.is_image else "m.file"
        info = {"mimetype": attachment.mime_type, "size": len(content_bytes)}
        content: dict[str, Any] = {
            "msgtype": msgtype,
            "body": attachment.description or attachment.filename,
            "filename": attachment.filename,
            "info": info,
        }
        if encrypted and keys is not None:
            content["file"] = {**keys, "url": upload.content_uri, "mimetype": attachment.mime_type}
        else:
            content["url"] = upload.content_uri
        return await self.room_send(room_id, "m.room.message", content, transaction_id)

    async def room_send(
        self,
        room_id: str,
        event_type: str,
        content: dict[str, Any],
        transaction_id: str | None = None,
    ) -> str:
        async def send_once() -> str:
            try:
                response = await self._client.room_send(
                    room_id,
                    event_type,
                    content,
                    tx_id=transaction_id,
                    ignore_unverified_devices=True,
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
                if transaction_id is not None:  # sent again, it arrives once
                    raise TemporaryFailure(f"{room_id}: timed out") from exc
                raise AmbiguousDelivery(f"{room_id}: timed out") from exc
            except (ClientConnectionError, ClientError) as exc:
                raise TemporaryFailure(str(exc)) from exc
            if isinstance(response, RoomSendResponse):
                return str(response.event_id)
            raise map_error(response)

        return await self._request(send_once)

    async def send_plain(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Sent unencrypted even in an encrypted room (for the undecryptable notice)."""
        client = self._client
        method, path, data = Api.room_send(
            client.access_token, room_id, event_type, content, os.urandom(8).hex()
        )

        async def send_once() -> str:
            try:
                response = await client._send(RoomSendResponse, method, path, data, (room_id,))
            except TimeoutError as exc:
                raise AmbiguousDelivery(f"{room_id}: timed out") from exc
            except (ClientConnectionError, ClientError) as exc:
                raise TemporaryFailure(str(exc)) from exc
            if isinstance(response, RoomSendResponse):
                return str(response.event_id)
            raise map_error(response)

        return await self._request(send_once)


def _is_described_photo(message: OutMessage) -> bool:
    attachment = message.attachment
    return attachment is not None and attachment.is_image and attachment.description is not None
