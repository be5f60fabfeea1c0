"""`/initiatives`: citizens' own initiatives, listed for everyone; for coordinators also those
waiting for a look and those hidden, and the moderation view of each (see
`moderate_initiative`: approve, back, hide with a reason, show again).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from conversations.core.choice_ids import ChoiceKey
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.prompts import offer
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.events.flows.answer_invitation import show_invitation
from conversations.events.flows.pick_event import only_coordinators
from conversations.events.rules.invitations import is_open
from conversations.initiatives.flows.moderate_initiative import (
    MODERATE,
    BackingNote,
    BackingWider,
    HidingReason,
    ModerationData,
    initiative,
    moderate,
    moderation_card,
)
from storage.models import Event, EventStatus, Prompt

INITIATIVE = ChoiceKey("i")  # an initiative on the list: "i12"
LIST = "list"  # the state of the list's buttons
MAX_LABEL = 60


def labelled(mark: str, title: str, words: str) -> str:
    """A button's label: a mark, the title and what the mark means in words (never cut off,
    so a screen reader says it too); the title is shortened to fit."""
    room = MAX_LABEL - len(mark) - len(words) - 4
    short = title if len(title) <= room else title[: max(room - 1, 1)] + "…"
    return f"{mark} {short} ({words})"


@dataclass
class Listing:
    """The list's lines and a button for each initiative on it."""

    lines: list[str] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)

    def waiting(self, ctx: FlowContext, queue: Sequence[Event]) -> None:
        if not queue:
            return
        self.lines.append(ctx._(N_("Waiting for a coordinator to look:")))
        waiting = ctx._(N_("waiting"))
        for event in queue:
            self.lines.append(f"⏳ {event.title}")
            self.choices.append(
                Choice(INITIATIVE.of(event.id), labelled("⏳", event.title, waiting))
            )
        self.lines.append("")

    def listed(self, ctx: FlowContext, shown: Sequence[Event]) -> None:
        if shown:
            self.lines.append(ctx._(N_("Citizens' initiatives:")))
        backed = ctx._(N_("backed by the municipality"))
        for event in shown:
            when = ctx._(N_("an idea")) if event.idea else ctx.when(event.starts_at)
            if event.backed_by_id is not None:
                self.lines.append(f"• 🏛 {event.title} ({backed}) – {when}")
                label = labelled("🏛", event.title, backed)
            else:
                self.lines.append(f"• {event.title} – {when}")
                label = event.title[:MAX_LABEL]
            self.choices.append(Choice(INITIATIVE.of(event.id), label))

    def hidden(self, ctx: FlowContext, count: int) -> None:
        """Last, and never cut off by a long list."""
        line = ctx.ngettext(
            "🙈 {n} initiative is hidden by a coordinator.",
            "🙈 {n} initiatives are hidden by a coordinator.",
            count,
        )
        self.lines += ["", line.format(n=count)]
        self.choices.append(ctx.choice("hidden", N_("See the hidden ones"), "🙈"))

    def message(self) -> OutMessage:
        return OutMessage("\n".join(self.lines).strip(), choices=tuple(self.choices))


class Initiatives(QuestionFlow[ModerationData]):
    """`/initiatives`: everyone sees the list and can open one; coordinators also moderate."""

    name = "initiatives"
    data_model = ModerationData
    commands = (CommandSpec("initiatives", "initiativer", N_("Citizens' own initiatives")),)

    _questions = by_state(BackingNote(), BackingWider(), HidingReason())

    @property
    def questions(self) -> Mapping[str, Question[ModerationData]]:
        return self._questions

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        now = ctx.now()
        shown = list(await ctx.uow.initiatives.initiatives(now))
        listing = Listing()
        hidden: Sequence[Event] = ()
        if ctx.is_coordinator:
            queue = await ctx.uow.initiatives.awaiting_approval()
            listing.waiting(ctx, queue)
            shown = [e for e in shown if e not in queue]
            hidden = await ctx.uow.initiatives.hidden_initiatives(now)
        if not shown and not listing.choices and not hidden:
            return Transition.end(
                OutMessage(
                    ctx._(N_("No initiatives right now. /initiative starts one of your own!"))
                )
            )
        listing.listed(ctx, shown)
        listing.choices = listing.choices[: 9 if hidden else 10]
        if hidden:
            listing.hidden(ctx, len(hidden))
        return Transition.end(await offer(ctx, self, listing.message(), state=LIST, context={}))

    async def handle(
        self, ctx: FlowContext, state: str, data: ModerationData, answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator or await initiative(ctx, data.event_id) is None:
            return only_coordinators(ctx)
        return await super().handle(ctx, state, data, answer)

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        if prompt.person_id != ctx.person.id:
            return Transition.end(OutMessage(ctx._(N_("That choice wasn't for you."))))
        if prompt.state == LIST:
            return await self._from_list(ctx, choice_id)
        if prompt.state != MODERATE:
            return None
        if not ctx.is_coordinator:  # a role can be taken away; buttons prove nothing
            return only_coordinators(ctx)
        event = await initiative(ctx, prompt.context.get("event_id"))
        return await moderate(ctx, self, event, choice_id) if event is not None else None

    async def _from_list(self, ctx: FlowContext, choice_id: str) -> Transition | None:
        if choice_id == "hidden":
            if not ctx.is_coordinator:
                return only_coordinators(ctx)
            return await self._hidden_list(ctx)
        event = await initiative(ctx, INITIATIVE.parse(choice_id))
        return await self._open(ctx, event) if event is not None else None

    async def _hidden_list(self, ctx: FlowContext) -> Transition:
        hidden = await ctx.uow.initiatives.hidden_initiatives(ctx.now())
        if not hidden:
            return Transition.end(OutMessage(ctx._(N_("No initiatives are hidden right now."))))
        lines = [ctx._(N_("Hidden initiatives. Open one to show it again:"))]
        for event in hidden:
            lines.append(f"🙈 {event.title} – {event.hidden_reason or '–'}")
        message = OutMessage(
            "\n".join(lines),
            choices=tuple(
                Choice(INITIATIVE.of(event.id), f"🙈 {event.title}"[:MAX_LABEL]) for event in hidden
            ),
        )
        return Transition.end(await offer(ctx, self, message, state=LIST, context={}))

    async def _open(self, ctx: FlowContext, event: Event) -> Transition:
        if event.status != EventStatus.PUBLISHED and not ctx.is_coordinator:
            return Transition.end(OutMessage(ctx._(N_("That initiative is no longer open."))))
        if is_open(event, ctx.now()) and event.created_by_id != ctx.person.id:
            await ctx.uow.events.invite(event.id, ctx.person.id, "list")
        said: list[OutMessage] = []
        if is_open(event, ctx.now()):
            said.append(await show_invitation(ctx, event))
        if ctx.is_coordinator:
            said.append(await moderation_card(ctx, self, event))
        return Transition.end(*said)
