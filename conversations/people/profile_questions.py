"""The questions about a person, shared by onboarding and /settings.

Each step is a question (`*_question`) and an answer handler (`take_*`) that writes the
answer to the person at once, so stopping half-way never loses what was already said.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from conversations.core.choice_ids import TOPIC
from conversations.core.flow import Answer, FlowContext
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.words import NO_WORDS, SKIP_WORDS, YES_WORDS
from storage.models import Topic, TopicKind

MAX_NAME_LENGTH = 40
QUIET_PRESETS: dict[str, tuple[int, int]] = {
    "22-08": (22 * 60, 8 * 60),
    "21-09": (21 * 60, 9 * 60),
    "20-10": (20 * 60, 10 * 60),
}
_QUIET_TEXT = re.compile(
    r"^\s*(?:kl\.?\s*)?(\d{1,2})(?:[:.](\d{2}))?\s*(?:-|–|—|til|to)\s*(?:kl\.?\s*)?(\d{1,2})(?:[:.](\d{2}))?\s*$",
    re.IGNORECASE,
)


class StepResult:
    """What a step's answer led to: done, or a short word and the same question again."""

    def __init__(self, done: bool, note: OutMessage | None = None) -> None:
        self.done = done
        self.note = note


DONE = StepResult(True)


def _retry(text: str) -> StepResult:
    return StepResult(False, OutMessage(text))


# -- language -----------------------------------------------------------------------------


def language_question(ctx: FlowContext) -> OutMessage:
    # Each language is named in itself, so a person who can't read the other finds theirs.
    return OutMessage(
        ctx._(N_("Which language would you like me to write in?")),
        choices=tuple(
            Choice(language, tr.display_name, tr.emoji, tr.names_for_matching())
            for language in ctx.translations.languages
            if (tr := ctx.translations.get(language))
        ),
    )


def take_language(ctx: FlowContext, answer: Answer) -> StepResult:
    if answer.choice not in ctx.translations.languages:
        return _retry(ctx._(N_("Please choose one of the languages.")))
    ctx.person.language = answer.choice
    ctx.uow.persons.touch(ctx.person)
    ctx.use_language(answer.choice)
    return DONE


# -- name ---------------------------------------------------------------------------------


def name_question(ctx: FlowContext) -> OutMessage:
    choices: list[Choice] = []
    suggested = clean_name(ctx.inbound.sender_name) if ctx.inbound else None
    if suggested and len(suggested) <= MAX_NAME_LENGTH and not ctx.person.display_name:
        choices.append(Choice("suggested", suggested, "🙂"))
    if ctx.person.display_name:
        choices.append(ctx.choice("keep", N_("Keep my name"), "👌"))
    choices.append(ctx.choice("skip", N_("Skip"), "⏭", *SKIP_WORDS))
    return OutMessage(
        ctx._(
            N_(
                "What would you like to be called? A first name or a nickname is fine. "
                "Only the organisers see it."
            )
        ),
        choices=tuple(choices),
        expects_text=True,
    )


def clean_name(raw: str | None) -> str | None:
    if raw is None:
        return None
    printable = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    name = " ".join(printable.split())
    return name or None


async def _suggested_name(ctx: FlowContext) -> str | None:
    """The name offered on the question being answered, as the person saw it.

    Read from the stored prompt, because a button press need not carry the sender's name.
    """
    ref = ctx.ref
    conversation = await ctx.uow.conversations.get(ref.platform, ref.chat_id, ref.user_id)
    prompt = (
        await ctx.uow.prompts.get(conversation.prompt_id)
        if conversation is not None and conversation.prompt_id
        else None
    )
    offered = [
        c.get("label") for c in (prompt.choices if prompt else []) if c.get("id") == "suggested"
    ]
    if offered:
        return clean_name(str(offered[0]))
    return clean_name(ctx.inbound.sender_name) if ctx.inbound else None


