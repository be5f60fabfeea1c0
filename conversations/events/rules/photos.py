"""An invitation's photo: kept as the coordinator's snap of the event (purpose `cover`),
its file fetched after the commit like any snap; an invitation's row refers to it (`PHOTO`),
and when the row goes out the reference becomes the stored file's, or goes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from storage.models import Snap, SnapFetch
from storage.unit_of_work import UnitOfWork

COVER = "cover"  # `Snap.purpose` of an invitation's photo
# How long an invitation waits for its photo's file to be fetched before it goes without:
# the fetch starts right after publishing and takes seconds; a platform that keeps failing
# must not hold the invitations back.
PHOTO_WAIT = timedelta(minutes=1)
WAITING = "waiting"  # what `photo_to_send` says while the file may still come


async def invitation_photo(uow: UnitOfWork, event_id: int) -> Snap | None:
    """The event's photo, if it has one (the newest, should there be more)."""
    covers = await uow.feedback.event_snaps(event_id, COVER)
    return covers[-1] if covers else None


def photo_reference(snap: Snap) -> dict[str, Any]:
    """What an invitation's row keeps of its photo until it is sent: which snap."""
    return {"snap": snap.id}


def photo_to_send(snap: Snap | None, now: datetime) -> dict[str, Any] | str | None:
    """The stored file to send (path, type, text alternative); `WAITING` while it is still
    being fetched (within `PHOTO_WAIT`); None when there is none to send."""
    if snap is None:
        return None
    if snap.fetch_state == SnapFetch.STORED and snap.path:
        return {
            "snap": snap.id,
            "path": snap.path,
            "mime_type": snap.mime_type or "image/jpeg",
            "description": snap.caption or "",
        }
    if snap.fetch_state == SnapFetch.WAITING and now - snap.created_at < PHOTO_WAIT:
        return WAITING
    return None


async def photo_to_show(uow: UnitOfWork, event_id: int, now: datetime) -> dict[str, Any] | None:
    """The stored file to send with an invitation shown on its own (its link, the events
    list, a place offered): a reply cannot wait for a fetch, so a file not yet there means
    the card goes without."""
    photo = photo_to_send(await invitation_photo(uow, event_id), now)
    return photo if isinstance(photo, dict) else None
