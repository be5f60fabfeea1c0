"""Journey feedback after an event: did you come, then good / bad / skip for each step of
the event's journey, why (text or a voice note, always skippable), what matters to you and
what we should do next time. Plus the snap-log: photos and voice notes for the event.

Who may answer: people who said yes (they are asked by the job below) and anyone who opens
the event's feedback link `/start fb_<link_code>` once the event is over. Both leave a
`FeedbackRequest` row; every answer checks that row on the server.

Leaving half-way loses nothing: every answer is saved as it is given, and opening the
feedback again (the invitation's button, the link, `/feedback`) continues at the first
unanswered question."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.media import TooLarge
from conversations.core.messages import Media, MediaKind, OutMessage
from conversations.feedback.rules.snaps import FeedbackOptions, make_snap
from conversations.feedback.rules.windows import FEEDBACK_FLOW, event_end, feedback_open, steps_of
from storage.models import (
    Event,
    EventStatus,
    FeedbackRequest,
    IdeaKind,
    Prompt,
    RsvpAnswer,
    Verdict,
)
from storage.unit_of_work import UnitOfWork

MAX_WORDS = 2000


class Step(StrEnum):
    CAME = "came"
    STEP = "step"
    WHY = "why"
    MATTERS = "matters"
    NEXT = "next"
    SIGN = "sign"
    SNAP_CONSENT = "snapconsent"
    AGAIN = "again"


async def resume_state(uow: UnitOfWork, event: Event, request: FeedbackRequest) -> Transition:
    """Where to go on: the first unanswered question, or 'again?' when all is done."""
    data: dict[str, Any] = {"event_id": event.id}
    if request.came is None:
        return Transition.go(Step.CAME, data)
    if request.came:
        answers = await uow.feedback.answers(request.id)
        for index in range(len(steps_of(event))):
            if index not in answers:
                return Transition.go(Step.STEP, {**data, "i": index})
    if request.completed_at is not None:
        return Transition.go(Step.AGAIN, data)
    if request.stage in (Step.MATTERS, Step.NEXT, Step.SIGN):
        return Transition.go(request.stage, data)
    return Transition.go(Step.MATTERS, data)


def _closed(ctx: FlowContext, event: Event | None) -> Transition:
    if event is not None and event.status == EventStatus.PUBLISHED and event_end(event) > ctx.now():
        text = ctx._(N_("{title} isn't over yet. I'll ask how it was afterwards.")).format(
            title=event.title
        )
    elif event is not None and event.status == EventStatus.PUBLISHED:
        text = ctx._(N_("It's too long since {title} to give feedback on it now.")).format(
            title=event.title
        )
    else:
        text = ctx._(N_("I can't find that event, sorry."))
    return Transition.end(OutMessage(text))


def not_shared_note(ctx: FlowContext) -> str:
    return ctx._(
        N_(
            "You chose not to share photos and voice notes, so I haven't kept it. "
            "/settings lets you change that."
        )
    )


def _not_yours(ctx: FlowContext) -> Transition:
    return Transition.end(OutMessage(ctx._(N_("That isn't something I asked you about."))))


class JourneyFeedback(Flow):
    name = FEEDBACK_FLOW
    commands = (
        CommandSpec("feedback", "mening", N_("Tell us how an event was"), button=N_("How was it?")),
    )
    link_prefix = "fb"

    def __init__(self, options: FeedbackOptions | None = None) -> None:
        self.options = options or FeedbackOptions()

    def takes_media(self, state: str) -> bool:
        # a photo sent at any question goes to the event's log; a voice note after a
        # verdict says why. Only the yes/no about keeping them needs a tap.
        return state != Step.SNAP_CONSENT

    # -- opening ----------------------------------------------------------------------------

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        code = args.strip()
        if code:
            event = await ctx.uow.events.by_link(code)
            if event is None or not feedback_open(event, ctx.now(), self.options):
                return _closed(ctx, event)
            request = await ctx.uow.feedback.ensure_request(event.id, ctx.person.id, "link")
            return await resume_state(ctx.uow, event, request)
        # `/feedback` without a link: the most recent event the person may answer about
        for recent in reversed(await self._recent(ctx)):
            found = await ctx.uow.feedback.request(recent.id, ctx.person.id)
            rsvp = await ctx.uow.events.rsvp(recent.id, ctx.person.id)
            if found is None and rsvp is not None and rsvp.answer == RsvpAnswer.YES:
                found = await ctx.uow.feedback.ensure_request(recent.id, ctx.person.id, "rsvp")
            if found is not None:
                return await resume_state(ctx.uow, recent, found)
        return Transition.end(
            OutMessage(
                ctx._(
                    N_(
                        "There is no event to give feedback on right now. I'll ask after "
                        "the next one you join."
                    )
                )
            )
        )

    async def _recent(self, ctx: FlowContext) -> list[Event]:
        now = ctx.now()
        since = now - self.options.window - timedelta(days=2)
        events = await ctx.uow.feedback.started_between(since, now)
        return [e for e in events if feedback_open(e, now, self.options)]

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        event_id = prompt.context.get("event_id")
        if not isinstance(event_id, int) or prompt.person_id != ctx.person.id:
            return _not_yours(ctx)
        event = await ctx.uow.events.get(event_id)
        request = await ctx.uow.feedback.request(event_id, ctx.person.id)
        if event is None or request is None:
            return _not_yours(ctx)
        if choice_id == "later":
            return Transition.end(
                OutMessage(
                    ctx._(
                        N_(
                            "That's fine. The button works later too, or write /feedback "
                            "when it suits you."
                        )
                    )
                )
            )
        if choice_id != "start":
            return None
        if not feedback_open(event, ctx.now(), self.options):
            return _closed(ctx, event)
        return await resume_state(ctx.uow, event, request)

    # -- questions --------------------------------------------------------------------------

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        event = await ctx.uow.events.get(int(data["event_id"]))
        assert event is not None
        skip = ctx.choice("skip", N_("Skip"), "⏭", "spring over", "skip", "-")
        match Step(state):
            case Step.CAME:
                return OutMessage(
                    ctx._(
                        N_(
                            "Thank you for {title}! 🌿 A few quick questions; skip any you "
                            "like, and stop whenever you want.\n\nFirst: did you come?"
                        )
                    ).format(title=event.title),
                    choices=(
                        ctx.choice("came", N_("Yes, I came"), "✅", "ja", "yes"),
                        ctx.choice("notcame", N_("No, I didn't come"), "❌", "nej", "no"),
                    ),
                )
            case Step.STEP:
                return await self._step_question(ctx, event, int(data["i"]))
            case Step.WHY:
                if data.get("verdict") == Verdict.GOOD:
                    text = ctx._(
                        N_(
                            "Lovely! Would you like to say what was good? Write a few words "
                            "or send a voice note."
                        )
                    )
                else:
                    text = ctx._(
                        N_(
                            "Sorry to hear that. Would you like to say what wasn't good? "
                            "Write a few words or send a voice note."
                        )
                    )
                return OutMessage(text, choices=(skip,), expects_text=True)
            case Step.MATTERS:
                return OutMessage(
                    ctx._(N_("What matters to you, when you join something like this?")),
                    choices=(skip,),
                    expects_text=True,
                )
            case Step.NEXT:
                return OutMessage(
                    ctx._(N_("What should we do next time?")), choices=(skip,), expects_text=True
                )
            case Step.SIGN:
                return OutMessage(
                    ctx._(
                        N_(
                            "The organisers see what you wrote without your name. "
                            "Would you like your name to be shown with it?"
                        )
                    ),
                    choices=(
                        ctx.choice("anon", N_("No, without my name"), "🙂", "nej", "no"),
                        ctx.choice("signed", N_("Yes, with my name"), "✍️", "ja", "yes"),
                    ),
                )
            case Step.SNAP_CONSENT:
                return OutMessage(
                    ctx._(
                        N_(
                            "Would you like to share photos and voice notes with the "
                            "organisers? They are kept in the event's log, and /forget deletes "
                            "them. I only ask this once; /settings can change it later."
                        )
                    ),
                    choices=(
                        ctx.choice("yes", N_("Yes, share them"), "📷", "ja", "yes"),
                        ctx.choice("no", N_("No, don't keep them"), "🚫", "nej", "no"),
                    ),
                )
            case Step.AGAIN:
                return OutMessage(
                    ctx._(
                        N_(
                            "You have already told us about {title}. Thank you! "
                            "Would you like to change something?"
                        )
                    ).format(title=event.title),
                    choices=(
                        ctx.choice("again", N_("Yes, go through it again"), "🔁"),
                        ctx.choice("done", N_("No, that's all"), "👍", "nej", "no"),
                    ),
                )

    async def _step_question(self, ctx: FlowContext, event: Event, index: int) -> OutMessage:
        steps = steps_of(event) or [event.title]
        index = min(index, len(steps) - 1)
        lines = [
            ctx._(N_("Step {number} of {count}: {step}")).format(
                number=index + 1, count=len(steps), step=steps[index]
            ),
            ctx._(N_("How was it for you?")),
        ]
        request = await ctx.uow.feedback.request(event.id, ctx.person.id)
        if request is not None:
            before = (await ctx.uow.feedback.answers(request.id)).get(index)
            if before is not None:
                lines.append(
                    ctx._(N_("(Before, you answered: {answer})")).format(
                        answer=ctx._(VERDICT_LABELS[Verdict(before.verdict)])
                    )
                )
        return OutMessage(
            "\n".join(lines),
            choices=(
                ctx.choice("good", VERDICT_LABELS[Verdict.GOOD], "👍", "godt", "good", "god"),
                ctx.choice("bad", VERDICT_LABELS[Verdict.BAD], "👎", "skidt", "bad", "dårligt"),
                ctx.choice("skip", VERDICT_LABELS[Verdict.SKIP], "⏭", "spring over", "skip", "-"),
            ),
        )

    # -- answers ----------------------------------------------------------------------------

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        event = await ctx.uow.events.get(int(data["event_id"]))
        request = (
            await ctx.uow.feedback.request(event.id, ctx.person.id) if event is not None else None
        )
        if event is None or request is None:
            return _not_yours(ctx)
        if not feedback_open(event, ctx.now(), self.options):
            return _closed(ctx, event)
        request.updated_at = ctx.now()
        if request.started_at is None:
            request.started_at = ctx.now()

        step = Step(state)
        if answer.media is not None and not (
            step == Step.WHY and answer.media.kind == MediaKind.VOICE
        ):
            return await self._media_to_log(ctx, event, state, data, answer.media)

        match step:
            case Step.CAME:
                if answer.choice not in ("came", "notcame"):
                    return Transition.stay(data)
                request.came = answer.choice == "came"
                if request.came and steps_of(event):
                    return self._go(request, Step.STEP, {**data, "i": 0})
                if not request.came:
                    note = ctx._(N_("Thanks for telling us. We hope to see you another time!"))
                    return self._go(request, Step.MATTERS, data, OutMessage(note))
                return self._go(request, Step.MATTERS, data)
            case Step.STEP:
                index = int(data["i"])
                if index >= len(steps_of(event)):  # the journey was shortened meanwhile
                    return self._go(request, Step.MATTERS, {"event_id": event.id})
                if answer.choice not in ("good", "bad", "skip"):
                    return Transition.stay(data)
                await ctx.uow.feedback.set_answer(
                    request, index, steps_of(event)[index], answer.choice
                )
                wants_why = answer.choice == Verdict.BAD or (
                    answer.choice == Verdict.GOOD and self.options.ask_why_after_good
                )
                if wants_why:
                    return self._go(request, Step.WHY, {**data, "verdict": answer.choice})
                return await self._after_step(ctx, event, request, data, index)
            case Step.WHY:
                index = int(data["i"])
                if answer.media is not None:
                    try:
                        snap = await make_snap(
                            self.options,
                            answer.media,
                            event_id=event.id,
                            person_id=ctx.person.id,
                            platform=ctx.ref.platform,
                            purpose="why",
                        )
                    except TooLarge as too_large:
                        return Transition.stay(data, self._too_large(ctx, too_large))
                    await ctx.uow.feedback.add_snap(snap)
                    await ctx.uow.feedback.set_comment(
                        request, ctx.person.id, index, answer.media.caption, snap.id
                    )
                elif answer.text:
                    await ctx.uow.feedback.set_comment(
                        request, ctx.person.id, index, answer.text.strip()[:MAX_WORDS]
                    )
                data = {k: v for k, v in data.items() if k != "verdict"}
                thanks = OutMessage(ctx._(N_("Thank you, noted."))) if not answer.choice else None
                return await self._after_step(ctx, event, request, data, index, thanks)
            case Step.MATTERS | Step.NEXT:
                if answer.text and not answer.choice:
                    kind = IdeaKind.MATTERS if step == Step.MATTERS else IdeaKind.NEXT_TIME
                    await ctx.uow.feedback.set_idea(
                        request, ctx.person.id, kind, answer.text.strip()[:MAX_WORDS]
                    )
                if step == Step.MATTERS:
                    return self._go(request, Step.NEXT, data)
                if await ctx.uow.feedback.has_words(request.id):
                    return self._go(request, Step.SIGN, data)
                return self._finish(ctx, request)
            case Step.SIGN:
                if answer.choice not in ("anon", "signed"):
                    return Transition.stay(data)
                request.signed = answer.choice == "signed"
                return self._finish(ctx, request)
            case Step.SNAP_CONSENT:
                return await self._consent(ctx, event, data, answer)
            case Step.AGAIN:
                if answer.choice == "again":
                    request.completed_at = None
                    return self._go(request, Step.CAME, data)
                return Transition.end(OutMessage(ctx._(N_("Thank you again! 🌿"))))
        return Transition.stay(data)  # pragma: no cover - every state is handled above

    def _go(
        self, request: FeedbackRequest, state: Step, data: dict[str, Any], *say: OutMessage
    ) -> Transition:
        request.stage = str(state)
        return Transition.go(state, data, *say)

    async def _after_step(
        self,
        ctx: FlowContext,
        event: Event,
        request: FeedbackRequest,
        data: dict[str, Any],
        index: int,
        *say: OutMessage | None,
    ) -> Transition:
        said = tuple(message for message in say if message is not None)
        if index + 1 < len(steps_of(event)):
            return self._go(request, Step.STEP, {**data, "i": index + 1}, *said)
        return self._go(request, Step.MATTERS, {"event_id": event.id}, *said)

    def _finish(self, ctx: FlowContext, request: FeedbackRequest) -> Transition:
        request.completed_at = ctx.now()
        request.stage = "done"
        if request.signed:
            words = ctx._(
                N_(
                    "Thank you so much! 🌿 The organisers read your answers to make the next "
                    "event better. Your name is shown with what you wrote, as you chose."
                )
            )
        else:
            words = ctx._(
                N_(
                    "Thank you so much! 🌿 The organisers read your answers to make the next "
                    "event better. They see them without your name."
                )
            )
        more = ctx._(
            N_(
                "Have photos or a voice note from the day? Send them with /snap in the next "
                "few days. /feedback lets you change your answers."
            )
        )
        return Transition.end(OutMessage(words + "\n\n" + more))

    # -- the snap-log -------------------------------------------------------------------------

    def _too_large(self, ctx: FlowContext, error: TooLarge) -> OutMessage:
        megabytes = max(1, error.limit // (1024 * 1024))
        return OutMessage(
            ctx._(
                N_(
                    "That file is too large: I can keep up to {mb} MB. Could you send a "
                    "smaller photo or a shorter voice note?"
                )
            ).format(mb=megabytes)
        )

    async def _media_to_log(
        self, ctx: FlowContext, event: Event, state: str, data: dict[str, Any], media: Media
    ) -> Transition:
        consent = await ctx.uow.feedback.snap_consent(ctx.person.id)
        if consent is None:
            pending = {
                "kind": str(media.kind),
                "file_ref": media.file_ref,
                "mime_type": media.mime_type,
                "size": media.size,
                "caption": media.caption,
            }
            return Transition.go(Step.SNAP_CONSENT, {**data, "pending": pending, "back_to": state})
        if not consent:
            note = not_shared_note(ctx)
            return Transition.stay(data, OutMessage(note))
        return Transition.stay(data, await self._keep(ctx, event, media))

    async def _keep(self, ctx: FlowContext, event: Event, media: Media) -> OutMessage:
        try:
            snap = await make_snap(
                self.options,
                media,
                event_id=event.id,
                person_id=ctx.person.id,
                platform=ctx.ref.platform,
                purpose="log",
            )
        except TooLarge as too_large:
            return self._too_large(ctx, too_large)
        await ctx.uow.feedback.add_snap(snap)
        return OutMessage(
            ctx._(N_("Thank you! It's in the log for {title}.")).format(title=event.title)
        )

    async def _consent(
        self, ctx: FlowContext, event: Event, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if answer.choice not in ("yes", "no"):
            return Transition.stay(data)
        given = answer.choice == "yes"
        await ctx.uow.feedback.set_snap_consent(ctx.person.id, given)
        pending = data.get("pending") or {}
        back_to = str(data.get("back_to") or Step.MATTERS)
        rest = {k: v for k, v in data.items() if k not in ("pending", "back_to")}
        said: tuple[OutMessage, ...] = ()
        if given and pending:
            media = Media(
                kind=MediaKind(pending["kind"]),
                file_ref=str(pending["file_ref"]),
                mime_type=pending.get("mime_type"),
                size=pending.get("size"),
                caption=pending.get("caption"),
            )
            said = (await self._keep(ctx, event, media),)
        elif not given:
            said = (OutMessage(ctx._(N_("OK, I won't keep photos or voice notes from you."))),)
        return Transition.go(back_to, rest, *said)


VERDICT_LABELS = {
    Verdict.GOOD: N_("Good"),
    Verdict.BAD: N_("Bad"),
    Verdict.SKIP: N_("Skip"),
}