async def take_name(ctx: FlowContext, answer: Answer) -> StepResult:
    if answer.choice in ("skip", "keep"):
        return DONE
    if answer.choice == "suggested":
        name = await _suggested_name(ctx)
    else:
        name = clean_name(answer.text)
    if not name:
        return _retry(ctx._(N_("Please write a name, or choose Skip.")))
    if len(name) > MAX_NAME_LENGTH:
        return _retry(
            ctx.ngettext(
                "That is a bit long. Please use at most {limit} character.",
                "That is a bit long. Please use at most {limit} characters.",
                MAX_NAME_LENGTH,
            ).format(limit=MAX_NAME_LENGTH)
        )
    ctx.person.display_name = name
    ctx.uow.persons.touch(ctx.person)
    return DONE


# -- interests and areas ------------------------------------------------------------------


async def topics_available(ctx: FlowContext, kind: TopicKind) -> Sequence[Topic]:
    return await ctx.uow.topics.active(kind)


async def topics_question(ctx: FlowContext, kind: TopicKind) -> OutMessage:
    topics = await ctx.uow.topics.active(kind)
    chosen = await ctx.uow.topics.chosen_ids(ctx.person.id)
    if kind == TopicKind.INTEREST:
        text = ctx._(
            N_(
                "What would you like to hear about? Tap as many as you like, "
                "tap again to remove one, and tap Done when you are ready."
            )
        )
    else:
        text = ctx._(
            N_(
                "Which areas are near you? Tap as many as you like, "
                "tap again to remove one, and tap Done when you are ready."
            )
        )
    choices = [
        Choice(
            id=TOPIC.of(topic.id),
            label=ctx.marked(topic.name(ctx.translator.language), topic.id in chosen),
            aliases=topic.all_names(),
        )
        for topic in topics
    ]
    toggles = tuple(choice.id for choice in choices)
    choices.append(ctx.choice("done", N_("Done"), "👍", "faerdig", "færdig", "ok", *SKIP_WORDS))
    return OutMessage(text, choices=tuple(choices), toggles=toggles)


async def take_topic(ctx: FlowContext, answer: Answer, kind: TopicKind) -> StepResult:
    if answer.choice == "done":
        return DONE
    topic_id = TOPIC.parse(answer.choice)
    if topic_id is not None:
        topic = await ctx.uow.topics.get(topic_id)
        if topic is not None and topic.kind == kind and topic.active:
            await ctx.uow.topics.toggle(ctx.person.id, topic.id)
            return StepResult(False)
    return _retry(ctx._(N_("Tap a topic to choose it, or Done to go on.")))


# -- quiet hours --------------------------------------------------------------------------


def quiet_question(ctx: FlowContext) -> OutMessage:
    return OutMessage(
        ctx._(
            N_(
                "When should I keep quiet? I won't write to you in those hours, except for a "
                "reminder shortly before something you are coming to. You can also type two "
                "times, like 22-7."
            )
        ),
        choices=(
            ctx.choice("none", N_("No quiet hours"), "🔔", "ingen", "none", "nej"),
            Choice("22-08", "22–08", "🌙"),
            Choice("21-09", "21–09", "😴"),
            Choice("20-10", "20–10", "🛌"),
        ),
        expects_text=True,
    )


def parse_quiet_hours(text: str) -> tuple[int, int] | None:
    match = _QUIET_TEXT.match(text)
    if match is None:
        return None
    start_h, start_m, end_h, end_m = match.groups()
    start = int(start_h) * 60 + int(start_m or 0)
    end = int(end_h) * 60 + int(end_m or 0)
    if not (0 <= start < 24 * 60 and 0 <= end < 24 * 60) or start == end:
        return None
    return start, end


def take_quiet(ctx: FlowContext, answer: Answer) -> StepResult:
    if answer.choice == "none":
        window: tuple[int, int] | None = None
    elif answer.choice in QUIET_PRESETS:
        window = QUIET_PRESETS[answer.choice]
    else:
        window = parse_quiet_hours(answer.text or "")
        if window is None:
            return _retry(
                ctx._(N_("I couldn't read those times. Try for example 22-7, or tap a choice."))
            )
    ctx.person.quiet_start_minute, ctx.person.quiet_end_minute = window or (None, None)
    ctx.uow.persons.touch(ctx.person)
    return DONE


