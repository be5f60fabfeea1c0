"""Pictures, voice messages and files people send: the media reference an `Inbound` carries,
and the bytes behind it. A file from an encrypted room carries its keys in the reference
(after `#enc=`), so it can be decrypted when it is fetched.

A download is read in chunks and stopped as soon as it passes the size limit (or the
server says up front that it would): a large file never sits whole in memory."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from nio import (
    Api,
    AsyncClient,
    RoomEncryptedAudio,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomEncryptedMedia,
    RoomEncryptedVideo,
    RoomMessageAudio,
    RoomMessageFile,
    RoomMessageImage,
    RoomMessageMedia,
    RoomMessageVideo,
)
from nio.crypto.attachments import decrypt_attachment

from bot.transports.base import PermanentFailure, RetryLater, TemporaryFailure
from conversations.core.media import TooLarge
from conversations.core.messages import Media, MediaKind

ENCRYPTED_REF = "#enc="
CHUNK_BYTES = 64 * 1024
DOWNLOAD_RETRY_AFTER_SECONDS = 5.0

_MEDIA_KINDS: tuple[tuple[tuple[type, ...], MediaKind], ...] = (
    ((RoomMessageImage, RoomEncryptedImage), MediaKind.PHOTO),
    ((RoomMessageAudio, RoomEncryptedAudio), MediaKind.VOICE),
    (
        (RoomMessageFile, RoomEncryptedFile, RoomMessageVideo, RoomEncryptedVideo),
        MediaKind.DOCUMENT,
    ),
)


def media_of(event: Any, content: dict[str, Any]) -> Media | None:
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
        file_ref = f"{file_ref}{ENCRYPTED_REF}{encoded}"
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


async def download(client: AsyncClient, file_ref: str, *, max_bytes: int | None = None) -> bytes:
    """The bytes of a file a person sent (decrypted when it came in an encrypted room);
    `TooLarge` past `max_bytes`, before more than that has been read."""
    mxc, _, secret = file_ref.partition(ENCRYPTED_REF)
    if max_bytes is None:
        response = await client.download(mxc=mxc)
        body = getattr(response, "body", None)
        if not isinstance(body, bytes):
            raise TemporaryFailure(f"could not download {mxc}: {response}")
    else:
        body = await _download_capped(client, mxc, max_bytes)
    if not secret:
        return body
    keys = json.loads(base64.urlsafe_b64decode(secret.encode()))
    return bytes(decrypt_attachment(body, keys["key"]["k"], keys["hashes"]["sha256"], keys["iv"]))


async def _download_capped(client: AsyncClient, mxc: str, max_bytes: int) -> bytes:
    parts = urlsplit(mxc)
    _, path = Api.download(parts.netloc, parts.path.strip("/"))
    url = client.homeserver.rstrip("/") + path
    headers = {"Authorization": f"Bearer {client.access_token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers=headers) as response,
    ):
        if response.status == 429:
            raise RetryLater(DOWNLOAD_RETRY_AFTER_SECONDS, f"download of {mxc}: 429")
        if response.status in (403, 404):
            raise PermanentFailure(f"download of {mxc}: {response.status}")
        if response.status >= 400:
            raise TemporaryFailure(f"download of {mxc}: {response.status}")
        if response.content_length is not None and response.content_length > max_bytes:
            raise TooLarge(max_bytes)
        body = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK_BYTES):
            body += chunk
            if len(body) > max_bytes:
                raise TooLarge(max_bytes)
        return bytes(body)
