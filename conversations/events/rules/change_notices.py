"""What a change of time or place sends besides the word to those who answered: the
invitations already delivered to people who have not answered are edited to show the new
time or place (the same buttons; where the platform refuses the edit, a short notice goes
instead), and those coming get the updated calendar entry."""

from __future__ import annotations

from conversations.core.i18n import N_
from conversations.core.messages import EDIT_OF, INSTEAD, PHOTO, OutMessage, message_to_payload
from conversations.core.services import Services
from conversations.events.rules.attachments import ics_attachment
from conversations.events.rules.invitations import (
    CARD_INTRO,
    batch_invitations,
    invitation_text,
)
from conversations.events.rules.notifier import Notifier, polite_time
from conversations.events.rules.wording import link_payload
from storage.models import Event, Person, Rsvp, RsvpAnswer
from storage.repositories.batches import again_batch


async def edit_unanswered_invitations(
    services: Services, event: Event, batch: str, render: dict[str, str]
) -> int:
    """The invitations people have but did not answer, rewritten with the change (marked
    as changed), each with the change in short (`render`, by language) to send instead
    if the platform refuses the edit; returns how many edits wait in the outbox."""
    uow = services.uow
    invitations = batch_invitations(event.id)
    count = 0
    for source in (invitations, again_batch(invitations)):
        for row in await uow.broadcasts.delivered_unanswered(source, event.id):
            person = await uow.persons.get(row.person_id) if row.person_id is not None else None
            identity = await uow.audiences.reachable([person.id]) if person is not None else []
            if person is None or not identity:
                continue
            tr = services.tr(person)
            text = await invitation_text(uow, tr, event, services.timezone)
            changed = "✏️ " + tr.gettext(N_("Changed since you got it:"))
            payload = {
                # an edit changes the card's text; its photo, if any, stays as it went
                **{key: value for key, value in row.payload.items() if key != PHOTO},
                "text": f"{changed}\n\n{text}",
                CARD_INTRO: changed,
                EDIT_OF: row.platform_message_id,
                INSTEAD: message_to_payload(_notice_instead(services, event, person, render)),
            }
            if await uow.outbox.enqueue(
                dedupe_key=f"{batch}:edit:{row.id}",
                person_id=person.id,
                platform=row.platform,
                chat_id=row.chat_id,
                user_id=row.user_id,
                kind="invitation_edit",
                payload=payload,
                batch=f"{batch}:edits",
                expires_at=event.starts_at,
            ):
                count += 1
    return count


def _notice_instead(
    services: Services, event: Event, person: Person, render: dict[str, str]
) -> OutMessage:
    """The change in short, for someone whose invitation could not be edited; the link
    opens the invitation again, to answer it."""
    tr = services.tr(person)
    first = services.translations.languages[0]
    hint = tr.gettext(
        N_("Your invitation could not be updated. Open it again to answer: /start {link}")
    ).format(link=link_payload(event))
    return OutMessage(f"{render.get(person.language, render[first])}\n\n{hint}")


async def tell_of_change(
    services: Services, event: Event, rows: list[Rsvp], render: dict[str, str], batch: str
) -> int:
    """The change to each person who answered; those coming get the new calendar entry."""
    notifier = Notifier(services)
    now = services.now()
    ids = {row.person_id: row.answer for row in rows if row.person_id is not None}
    first = services.translations.languages[0]
    count = 0
    for person, identity in await services.uow.audiences.reachable(list(ids)):
        text = render.get(person.language, render[first])
        message = _change_message(services, event, person, text, ids[person.id])
        if await notifier.enqueue(
            person,
            identity,
            message,
            key=f"{batch}:{person.id}",
            kind="change",
            batch=batch,
            not_before=polite_time(person, now, event, services.timezone),
        ):
            count += 1
    return count


def _change_message(
    services: Services, event: Event, person: Person, text: str, answer: str
) -> OutMessage:
    if answer != RsvpAnswer.YES:
        return OutMessage(text)
    tr = services.tr(person)
    note = tr.gettext(N_("Here is the updated calendar entry."))
    return OutMessage(f"{text}\n\n📅 {note}", attachment=ics_attachment(event))