def format_quiet(ctx: FlowContext) -> str:
    start, end = ctx.person.quiet_start_minute, ctx.person.quiet_end_minute
    if start is None or end is None:
        return ctx._(N_("none"))
    return f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"


# -- citizens' initiatives ---------------------------------------------------------------


def initiatives_question(ctx: FlowContext) -> OutMessage:
    return OutMessage(
        ctx._(
            N_(
                "Would you like to hear about citizens' own initiatives in your "
                "interests and areas?"
            )
        ),
        choices=(
            ctx.choice("yes", N_("Yes, please"), "🌱", *YES_WORDS),
            # skipping leaves it off, the same as a no
            ctx.choice("no", N_("No, thanks"), "🔕", *NO_WORDS, *SKIP_WORDS),
        ),
    )


def take_initiatives(ctx: FlowContext, answer: Answer) -> StepResult:
    if answer.choice not in ("yes", "no"):
        return StepResult(False)
    ctx.person.hear_initiatives = answer.choice == "yes"
    ctx.uow.persons.touch(ctx.person)
    return DONE


# -- photos and voice notes ---------------------------------------------------------------


def photos_question(ctx: FlowContext) -> OutMessage:
    return OutMessage(
        ctx._(
            N_(
                "Photos and voice notes you send me after an event go to the event's log, "
                "where the organisers can see them. Would you like to share them?"
            )
        ),
        choices=(
            ctx.choice("yes", N_("Yes, share them"), "📷", *YES_WORDS),
            ctx.choice("no", N_("No, don't keep them"), "🚫", *NO_WORDS),
        ),
    )


async def take_photos(ctx: FlowContext, answer: Answer) -> StepResult:
    """The same yes or no journey feedback asks once; switching it off deletes nothing.

    What was shared is part of the events' logs, which the organisers already read;
    /forget is how a person takes it back.
    """
    if answer.choice not in ("yes", "no"):
        return StepResult(False)
    given = answer.choice == "yes"
    await ctx.uow.feedback.set_snap_consent(ctx.person.id, given)
    if not given and await ctx.uow.feedback.has_snaps(ctx.person.id):
        note = ctx._(
            N_(
                "I won't keep new ones. Those you already shared stay in the events' logs; "
                "/forget deletes them."
            )
        )
        return StepResult(True, OutMessage(note))
    return DONE


async def format_photos(ctx: FlowContext) -> str:
    consent = await ctx.uow.feedback.snap_consent(ctx.person.id)
    if consent is None:
        return ctx._(N_("not asked yet"))
    return ctx._(N_("shared with the organisers")) if consent else ctx._(N_("not kept"))


# -- a summary ----------------------------------------------------------------------------


async def profile_summary(ctx: FlowContext, *, photos: bool = True) -> str:
    """What a person has told us, one line each; `photos` adds their yes or no to sharing
    photos (left out at the end of onboarding, which has not asked it)."""
    person = ctx.person
    language = ctx.translator.language
    interests = await ctx.uow.topics.chosen(person.id, TopicKind.INTEREST)
    areas = await ctx.uow.topics.chosen(person.id, TopicKind.AREA)
    nothing = ctx._(N_("none"))
    lines = [
        ctx._(N_("Name: {name}")).format(name=person.display_name or ctx._(N_("(not given)"))),
        ctx._(N_("Language: {language}")).format(
            language=ctx.translations.get(person.language).display_name
        ),
        ctx._(N_("Interests: {topics}")).format(
            topics=", ".join(t.name(language) for t in interests) or nothing
        ),
        ctx._(N_("Areas: {topics}")).format(
            topics=", ".join(t.name(language) for t in areas) or nothing
        ),
        ctx._(N_("Quiet hours: {hours}")).format(hours=format_quiet(ctx)),
        ctx._(N_("Citizens' initiatives: {answer}")).format(
            answer=ctx._(N_("yes, tell me")) if person.hear_initiatives else ctx._(N_("no"))
        ),
    ]
    if photos:
        lines.append(
            ctx._(N_("Photos and voice notes: {answer}")).format(answer=await format_photos(ctx))
        )
    return "\n".join(lines)
