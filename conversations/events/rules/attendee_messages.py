"""A coordinator's message to everyone coming, through the outbox, in numbered batches."""

from __future__ import annotations

from conversations.core.i18n import N_, Translator
from conversations.core.messages import ChatRef
from conversations.core.services import Services
from conversations.events.rules.notifier import Notifier, person_ids_of
from storage.models import Event, EventTask, Person, RsvpAnswer
from storage.unit_of_work import UnitOfWork


async def next_batch(uow: UnitOfWork, prefix: str) -> str:
    """`prefix` + the next number: msg:<event>:1, msg:<event>:2, ..."""
    return f"{prefix}{await uow.outbox.batches_numbered(prefix) + 1}"


async def write_to_attendees(
    services: Services, event: Event, note: str, *, sender: Person, sender_chat: ChatRef
) -> int:
    """The note to everyone coming but the sender; the sender's chat follows its progress."""
    uow = services.uow
    batch = await next_batch(uow, f"msg:{event.id}:")
    rows = await uow.events.rsvps(event.id, RsvpAnswer.YES)
    notifier = Notifier(services)

    def render(tr: Translator) -> str:
        heading = tr.gettext(N_("A message about {title} from {sender}:")).format(
            title=event.title, sender=sender.display_name or tr.gettext(N_("the organiser"))
        )
        return f"{heading}\n\n{note}"

    count = await notifier.tell(
        [pid for pid in person_ids_of(rows) if pid != sender.id],  # not back to the writer
        render,
        key=lambda person: f"{batch}:{person.id}",
        kind="message",
        batch=batch,
        event=event,
    )
    if count:
        await uow.batches.create(
            batch, kind="message", reporter=sender_chat, reporter_person_id=sender.id, total=count
        )
    return count


async def write_to_task_people(
    services: Services,
    event: Event,
    task: EventTask,
    note: str,
    *,
    sender: Person,
    sender_chat: ChatRef,
) -> int:
    """The note to those who took one task, with the task's name on top."""
    uow = services.uow
    batch = await next_batch(uow, f"taskmsg:{task.id}:")

    def render(tr: Translator) -> str:
        heading = tr.gettext(N_("About {task} at {title}, from {sender}:")).format(
            task=task.title,
            title=event.title,
            sender=sender.display_name or tr.gettext(N_("the organiser")),
        )
        return f"{heading}\n\n{note}"

    people = [pid for pid in await uow.pledges.pledgers(task.id) if pid != sender.id]
    count = await Notifier(services).tell(
        people,
        render,
        key=lambda person: f"{batch}:{person.id}",
        kind="message",
        batch=batch,
        event=event,
    )
    if count:
        await uow.batches.create(
            batch, kind="message", reporter=sender_chat, reporter_person_id=sender.id, total=count
        )
    return count
