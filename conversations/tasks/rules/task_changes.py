"""An organiser's changes to a task, and what they mean for the people who took it.

Whoever took a task hears when its wording or its number of hands changes, and when it is
no longer needed; closing a task ends its pledges, so nobody is reminded of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from conversations.core.i18n import N_, Translator
from conversations.core.services import Services
from conversations.events.rules.notifier import Notifier
from storage.models import Event, EventTask


async def close_task(services: Services, event: Event, task: EventTask) -> int:
    """Close a task that is no longer needed; returns how many people had taken it."""
    uow = services.uow
    now = services.now()
    pledgers = await uow.pledges.pledgers(task.id)
    task.closed_at = now
    for person_id in pledgers:
        pledge = await uow.pledges.active(task.id, person_id)
        if pledge is not None:
            pledge.withdrawn_at = now
    title = task.title

    def closed(tr: Translator) -> str:
        return tr.gettext(
            N_("{task} at {title} is no longer needed. Thank you all the same! 🌿")
        ).format(task=title, title=event.title)

    await _tell_pledgers(services, event, pledgers, closed, f"taskclosed:{task.id}")
    return len(pledgers)


async def rename_task(services: Services, event: Event, task: EventTask, title: str) -> None:
    """Give a task new wording; those who took it see the old and the new."""
    now = services.now()
    pledgers = await services.uow.pledges.pledgers(task.id)
    old, task.title = task.title, title

    def renamed(tr: Translator) -> str:
        return tr.gettext(N_("The task you took at {title} has changed: {old} → {new}")).format(
            title=event.title, old=old, new=title
        )

    # the time in the key: each change is news, even back to an earlier wording
    key = f"taskchg:{task.id}:{now.isoformat()}"
    await _tell_pledgers(services, event, pledgers, renamed, key)


async def resize_task(services: Services, event: Event, task: EventTask, hands: int) -> None:
    """Ask for another number of hands; those who took the task hear it only if it changed."""
    if hands == task.hands:
        return
    now = services.now()
    pledgers = await services.uow.pledges.pledgers(task.id)
    task.hands = hands

    def resized(tr: Translator) -> str:
        return tr.ngettext(
            "The task you took at {title}, {task}, now needs {n} hand.",
            "The task you took at {title}, {task}, now needs {n} hands.",
            hands,
        ).format(title=event.title, task=task.title, n=hands)

    key = f"taskhands:{task.id}:{now.isoformat()}"
    await _tell_pledgers(services, event, pledgers, resized, key)


async def _tell_pledgers(
    services: Services,
    event: Event,
    person_ids: Sequence[int],
    render: Callable[[Translator], str],
    key: str,
) -> int:
    notifier = Notifier(services)
    return await notifier.tell(
        person_ids,
        render,
        key=lambda p: f"{key}:{p.id}",
        kind="task",
        batch=f"task:{event.id}",
        event=event,
    )
