"""What an event still needs: places left, hands missing on its tasks."""

from __future__ import annotations

from storage.models import (
    Event,
    EventTask,
)
from storage.unit_of_work import UnitOfWork


def missing_hands(task: EventTask, held: int = 0) -> int:
    """Hands still missing on a task, given how many pledges hold one (none once closed)."""
    if task.closed_at is not None:
        return 0
    return max(0, task.hands - held)


async def places_left(uow: UnitOfWork, event: Event) -> int | None:
    if event.capacity is None:
        return None
    return max(0, event.capacity - await uow.events.places_taken(event.id))


async def has_open_tasks(uow: UnitOfWork, event: Event) -> bool:
    held = await uow.pledges.counts(event.id)
    return any(missing_hands(t, held.get(t.id, 0)) > 0 for t in await uow.events.tasks(event.id))
