"""A coordinator's message to everyone coming, through the outbox, in numbered batches."""

from __future__ import annotations

from sqlalchemy import func, select

from conversations.core.flow import FlowContext
from conversations.core.i18n import N_, Translator
from conversations.events.rules.notifier import Notifier, person_ids_of
from storage.models import Event, OutboxMessage, RsvpAnswer


async def next_batch(ctx: FlowContext, prefix: str) -> str:
    """`prefix` + the next number: msg:<event>:1, msg:<event>:2, ..."""
    existing = await ctx.uow.session.execute(
        select(func.count(func.distinct(OutboxMessage.batch))).where(
            OutboxMessage.batch.like(prefix + "%")
        )
    )
    return f"{prefix}{int(existing.scalar_one()) + 1}"


async def write_to_attendees(ctx: FlowContext, event: Event, note: str) -> int:
    batch = await next_batch(ctx, f"msg:{event.id}:")
    rows = await ctx.uow.events.rsvps(event.id, RsvpAnswer.YES)
    notifier = Notifier(ctx.uow, ctx.translations, ctx.config.timezone)
    sender = ctx.person.display_name or ctx._(N_("the organiser"))

    def render(tr: Translator) -> str:
        heading = tr.gettext(N_("A message about {title} from {sender}:")).format(
            title=event.title, sender=sender
        )
        return f"{heading}\n\n{note}"

    count = await notifier.tell(
        [pid for pid in person_ids_of(rows) if pid != ctx.person.id],  # not back to the writer
        render,
        key=lambda person: f"{batch}:{person.id}",
        kind="message",
        batch=batch,
        now=ctx.now(),
        event=event,
    )
    if count:
        await ctx.uow.batches.create(
            batch, kind="message", reporter=ctx.ref, reporter_person_id=ctx.person.id, total=count
        )
    return count
