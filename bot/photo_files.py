"""A stored photo an outbox row refers to (`PHOTO` in its payload), read just before the
row is sent: outside any transaction, in a thread, so the row itself never holds the bytes
and a row sent again reads the same file again.

A file that is gone (forgotten, or removed by retention, since the row was drawn) leaves the
message as it is: the card goes without its picture rather than not at all.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from conversations.core.messages import PHOTO, Attachment, OutMessage

log = logging.getLogger(__name__)


async def with_photo(message: OutMessage, payload: dict[str, Any]) -> OutMessage:
    """`message` with the photo its row refers to attached, if the file is there."""
    photo = payload.get(PHOTO)
    if not isinstance(photo, dict) or not photo.get("path"):
        return message
    path = Path(str(photo["path"]))
    try:
        content = await asyncio.to_thread(path.read_bytes)
    except OSError:
        log.warning("a photo to send with a message is gone (%s); sent without it", path.name)
        return message
    attachment = Attachment(
        path.name,
        content,
        str(photo.get("mime_type") or "image/jpeg"),
        str(photo.get("description") or "") or None,
    )
    return replace(message, attachment=attachment)
