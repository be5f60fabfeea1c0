"""Running an event together: a co-organiser is told they were added (with a button to
see who is coming), and everything a co-organiser does is logged for the creator."""

from __future__ import annotations

from conversations.core.i18n import N_
from conversations.core.messages import ChatRef, OutMessage
from conversations.core.prompts import offer_to
from conversations.core.services import Services
from conversations.events.rules.notifier import Notifier, choice_for
from conversations.events.rules.wording import event_when
from storage.models import Event, Person

ATTENDEES_FLOW = "attendees"  # the helper's button opens who is coming
HELPER_STATE = "helper"


class Action:
    """What a co-organiser did, as kept in the log."""

    VIEWED = "viewed"  # who is coming
    WROTE = "wrote"  # to those coming
    CHECKED_IN = "checked_in"  # ticked a name
    UNCHECKED = "unchecked"
    REPORT = "report"  # read the report
    PRINTED = "printed"  # took the attendee list (PDF and CSV)
    TASKS = "tasks"  # looked at the tasks and who took them


async def log_if_co_organiser(
    services: Services,
    event: Event,
    person: Person,
    action: str,
    detail: str = "",
    *,
    is_admin: bool = False,
) -> None:
    """Kept for the creator when someone else than the creator (or an admin) acts."""
    if person.id == event.created_by_id or is_admin:
        return
    await services.uow.organisers.log(event.id, person.id, action, detail)


async def tell_new_organiser(
    services: Services, event: Event, helper: Person, added_by: Person
) -> bool:
    """A short word to the new co-organiser, with a button to see who is coming."""
    uow = services.uow
    reachable = await uow.audiences.reachable([helper.id])
    if not reachable:
        return False
    person, identity = reachable[0]
    tr = services.tr(person)
    text = tr.gettext(
        N_(
            "{name} asked you to help run {title} ({when}). You can see who is coming, "
            "write to them and check people in on the day."
        )
    ).format(
        name=added_by.display_name or tr.gettext(N_("the organiser")),
        title=event.title,
        when=event_when(tr, event, services.timezone),
    )
    choices = (choice_for(tr, services.translations, "list", N_("See who is coming"), "👥"),)
    recipient = ChatRef(identity.platform, identity.chat_id, identity.user_id)
    message = await offer_to(
        uow,
        recipient,
        person.id,
        ATTENDEES_FLOW,
        OutMessage(text, choices=choices),
        state=HELPER_STATE,
        context={"event_id": event.id},
    )
    return await Notifier(services).enqueue(
        person,
        identity,
        message,
        key=f"organiser:{event.id}:{person.id}:{services.now().isoformat()}",
        kind="organiser",
        batch=None,
    )
