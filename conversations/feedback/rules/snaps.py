"""Photos and voice notes kept for an event's log: fetched once, written to the media folder,
within the size cap, and deleted with the person.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from conversations.core.media import MediaFetcher, TooLarge
from conversations.core.messages import Media, MediaKind
from storage.models import Snap

EXTENSIONS = {MediaKind.PHOTO: ".jpg", MediaKind.VOICE: ".ogg", MediaKind.DOCUMENT: ".bin"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedbackOptions:
    """How journey feedback and the snap-log behave (from the settings)."""

    delay: timedelta = timedelta(hours=1)
    window: timedelta = timedelta(days=14)
    reminder_after: timedelta = timedelta(hours=48)
    ask_why_after_good: bool = False
    snap_days: timedelta = timedelta(days=3)
    media_path: Path = Path("data/media")
    max_snap_bytes: int = 20 * 1024 * 1024
    # by platform: a file reference is only valid on the platform it came from
    fetchers: Mapping[str, MediaFetcher] = field(default_factory=dict, compare=False)


async def make_snap(
    options: FeedbackOptions,
    media: Media,
    *,
    event_id: int,
    person_id: int,
    platform: str,
    purpose: str,
) -> Snap:
    """A snap row for `media`, with the file stored when a fetcher can get the bytes.

    Raises `TooLarge` when the transport's size or the fetched bytes pass the limit.
    """
    limit = options.max_snap_bytes
    if media.size is not None and media.size > limit:
        raise TooLarge(limit)
    path: str | None = None
    size = media.size
    fetcher = options.fetchers.get(platform)
    content: bytes | None = None
    if fetcher is not None:
        try:
            content = await fetcher.fetch(media.file_ref)
        except Exception:  # the reference is kept; the file can be fetched again later
            log.warning("could not fetch %s from %s; keeping the reference", media.kind, platform)
    if content is not None:
        if len(content) > limit:
            raise TooLarge(limit)
        name = f"event-{event_id}/{secrets.token_hex(8)}{EXTENSIONS.get(media.kind, '.bin')}"
        target = options.media_path / name
        await asyncio.to_thread(_write, target, content)
        path, size = str(target), len(content)
    return Snap(
        event_id=event_id,
        person_id=person_id,
        purpose=purpose,
        kind=str(media.kind),
        platform=platform,
        file_ref=media.file_ref[:512],
        path=path,
        mime_type=media.mime_type,
        size=size,
        caption=media.caption,
    )


def _write(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


def remove_files(paths: list[str]) -> None:
    """Delete stored snap files (after /forget); a file already gone is fine."""
    for name in paths:
        try:
            Path(name).unlink(missing_ok=True)
        except OSError:
            log.warning("could not delete a snap file", exc_info=True)
