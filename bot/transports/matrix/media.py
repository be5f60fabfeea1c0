"""Pictures, voice messages and files people send: the media reference an `Inbound` carries,
and the bytes behind it. A file from an encrypted room carries its keys in the reference
(after `#enc=`), so it can be decrypted when it is fetched."""

from __future__ import annotations

import base64
import json
from typing import Any

from nio import (
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

from bot.transports.base import TemporaryFailure
from conversations.core.messages import Media, MediaKind

ENCRYPTED_REF = "#enc="

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


async def download(client: AsyncClient, file_ref: str) -> bytes:
    """The bytes of a file a person sent (decrypted when it came in an encrypted room)."""
    mxc, _, secret = file_ref.partition(ENCRYPTED_REF)
    response = await client.download(mxc=mxc)
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        raise TemporaryFailure(f"could not download {mxc}: {response}")
    if not secret:
        return body
    keys = json.loads(base64.urlsafe_b64decode(secret.encode()))
    return bytes(decrypt_attachment(body, keys["key"]["k"], keys["hashes"]["sha256"], keys["iv"]))
