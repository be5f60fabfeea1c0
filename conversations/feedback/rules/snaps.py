"""Photos and voice notes kept for an event's log: kept at once with the platform's
reference, their file fetched afterwards (by bot/snap_files.py, never inside the unit of
work that keeps them) and written to the media folder within the size cap, and deleted
with the person.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from conversations.core.i18n import N_, Translator
from conversations.core.media import TooLarge
from conversations.core.messages import Media, MediaKind, OutMessage
from conversations.core.services import Services
from conversations.events.rules.notifier import Notifier
from storage.models import Snap, SnapFetch

# by `Snap.kind` (a `MediaKind`'s value)
EXTENSIONS: dict[str, str] = {
    MediaKind.PHOTO: ".jpg",
    MediaKind.VOICE: ".ogg",
    MediaKind.DOCUMENT: ".bin",
}
PARTIAL = ".part"  # a file being written; renamed to its own name once complete

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


def make_snap(
    options: FeedbackOptions,
    media: Media,
    *,
    event_id: int,
    person_id: int,
    platform: str,
    purpose: str,
) -> Snap:
    """A snap row for `media`, waiting for its file (fetched after the commit).

    Its file's name is chosen now, so forgetting the person removes the file even when
    its fetch finishes later. Raises `TooLarge` when the platform's stated size passes
    the limit: then nothing is kept and nothing fetched.
    """
    limit = options.max_snap_bytes
    if media.size is not None and media.size > limit:
        raise TooLarge(limit)
    return Snap(
        event_id=event_id,
        person_id=person_id,
        purpose=purpose,
        kind=str(media.kind),
        platform=platform,
        file_ref=media.file_ref[:512],
        path=str(snap_file_path(options.media_path, event_id, str(media.kind))),
        mime_type=media.mime_type,
        size=media.size,
        caption=media.caption,
        fetch_state=SnapFetch.WAITING,
        fetch_attempts=0,
    )


def snap_file_path(media_path: Path, event_id: int, kind: str) -> Path:
    """A new, unguessable name in the event's folder."""
    extension = EXTENSIONS.get(kind, ".bin")
    return media_path / f"event-{event_id}" / f"{secrets.token_hex(8)}{extension}"


# -- the file itself (blocking: callers run these in a thread) ------------------------------


def write_file(target: Path, content: bytes) -> None:
    """Write `content` at `target` whole or not at all: a crash mid-write leaves only a
    partial file beside it, which `remove_files` also removes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{secrets.token_hex(4)}{PARTIAL}")
    try:
        partial.write_bytes(content)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def remove_files(paths: list[str]) -> None:
    """Delete stored snap files (after /forget, or a fetch whose snap is gone); a file
    already gone, or never fetched, is fine."""
    for name in paths:
        path = Path(name)
        try:
            path.unlink(missing_ok=True)
            for partial in path.parent.glob(f"{path.name}.*{PARTIAL}"):
                partial.unlink(missing_ok=True)
        except OSError:
            log.warning("could not delete a snap file", exc_info=True)


# -- a file that turned out too large once fetched ---------------------------------------

TOO_LARGE_LATER: dict[str, str] = {
    MediaKind.PHOTO: N_(
        "The photo you sent for {title} was too large to keep: I can keep up to {mb} MB. "
        "Could you send a smaller one?"
    ),
    MediaKind.VOICE: N_(
        "The voice note you sent for {title} was too large to keep: I can keep up to {mb} "
        "MB. Could you send a shorter one?"
    ),
    MediaKind.DOCUMENT: N_(
        "The file you sent for {title} was too large to keep: I can keep up to {mb} MB. "
        "Could you send a smaller one?"
    ),
}


def megabytes(limit: int) -> int:
    return max(1, limit // (1024 * 1024))


def too_large_later_text(tr: Translator, kind: str, title: str, limit: int) -> str:
    template = TOO_LARGE_LATER.get(kind, TOO_LARGE_LATER[MediaKind.DOCUMENT])
    return tr.gettext(template).format(title=title, mb=megabytes(limit))


async def refuse_too_large(services: Services, snap_id: int, limit: int) -> bool:
    """Mark the snap too large (it keeps no file) and tell the person, in their language,
    in the chat they sent it from. False when the snap is no longer waiting (forgotten
    meanwhile): nobody to tell."""
    uow = services.uow
    if not await uow.feedback.snap_not_fetched(
        snap_id, SnapFetch.TOO_LARGE, f"larger than {limit} bytes"
    ):
        return False
    snap = await uow.feedback.snap(snap_id)
    person = await uow.persons.get(snap.person_id) if snap is not None else None
    if snap is None or person is None:
        return True
    identity = next(
        (
            i
            for i in await uow.persons.identities(person.id)
            if i.platform == snap.platform and i.blocked_at is None
        ),
        None,
    )
    event = await uow.events.get(snap.event_id)
    if identity is None or event is None:
        return True
    text = too_large_later_text(services.tr(person), snap.kind, event.title, limit)
    # an answer to what the person just did, so at once, not after their quiet hours
    await Notifier(services).enqueue(
        person, identity, OutMessage(text), key=f"snaptoolarge:{snap.id}", kind="snap", batch=None
    )
    return True
