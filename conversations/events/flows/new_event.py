"""`/newevent`: a coordinator creates an event step by step, sees a preview and publishes.

Everything is kept in the conversation's data until "publish", which writes the event, its
tasks and every invitation in the outbox in that one transaction.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from conversations.core.commands import CommandSpec
from conversations.core.dates import parse_end, parse_when
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.prompts import offer_to
from conversations.core.words import NO_WORDS, SKIP_WORDS, YES_WORDS
from conversations.events.flows.pick_event import only_coordinators
from conversations.events.rules.invitations import batch_invitations, publish
from conversations.events.rules.journey import DEFAULT_JOURNEY
from conversations.events.rules.reminders import DEFAULT_REMINDERS
from conversations.events.rules.wording import deep_link_url, format_span, link_payload
from conversations.tasks.rules.task_lines import parse_task
from storage.models import Event, EventStatus, Role, TopicKind
from storage.repositories.audiences import (
    AUDIENCE_ATTENDEES,
    AUDIENCE_EVERYBODY,
    AUDIENCE_LINK,
    AUDIENCE_TOPICS,
)

MAX_TITLE = 120
MAX_TEXT = 1500
MAX_PLACE = 200
MAX_CAPACITY = 10_000
QR_FLOW = "eventqr"


class Step(StrEnum):
    TITLE = "title"
    TEXT = "text"
    WHEN = "when"
    END = "end"
    CONFIRM_WHEN = "confirm_when"
    PLACE = "place"
    PIN = "pin"
    CAPACITY = "capacity"
    GUESTS = "guests"
    JOURNEY = "journey"
    TASKS = "tasks"
    REMINDERS = "reminders"
    AUDIENCE = "audience"
    TOPICS = "topics"
    EARLIER = "earlier"
    SEND = "send"
    SEND_AT = "send_at"
    PREVIEW = "preview"


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def skip_choice(ctx: FlowContext) -> Choice:
    return ctx.choice("skip", N_("Skip"), "⏭", *SKIP_WORDS)


# The order of the questions; a variant of the flow (an initiative) skips some of them.
ORDER = tuple(Step)


class NewEvent(Flow):
    """The questions, one per step. `/initiative` reuses them: a subclass says which steps
    it skips (`skipped`), who may use it (`allowed`) and what publishing does
    (`_after_create`)."""

    name = "newevent"
    commands = (
        CommandSpec(
            "newevent",
            "nytarrangement",
            N_("Create an event and invite people"),
            role=Role.COORDINATOR,
        ),
    )
    skipped: ClassVar[frozenset[Step]] = frozenset()

    def __init__(self, *, bot_username: str | None = None) -> None:
        self._bot_username = bot_username

    def allowed(self, ctx: FlowContext) -> bool:
        return ctx.is_coordinator

    def takes_location(self, state: str) -> bool:
        return state in (Step.PLACE, Step.PIN)

    def refuse(self, ctx: FlowContext) -> Transition:
        return only_coordinators(ctx)

    def _go(self, step: Step, data: dict[str, Any], *say: OutMessage) -> Transition:
        """Go to `step`, or to the first step after it that this variant asks."""
        while step in self.skipped:
            step = ORDER[ORDER.index(step) + 1]
        return Transition.go(step, data, *say)

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not self.allowed(ctx):
            return self.refuse(ctx)
        intro = ctx._(
            N_(
                "Let's create an event. I'll ask one thing at a time; /back goes one step back "
                "and /cancel stops. Nothing is sent until you publish."
            )
        )
        return self._go(Step.TITLE, {}, OutMessage(intro))

    # -- questions -------------------------------------------------------------------------

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        match Step(state):
            case Step.TITLE:
                return OutMessage(
                    ctx._(N_("What is it called? For example: Skovtur med suppe")),
                    expects_text=True,
                )
            case Step.TEXT:
                return OutMessage(
                    ctx._(N_("Write a short, inviting text: what will happen, who is it for?")),
                    choices=(skip_choice(ctx),),
                    expects_text=True,
                )
            case Step.WHEN:
                return OutMessage(
                    ctx._(
                        N_(
                            "When does it start? Write it as you would say it, for example "
                            '"lørdag kl 10", "5/12 10-13" or "tomorrow 18:00".'
                        )
                    ),
                    expects_text=True,
                )
            case Step.END:
                return OutMessage(
                    ctx._(N_('And when does it end? For example "13" or "kl 15:30".')),
                    choices=(skip_choice(ctx),),
                    expects_text=True,
                )
            case Step.CONFIRM_WHEN:
                return OutMessage(
                    ctx._(N_("So: {when}. Is that right?")).format(when=self._when(ctx, data)),
                    choices=(
                        ctx.choice("yes", N_("Yes, that's right"), "✅", *YES_WORDS),
                        ctx.choice("again", N_("No, type it again"), "✏️", *NO_WORDS),
                    ),
                    expects_text=True,  # a new date typed here is taken as the answer
                )
            case Step.PLACE:
                return OutMessage(
                    ctx._(
                        N_(
                            'Where is it? Write the place, for example "Parkeringspladsen ved '
                            'Hald Ege". You can also share a location (a map pin).'
                        )
                    ),
                    expects_text=True,
                )
            case Step.PIN:
                return OutMessage(
                    ctx._(N_("Would you like to add a map pin? Share a location, or skip.")),
                    choices=(skip_choice(ctx),),
                    expects_text=True,
                )
            case Step.CAPACITY:
                return OutMessage(
                    ctx._(N_("How many can come at most? Write a number, or tap No limit.")),
                    choices=(ctx.choice("skip", N_("No limit"), "♾", *SKIP_WORDS, "ingen"),),
                    expects_text=True,
                )
            case Step.GUESTS:
                return OutMessage(
                    ctx._(N_("May people bring a guest?")),
                    choices=(
                        ctx.choice("yes", N_("Yes"), "👍", *YES_WORDS),
                        ctx.choice("no", N_("No"), "✋", *NO_WORDS),
                    ),
                )
            case Step.JOURNEY:
                steps = ", ".join(data.get("journey", DEFAULT_JOURNEY))
                return OutMessage(
                    ctx._(
                        N_(
                            "Afterwards people can tell how each step of the day went. "
                            "The steps are: {steps}.\nKeep them, or type your own list "
                            "separated by commas."
                        )
                    ).format(steps=steps),
                    choices=(ctx.choice("keep", N_("Keep these"), "👍", "ok", *SKIP_WORDS),),
                    expects_text=True,
                )
            case Step.TASKS:
                tasks = data.get("tasks", [])
                listed = "\n".join(
                    ctx._(N_("• {task} ×{hands}")).format(task=t, hands=h) for t, h in tasks
                )
                text = ctx._(
                    N_(
                        "Which tasks need a hand? One per line, with how many, for example "
                        '"medbring suppe x3". Tap Done when the list is complete.'
                    )
                )
                if listed:
                    text += "\n\n" + listed
                return OutMessage(
                    text,
                    choices=(ctx.choice("done", N_("Done"), "👍", *SKIP_WORDS, "færdig", "ok"),),
                    expects_text=True,
                )
            case Step.REMINDERS:
                return OutMessage(
                    ctx._(N_("Should I remind those who are coming?")),
                    choices=(
                        ctx.choice("default", N_("Yes, 24 hours and 2 hours before"), "⏰", "ja"),
                        ctx.choice("none", N_("No reminders"), "🔕", "nej", "ingen"),
                    ),
                )
            case Step.AUDIENCE:
                return OutMessage(
                    ctx._(N_("Who should be invited?")),
                    choices=(
                        ctx.choice("everybody", N_("Everybody"), "🌍", "alle"),
                        ctx.choice("topics", N_("Chosen interests or areas"), "🏷"),
                        ctx.choice("attendees", N_("People who came to an earlier event"), "🔁"),
                        ctx.choice("link", N_("Only those who get the link"), "🔗"),
                    ),
                )
            case Step.TOPICS:
                return await self._topics_question(ctx, data)
            case Step.EARLIER:
                past = await ctx.uow.events.past(ctx.now())
                choices = [Choice(f"e{e.id}", f"{e.title} ({ctx.when(e.starts_at)})") for e in past]
                choices.append(ctx.choice("back", N_("Choose someone else"), "↩️"))
                text = ctx._(N_("Which event? Everyone who said yes to it will be invited."))
                if not past:
                    text = ctx._(N_("There are no earlier events yet."))
                return OutMessage(text, choices=tuple(choices))
            case Step.SEND:
                return OutMessage(
                    ctx._(N_("When should the invitations go out?")),
                    choices=(
                        ctx.choice("now", N_("Now"), "🚀", "nu"),
                        ctx.choice("later", N_("At a set time"), "🕰", "senere"),
                    ),
                )
            case Step.SEND_AT:
                return OutMessage(
                    ctx._(N_('When? For example "i morgen kl 9".')), expects_text=True
                )
            case Step.PREVIEW:
                return OutMessage(
                    await self._preview(ctx, data),
                    choices=(
                        ctx.choice("publish", N_("Publish"), "📣", "udgiv", "send"),
                        ctx.choice("discard", N_("Throw it away"), "🗑"),
                    ),
                )

    async def _topics_question(self, ctx: FlowContext, data: dict[str, Any]) -> OutMessage:
        chosen = set(data.get("topic_ids", []))
        topics = [
            *await ctx.uow.topics.active(TopicKind.INTEREST),
            *await ctx.uow.topics.active(TopicKind.AREA),
        ]
        language = ctx.translator.language
        choices = [
            Choice(
                f"t{t.id}",
                ("✅ " if t.id in chosen else "") + t.name(language),
                aliases=(t.name_da, t.name_en, t.slug),
            )
            for t in topics
        ]
        choices.append(ctx.choice("done", N_("Done"), "👍", "færdig", "ok"))
        return OutMessage(
            ctx._(
                N_(
                    "Tap the interests and areas to invite (tap again to remove), then Done. "
                    "Everyone who chose one of them gets the invitation."
                )
            ),
            choices=tuple(choices),
        )

    def _when(self, ctx: FlowContext, data: dict[str, Any]) -> str:
        start = _dt(data.get("start"))
        assert start is not None
        return format_span(ctx.translator, start, _dt(data.get("end")), ctx.config.timezone)

    async def _preview(self, ctx: FlowContext, data: dict[str, Any]) -> str:
        lines = [ctx._(N_("This is how it will look:")), "", f"🌿 {data['title']}"]
        if data.get("text"):
            lines += ["", data["text"]]
        lines += ["", "🗓 " + self._when(ctx, data)]
        if data.get("place"):
            lines.append("📍 " + data["place"])
        if data.get("lat") is not None:
            lines.append("🗺 " + ctx._(N_("with a map pin")))
        if data.get("capacity"):
            lines.append("👥 " + ctx._(N_("At most {n} people")).format(n=data["capacity"]))
        if data.get("guests"):
            lines.append("➕ " + ctx._(N_("Guests are welcome")))
        for title, hands in data.get("tasks", []):
            lines.append(ctx._(N_("• {task} ×{hands}")).format(task=title, hands=hands))
        lines += ["", ctx._(N_("Journey steps: {steps}")).format(steps=", ".join(data["journey"]))]
        reminders = data.get("reminders", [])
        lines.append(
            ctx._(N_("Reminders: {what}")).format(
                what=", ".join(f"{m // 60} t" for m in reminders) or ctx._(N_("none"))
            )
        )
        lines.append(ctx._(N_("Invited: {who}")).format(who=await self._audience(ctx, data)))
        send_at = _dt(data.get("send_at"))
        lines.append(
            ctx._(N_("Sent: {when}")).format(
                when=ctx.when(send_at) if send_at else ctx._(N_("right away"))
            )
        )
        return "\n".join(lines)

    async def _audience(self, ctx: FlowContext, data: dict[str, Any]) -> str:
        audience = data.get("audience", {})
        kind = audience.get("kind")
        if kind == AUDIENCE_EVERYBODY:
            return ctx._(N_("everybody"))
        if kind == AUDIENCE_TOPICS:
            names = []
            for topic_id in audience.get("topic_ids", []):
                topic = await ctx.uow.topics.get(int(topic_id))
                if topic is not None:
                    names.append(topic.name(ctx.translator.language))
            return ", ".join(names)
        if kind == AUDIENCE_ATTENDEES:
            earlier = await ctx.uow.events.get(int(audience.get("event_id", 0)))
            title = earlier.title if earlier else "?"
            return ctx._(N_("those who came to {title}")).format(title=title)
        return ctx._(N_("only those who get the link"))

    # -- answers ---------------------------------------------------------------------------

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if not self.allowed(ctx):  # the role can be taken away mid-conversation
            return self.refuse(ctx)
        step = Step(state)
        text = " ".join((answer.text or "").split())
        match step:
            case Step.TITLE:
                if not text or len(text) > MAX_TITLE:
                    return self._retry(ctx, data, N_("Please write a short title."))
                data["title"] = text
                return self._go(Step.TEXT, data)
            case Step.TEXT:
                if answer.choice == "skip":
                    data["text"] = ""
                else:
                    body = (answer.text or "").strip()
                    if not body or len(body) > MAX_TEXT:
                        return self._retry(ctx, data, N_("Please write a few lines, or skip."))
                    data["text"] = body
                return self._go(Step.WHEN, data)
            case Step.WHEN:
                return self._take_when(ctx, data, text)
            case Step.END:
                return self._take_end(ctx, data, answer, text)
            case Step.CONFIRM_WHEN:
                if answer.choice == "yes":
                    if _dt(data["start"]) <= ctx.now():  # type: ignore[operator]
                        return Transition.go(
                            Step.WHEN, data, OutMessage(ctx._(N_("That time has passed.")))
                        )
                    return self._go(Step.PLACE, data)
                if answer.choice == "again":
                    return self._go(Step.WHEN, data)
                return self._take_when(ctx, data, text)
            case Step.PLACE:
                if answer.location is not None:
                    data["lat"], data["lon"] = answer.location.latitude, answer.location.longitude
                    if answer.location.title:
                        data["place"] = answer.location.title[:MAX_PLACE]
                        return self._go(Step.CAPACITY, data)
                    note = OutMessage(ctx._(N_("Got the pin. 📍 What is the place called?")))
                    return Transition.stay(data, note)
                if not text or len(text) > MAX_PLACE:
                    return self._retry(ctx, data, N_("Please write where it is."))
                data["place"] = text
                if data.get("lat") is not None:
                    return self._go(Step.CAPACITY, data)
                return self._go(Step.PIN, data)
            case Step.PIN:
                if answer.location is not None:
                    data["lat"], data["lon"] = answer.location.latitude, answer.location.longitude
                elif answer.choice != "skip":
                    return self._retry(
                        ctx, data, N_("Share a location with the paperclip, or tap Skip.")
                    )
                return self._go(Step.CAPACITY, data)
            case Step.CAPACITY:
                typed = (ctx.inbound.text or "").strip() if ctx.inbound else ""
                if answer.choice == "skip" and typed.isdigit():
                    text = typed  # "1" is a capacity, not the first button
                    answer = Answer(text=typed)
                if answer.choice == "skip":
                    data["capacity"] = None
                elif text.isdigit() and 0 < int(text) <= MAX_CAPACITY:
                    data["capacity"] = int(text)
                else:
                    return self._retry(ctx, data, N_("Please write a number, like 20."))
                return self._go(Step.GUESTS, data)
            case Step.GUESTS:
                if answer.choice not in ("yes", "no"):
                    return Transition.stay(data)
                data["guests"] = answer.choice == "yes"
                data.setdefault("journey", list(DEFAULT_JOURNEY))
                return self._go(Step.JOURNEY, data)
            case Step.JOURNEY:
                if answer.choice != "keep":
                    steps = [s.strip()[:60] for s in text.split(",") if s.strip()]
                    if not steps or len(steps) > 12:
                        return self._retry(
                            ctx, data, N_("Type the steps separated by commas, or tap Keep these.")
                        )
                    data["journey"] = steps
                data.setdefault("tasks", [])
                return self._go(Step.TASKS, data)
            case Step.TASKS:
                if answer.choice == "done":
                    return self._go(Step.REMINDERS, data)
                added = [parse_task(line) for line in (answer.text or "").splitlines()]
                tasks = [*data.get("tasks", []), *[list(t) for t in added if t]]
                if len(tasks) > 20:
                    return self._retry(ctx, data, N_("That is a lot of tasks; 20 at most."))
                data["tasks"] = tasks
                return Transition.stay(data)
            case Step.REMINDERS:
                if answer.choice not in ("default", "none"):
                    return Transition.stay(data)
                data["reminders"] = list(DEFAULT_REMINDERS) if answer.choice == "default" else []
                return self._go(Step.AUDIENCE, data)
            case Step.AUDIENCE:
                return self._take_audience(ctx, data, answer)
            case Step.TOPICS:
                return await self._take_topic(ctx, data, answer)
            case Step.EARLIER:
                if answer.choice and answer.choice.startswith("e") and answer.choice[1:].isdigit():
                    earlier = await ctx.uow.events.get(int(answer.choice[1:]))
                    if earlier is not None and earlier.starts_at <= ctx.now():
                        data["audience"] = {"kind": AUDIENCE_ATTENDEES, "event_id": earlier.id}
                        return self._go(Step.SEND, data)
                return self._go(Step.AUDIENCE, data)
            case Step.SEND:
                if answer.choice == "now":
                    data["send_at"] = None
                    return self._go(Step.PREVIEW, data)
                if answer.choice == "later":
                    return self._go(Step.SEND_AT, data)
                return Transition.stay(data)
            case Step.SEND_AT:
                parsed = parse_when(text, ctx.now(), ctx.config.timezone)
                start = _dt(data["start"])
                assert start is not None
                if parsed is None or parsed.start <= ctx.now() or parsed.start >= start:
                    return self._retry(
                        ctx,
                        data,
                        N_('Please give a time between now and the event, like "i morgen kl 9".'),
                    )
                data["send_at"] = parsed.start.isoformat()
                note = OutMessage(
                    ctx._(N_("The invitations go out {when}.")).format(when=ctx.when(parsed.start))
                )
                return self._go(Step.PREVIEW, data, note)
            case Step.PREVIEW:
                if answer.choice == "discard":
                    return Transition.end(OutMessage(ctx._(N_("Thrown away. Nothing was sent."))))
                if answer.choice != "publish":
                    return Transition.stay(data)
                return await self._publish(ctx, data)

    def _retry(self, ctx: FlowContext, data: dict[str, Any], text: str) -> Transition:
        return Transition.stay(data, OutMessage(ctx._(text)))

    def _take_when(self, ctx: FlowContext, data: dict[str, Any], text: str) -> Transition:
        parsed = parse_when(text, ctx.now(), ctx.config.timezone) if text else None
        if parsed is None:
            return self._retry(
                ctx,
                data,
                N_(
                    "I couldn't read a date and time in that. Try for example "
                    '"lørdag kl 10" or "5/12 10-13".'
                ),
            )
        if parsed.start <= ctx.now():
            return self._retry(ctx, data, N_("That time has passed. Please give a later one."))
        data["start"] = parsed.start.isoformat()
        data["end"] = parsed.end.isoformat() if parsed.end else None
        return self._go(Step.CONFIRM_WHEN if parsed.end else Step.END, data)

    def _take_end(
        self, ctx: FlowContext, data: dict[str, Any], answer: Answer, text: str
    ) -> Transition:
        if answer.choice == "skip":
            data["end"] = None
            return self._go(Step.CONFIRM_WHEN, data)
        start = _dt(data["start"])
        assert start is not None
        end = parse_end(text, start, ctx.now(), ctx.config.timezone) if text else None
        if end is None or end <= start:
            return self._retry(
                ctx, data, N_('Please write a time after the start, like "13", or skip.')
            )
        data["end"] = end.isoformat()
        return self._go(Step.CONFIRM_WHEN, data)

    def _take_audience(self, ctx: FlowContext, data: dict[str, Any], answer: Answer) -> Transition:
        match answer.choice:
            case "everybody":
                data["audience"] = {"kind": AUDIENCE_EVERYBODY}
            case "link":
                data["audience"] = {"kind": AUDIENCE_LINK}
            case "topics":
                data.setdefault("topic_ids", [])
                return self._go(Step.TOPICS, data)
            case "attendees":
                return self._go(Step.EARLIER, data)
            case _:
                return Transition.stay(data)
        return self._go(Step.SEND, data)

    async def _take_topic(
        self, ctx: FlowContext, data: dict[str, Any], answer: Answer
    ) -> Transition:
        chosen: list[int] = list(data.get("topic_ids", []))
        if answer.choice == "done":
            if not chosen:
                return self._retry(ctx, data, N_("Choose at least one, or go /back."))
            data["audience"] = {"kind": AUDIENCE_TOPICS, "topic_ids": chosen}
            return self._go(Step.SEND, data)
        if answer.choice and answer.choice.startswith("t") and answer.choice[1:].isdigit():
            topic = await ctx.uow.topics.get(int(answer.choice[1:]))
            if topic is not None and topic.active:
                if topic.id in chosen:
                    chosen.remove(topic.id)
                else:
                    chosen.append(topic.id)
                data["topic_ids"] = chosen
        return Transition.stay(data)

    async def _publish(self, ctx: FlowContext, data: dict[str, Any]) -> Transition:
        start = _dt(data["start"])
        assert start is not None
        if start <= ctx.now():
            return Transition.go(
                Step.WHEN, data, OutMessage(ctx._(N_("That time has passed in the meantime.")))
            )
        event = await ctx.uow.events.create(**self._event_fields(ctx, data))
        for position, (title, hands) in enumerate(data.get("tasks", [])):
            await ctx.uow.events.add_task(event.id, str(title), int(hands), position)
        return await self._after_create(ctx, event, data)

    def _event_fields(self, ctx: FlowContext, data: dict[str, Any]) -> dict[str, Any]:
        start, end = _dt(data["start"]), _dt(data.get("end"))
        send_at = _dt(data.get("send_at"))
        if send_at is not None and send_at <= ctx.now():
            send_at = None
        return {
            "title": data["title"],
            "invitation": data.get("text", ""),
            "starts_at": start,
            "ends_at": end,
            "place": data.get("place", ""),
            "latitude": data.get("lat"),
            "longitude": data.get("lon"),
            "capacity": data.get("capacity"),
            "guests_allowed": bool(data.get("guests")),
            "journey_steps": list(data.get("journey", DEFAULT_JOURNEY)),
            "reminder_offsets": list(data.get("reminders", DEFAULT_REMINDERS)),
            "audience": dict(data.get("audience", {"kind": AUDIENCE_LINK})),
            "status": EventStatus.DRAFT,
            "created_by_id": ctx.person.id,
            "send_at": send_at,
        }

    async def _after_create(
        self, ctx: FlowContext, event: Event, data: dict[str, Any]
    ) -> Transition:
        count = await publish(ctx.services, event)
        if count:  # the coordinator then sees the invitations go out, in one updating message
            await ctx.uow.batches.create(
                batch_invitations(event.id),
                kind="invitation",
                reporter=ctx.ref,
                reporter_person_id=ctx.person.id,
                total=count,
            )
        return Transition.end(*await published_messages(ctx, event, count, self._bot_username))


async def published_messages(
    ctx: FlowContext, event: Event, count: int, bot_username: str | None
) -> tuple[OutMessage, ...]:
    payload = link_payload(event)
    text = ctx.ngettext(
        "Published! 🎉 {n} person is invited.",
        "Published! 🎉 {n} people are invited.",
        count,
    ).format(n=count)
    if event.send_at is not None:
        text += "\n" + ctx._(N_("The invitations go out {when}.")).format(
            when=ctx.when(event.send_at)
        )
    url = deep_link_url(bot_username, payload)
    text += "\n\n" + ctx._(
        N_("Anyone can open the invitation with this link: /start {payload}")
    ).format(payload=payload)
    if url:
        text += "\n" + url
    message = OutMessage(
        text,
        choices=(ctx.choice("qr", N_("QR code for a poster"), "🔳", "qr"),),
    )
    stored = await offer_to(
        ctx.uow,
        ctx.ref,
        ctx.person.id,
        QR_FLOW,
        message,
        state="published",
        context={"event_id": event.id},
    )
    return (stored,)
