"""A published event's photo changed (`/editevent`): added, replaced or removed.

Invitations not yet sent go out with the new photo (or without one); those already
delivered keep what they had, as no platform lets a sent message gain or swap a picture
beside its buttons. The old photo's row goes in this transaction and its file after the
commit, so a rolled-back change loses nothing and the transaction does no file I/O.
"""

from __future__ import annotations

import asyncio

from conversations.core.messages import PHOTO
from conversations.core.services import Services
from conversations.events.rules.invitations import batch_invitations
from conversations.events.rules.photos import COVER, photo_reference
from conversations.feedback.rules.snaps import remove_files
from storage.models import Event, Snap
from storage.repositories.batches import again_batch


async def change_invitation_photo(services: Services, event: Event, new: Snap | None) -> int:
    """`new` (already added, its file still to fetch) in place of the event's photo, or
    none; returns how many invitations not yet sent will show the change."""
    uow = services.uow
    old = [snap for snap in await uow.feedback.event_snaps(event.id, COVER) if snap is not new]
    paths = [snap.path for snap in old if snap.path]
    for snap in old:
        await uow.feedback.remove_snap(snap)
    if paths:
        uow.after_commit(lambda: asyncio.to_thread(remove_files, paths))
    batch = batch_invitations(event.id)
    rows = [
        *await uow.broadcasts.pending_outbox(batch),
        *await uow.broadcasts.pending_outbox(again_batch(batch)),
    ]
    for row in rows:
        payload = {key: value for key, value in row.payload.items() if key != PHOTO}
        if new is not None:  # drawn into the stored file's reference when it goes out
            payload[PHOTO] = photo_reference(new)
        row.payload = payload
    return len(rows)
