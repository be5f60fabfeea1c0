"""The first questions of a new event: what it is called and says, when and where it is."""

from __future__ import annotations

from conversations.core.dates import parse_end, parse_when
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question
from conversations.core.words import NO_WORDS, YES_WORDS
from conversations.events.flows.new_event.draft import (
    NewEventData,
    Step,
    retry,
    skip_choice,
    squeezed,
)

MAX_TITLE = 120
MAX_TEXT = 1500
MAX_PLACE = 200


class TitleQuestion(Question[NewEventData]):
    state = Step.TITLE

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("What is it called? For example: Skovtur med suppe")), expects_text=True
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        title = squeezed(answer)
        if not title or len(title) > MAX_TITLE:
            return retry(ctx, data, N_("Please write a short title."))
        data.title = title
        return Transition.go(Step.TEXT, data)


class TitleAndText(TitleQuestion):
    """The title, and the invitation's text on the lines under it if written at once: one
    message for both (the text can also be added at the preview)."""

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "What is it called? For example: Skovtur med suppe\n"
                    "You may write a few inviting lines under the title in the same message."
                )
            ),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        first, _, rest = (answer.text or "").strip().partition("\n")
        transition = await super().take(ctx, data, Answer(text=first))
        if transition.stays:
            return transition
        body = rest.strip()
        if len(body) > MAX_TEXT:
            return retry(ctx, data, N_("The text under the title is too long. Please shorten it."))
        data.text = body
        return Transition.go(Step.WHEN, data)


class TextQuestion(Question[NewEventData]):
    """The invitation's text; asked at the preview too, and then goes back to it."""

    state = Step.TEXT

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("Write a short, inviting text: what will happen, who is it for?")),
            choices=(skip_choice(ctx),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        after = Step.WHEN if data.start is None else Step.PREVIEW
        if answer.choice == "skip":
            data.text = ""
            return Transition.go(after, data)
        body = (answer.text or "").strip()  # the lines as written: it is the invitation
        if not body or len(body) > MAX_TEXT:
            return retry(ctx, data, N_("Please write a few lines, or skip."))
        data.text = body
        return Transition.go(after, data)


def take_when(ctx: FlowContext, data: NewEventData, text: str) -> Transition:
    """A start (and perhaps an end) read from what was written."""
    parsed = (
        parse_when(text, ctx.now(), ctx.config.timezone, ctx.translator.language) if text else None
    )
    if parsed is None:
        return retry(
            ctx,
            data,
            N_(
                "I couldn't read a date and time in that. Try for example "
                '"lørdag kl 10" or "5/12 10-13".'
            ),
        )
    if parsed.start <= ctx.now():
        return retry(ctx, data, N_("That time has passed. Please give a later one."))
    data.start, data.end = parsed.start, parsed.end
    # read back in full by the next question, which also offers to change it
    return Transition.go(Step.PLACE if parsed.end else Step.END, data)


class WhenQuestion(Question[NewEventData]):
    state = Step.WHEN

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "When does it start? Write it as you would say it, for example "
                    '"lørdag kl 10", "5/12 10-13" or "tomorrow 18:00".'
                )
            ),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        return take_when(ctx, data, squeezed(answer))


class EndQuestion(Question[NewEventData]):
    state = Step.END

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        # the start read back in full, so a misread date is seen before anything else
        return OutMessage(
            ctx._(
                N_('It starts {when}. And when does it end? For example "13" or "kl 15:30".')
            ).format(when=data.when(ctx)),
            choices=(skip_choice(ctx),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "skip":
            data.end = None
            return Transition.go(Step.PLACE, data)
        text = squeezed(answer)
        start = data.starts
        end = (
            parse_end(text, start, ctx.now(), ctx.config.timezone, ctx.translator.language)
            if text
            else None
        )
        if end is None or end <= start:
            return retry(ctx, data, N_('Please write a time after the start, like "13", or skip.'))
        data.end = end
        return Transition.go(Step.PLACE, data)


class ConfirmWhenQuestion(Question[NewEventData]):
    state = Step.CONFIRM_WHEN

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("So: {when}. Is that right?")).format(when=data.when(ctx)),
            choices=(
                ctx.choice("yes", N_("Yes, that's right"), "✅", *YES_WORDS),
                ctx.choice("again", N_("No, type it again"), "✏️", *NO_WORDS),
            ),
            expects_text=True,  # a new date typed here is taken as the answer
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "yes":
            if data.starts <= ctx.now():
                return Transition.go(
                    Step.WHEN, data, OutMessage(ctx._(N_("That time has passed.")))
                )
            return Transition.go(Step.PLACE, data)
        if answer.choice == "again":
            return Transition.go(Step.WHEN, data)
        return take_when(ctx, data, squeezed(answer))


class PlaceQuestion(Question[NewEventData]):
    """Where, with the time just given read back in full (and a way to change it); a map
    pin is taken here too, before or just after the name."""

    state = Step.PLACE

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        question = ctx._(
            N_(
                'Where is it? Write the place, for example "Parkeringspladsen ved '
                'Hald Ege". You can also share a location (a map pin).'
            )
        )
        if data.start is None or data.idea:
            return OutMessage(question, expects_text=True)
        when = ctx._(N_("So: {when}.")).format(when=data.when(ctx))
        return OutMessage(
            f"{when}\n\n{question}",
            choices=(ctx.choice("again", N_("Change the time"), "✏️"),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "again":
            return Transition.go(Step.WHEN, data)
        if answer.location is not None:
            data.lat, data.lon = answer.location.latitude, answer.location.longitude
            if answer.location.title:
                data.place = answer.location.title[:MAX_PLACE]
                return Transition.go(Step.CAPACITY, data)
            note = OutMessage(ctx._(N_("Got the pin. 📍 What is the place called?")))
            return Transition.stay(data, note)
        place = squeezed(answer)
        if not place or len(place) > MAX_PLACE:
            return retry(ctx, data, N_("Please write where it is."))
        data.place = place
        return Transition.go(Step.CAPACITY, data)


class PinQuestion(Question[NewEventData]):
    state = Step.PIN

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("Would you like to add a map pin? Share a location, or skip.")),
            choices=(skip_choice(ctx),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.location is not None:
            data.lat, data.lon = answer.location.latitude, answer.location.longitude
        elif answer.choice != "skip":
            return retry(ctx, data, N_("Share a location with the paperclip, or tap Skip."))
        return Transition.go(Step.CAPACITY, data)
