"""The conversation engine: runs flows, keeps their state and prompts in the database.

Everything it changes goes through the caller's unit of work, in the same transaction as
whatever the flow wrote, so a step is either wholly done (answer saved, state moved on,
next question stored) or not at all."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.matching import match_choice
from conversations.core.messages import (
    ChoiceEcho,
    ChoicePick,
    Inbound,
    Outgoing,
    OutMessage,
    Reaction,
)
from conversations.core.prompts import FORGIVING, REWORDED_HINTS, TOGGLES, TYPED_HINT
from conversations.core.taps import as_answer_to, edited_in_place
from storage.models import Conversation, Prompt

log = logging.getLogger(__name__)


MAX_HISTORY = 30


DETACHED_REPLY_WINDOW = timedelta(days=3)


class QuestionOnItsWay(Exception):
    """A reaction on a message that is not tied to a question (yet) while a question to
    this chat is still on its way: the message it answers may be that one, sent before the
    outcome was written (or before a crash). Nothing is committed; handle it again shortly."""


QUESTION_ON_ITS_WAY_WINDOW = timedelta(days=1)


class UnknownFlow(KeyError):
    pass


class Engine:
    def __init__(self, flows: Sequence[Flow], *, conversation_ttl: timedelta) -> None:
        self._flows: Mapping[str, Flow] = {flow.name: flow for flow in flows}
        if len(self._flows) != len(flows):
            names = [flow.name for flow in flows]
            shared = sorted({name for name in names if names.count(name) > 1})
            raise ValueError(f"two flows share a name: {shared}")
        self._ttl = conversation_ttl

    def flow(self, name: str) -> Flow:
        try:
            return self._flows[name]
        except KeyError as exc:
            raise UnknownFlow(name) from exc

    @property
    def flow_names(self) -> tuple[str, ...]:
        return tuple(self._flows)

    # -- reading state -------------------------------------------------------------------

    async def current(self, ctx: FlowContext) -> tuple[Conversation | None, list[Outgoing]]:
        """The live conversation, if any; an expired one is closed with a short word."""
        ref = ctx.ref
        conversation = await ctx.uow.conversations.get(ref.platform, ref.chat_id, ref.user_id)
        if conversation is None:
            return None, []
        if conversation.flow not in self._flows or conversation.expires_at <= ctx.now():
            await ctx.uow.conversations.remove(conversation)
            note = ctx._(
                N_(
                    "It has been a while, so I closed what we were doing. "
                    "Everything you already answered is saved."
                )
            )
            return None, [Outgoing(ref, OutMessage(note))]
        return conversation, []

    # -- starting, feeding, going back, cancelling ---------------------------------------

    async def begin(self, ctx: FlowContext, flow_name: str, args: str = "") -> list[Outgoing]:
        """Start `flow_name`, replacing any conversation in progress in this chat."""
        flow = self.flow(flow_name)
        existing, out = await self.current(ctx)
        if existing is not None:
            await ctx.uow.conversations.remove(existing)
        transition = await flow.begin(ctx, args)
        return out + await self._apply(ctx, flow, None, transition)

    async def feed(self, ctx: FlowContext, conversation: Conversation) -> list[Outgoing]:
        """Hand the inbound message to the conversation's current question."""
        inbound = ctx.inbound
        assert inbound is not None
        flow = self.flow(conversation.flow)
        prompt = await self._current_prompt(ctx, conversation)
        choices = prompt.choices if prompt is not None else []
        expects_text = bool(prompt.context.get("expects_text")) if prompt is not None else True

        answer: Answer | None = None
        if inbound.media is not None:
            if not flow.takes_media(conversation.state):
                return await self._cannot_use(ctx, conversation, bool(choices), expects_text)
            caption = inbound.media.caption
            answer = Answer(
                media=inbound.media, text=caption.replace("\x00", "") if caption else None
            )
        elif inbound.location is not None:
            if not flow.takes_location(conversation.state):
                return await self._cannot_use(ctx, conversation, bool(choices), expects_text)
            answer = Answer(location=inbound.location)
        elif inbound.text is not None:
            picked = (
                match_choice(inbound.text, choices, exact_only=expects_text) if choices else None
            )
            if picked is not None:
                answer = Answer(choice=picked)
            elif expects_text or not choices:
                # nobody means a NUL, and PostgreSQL refuses one in text: no flow gets it
                answer = Answer(text=inbound.text.replace("\x00", ""))
        if answer is None:
            hint = ctx._(
                N_("I didn't quite catch that. Tap one of the choices, or type its number.")
            )
            return [Outgoing(ctx.ref, OutMessage(hint)), *await self._reask(ctx, conversation)]
        transition = await flow.handle(
            ctx, conversation.state, flow.load(conversation.data), answer
        )
        return await self._apply(ctx, flow, conversation, transition)

    async def choose(self, ctx: FlowContext, pick: ChoicePick) -> list[Outgoing]:
        """A button press. Checked against the stored prompt before anything happens."""
        prompt = await self._picked(ctx, pick)
        if prompt is None or not _has_choice(prompt, pick.choice_id):
            log.warning("rejected choice %r from %s", pick, ctx.ref)
            return await self._not_valid(ctx)
        return await self._resolve(ctx, prompt, pick.choice_id, message_id=pick.message_id)

    async def prompt_answered(self, ctx: FlowContext, inbound: Inbound) -> Prompt | None:
        """The stored question of this person's that a button press or reaction is on."""
        if inbound.choice is not None:
            return await self._picked(ctx, inbound.choice)
        if inbound.reaction is not None:
            return await self._reacted_on(ctx, inbound.reaction)
        return None

    async def _picked(self, ctx: FlowContext, pick: ChoicePick) -> Prompt | None:
        prompt = await ctx.uow.prompts.get(pick.prompt_id)
        return prompt if self._belongs(ctx, prompt) else None

    async def _reacted_on(self, ctx: FlowContext, reaction: Reaction) -> Prompt | None:
        ref = ctx.ref
        prompt = await ctx.uow.prompts.by_message(ref.platform, ref.chat_id, reaction.message_id)
        return prompt if self._belongs(ctx, prompt) else None

    async def answer_latest_offer(self, ctx: FlowContext, text: str) -> list[Outgoing] | None:
        """A typed reply ("1", "tæl mig med") to the newest message with buttons, if it fits.

        Only an exact answer counts (a number, an emoji, a label), and only to a message from
        the last few days, so ordinary chatter is never taken as a choice. A question that
        says so in its context (`FORGIVING`, an invitation) also takes a typo or the start
        of a label; one with a `TYPED_HINT` answers anything else with that one line, and
        stays the question typed replies go to (no menu takes its place).
        """
        since = ctx.now() - DETACHED_REPLY_WINDOW
        ref = ctx.ref
        prompt = await ctx.uow.prompts.latest_detached(
            ref.platform, ref.chat_id, ref.user_id, since=since
        )
        if prompt is None:
            return None
        forgiving = bool(prompt.context.get(FORGIVING))
        picked = match_choice(text, prompt.choices, exact_only=not forgiving)
        if picked is None:
            hint = prompt.context.get(TYPED_HINT)
            if isinstance(hint, str) and hint:
                hint = REWORDED_HINTS.get(hint, hint)
                return [Outgoing(ctx.ref, OutMessage(ctx._(hint)))]
            return None
        return await self._resolve(ctx, prompt, picked)

    async def react(self, ctx: FlowContext, reaction: Reaction) -> list[Outgoing]:
        """A reaction on one of the bot's messages, mapped to the choice with that emoji.

        In a list one taps on and off, the question is then edited in place (its reactions
        stay where they are), and taking a reaction back undoes that choice; taking back
        any other answer changes nothing."""
        prompt = await self._reacted_on(ctx, reaction)
        if prompt is None:
            ref = ctx.ref
            since = ctx.now() - QUESTION_ON_ITS_WAY_WINDOW
            if not ctx.last_try and await ctx.uow.prompts.on_its_way(
                ref.platform, ref.chat_id, since=since
            ):
                raise QuestionOnItsWay(reaction.message_id)
            return []  # reactions on other messages, or by other people, are just reactions
        key = reaction.key.replace("\ufe0f", "")
        matches = [c for c in prompt.choices if (c.get("emoji") or "").replace("\ufe0f", "") == key]
        number = keycap_number(key)
        if not matches and number is not None and 1 <= number <= len(prompt.choices):
            # A transport without buttons shows a choice that has no emoji as a keycap digit.
            by_position = prompt.choices[number - 1]
            matches = [] if by_position.get("emoji") else [by_position]
        if reaction.removed:
            toggles = prompt.context.get(TOGGLES) or ()
            if len(matches) != 1 or matches[0]["id"] not in toggles:
                return []
            if prompt.bound:
                conversation, _ = await self.current(ctx)
                if conversation is None or conversation.prompt_id != prompt.id:
                    return []  # a list already left: taking a reaction back there is tidying
            return await self._resolve(ctx, prompt, str(matches[0]["id"]), in_place=True)
        if len(matches) != 1:
            hint = N_(
                "That is not one of the answers. Pick one of those shown with the question, "
                "or write the number of your answer."
            )
            return [Outgoing(ctx.ref, OutMessage(ctx._(hint)))]
        in_place = str(matches[0]["id"]) in (prompt.context.get(TOGGLES) or ())
        out = await self._resolve(ctx, prompt, str(matches[0]["id"]), in_place=in_place)
        return as_answer_to(out, prompt, reaction.message_id)

    async def back(self, ctx: FlowContext) -> list[Outgoing]:
        conversation, out = await self.current(ctx)
        if conversation is None:
            return out + [
                Outgoing(ctx.ref, OutMessage(ctx._(N_("There is nothing to go back to."))))
            ]
        history = list(conversation.history)
        if not history:
            note = ctx._(N_("This is the first question, so there is nothing before it."))
            return [Outgoing(ctx.ref, OutMessage(note)), *await self._reask(ctx, conversation)]
        previous = history.pop()
        conversation.state = previous["state"]
        conversation.data = previous["data"]
        conversation.history = history
        self._touch(ctx, conversation)
        return await self._reask(ctx, conversation)

    async def cancel(self, ctx: FlowContext) -> list[Outgoing]:
        conversation, out = await self.current(ctx)
        if conversation is None:
            text = ctx._(
                N_("There is nothing to stop right now. Write /help to see what I can do.")
            )
            return out + [Outgoing(ctx.ref, OutMessage(text))]
        await ctx.uow.conversations.remove(conversation)
        text = ctx._(
            N_(
                "OK, we'll stop here. What you already answered is saved. "
                "Write /help whenever you like."
            )
        )
        return [Outgoing(ctx.ref, OutMessage(text))]

    async def reask(self, ctx: FlowContext) -> list[Outgoing]:
        """Show the current question again (after /help, say)."""
        conversation, out = await self.current(ctx)
        if conversation is None:
            return out
        return out + await self._reask(ctx, conversation)

    # -- internals -----------------------------------------------------------------------

    def _belongs(self, ctx: FlowContext, prompt: Prompt | None) -> bool:
        return prompt is not None and (prompt.platform, prompt.chat_id, prompt.user_id) == (
            ctx.ref.platform,
            ctx.ref.chat_id,
            ctx.ref.user_id,
        )

    async def _resolve(
        self,
        ctx: FlowContext,
        prompt: Prompt,
        choice_id: str,
        *,
        message_id: str | None = None,
        in_place: bool = False,
    ) -> list[Outgoing]:
        """`in_place`: a reaction on a list one taps on and off; the question that follows,
        if it is the same list, is put in place of the tapped message."""
        carrier = message_id or prompt.platform_message_id
        # read before the flow runs: an answered card may get other buttons
        label = next((c["label"] for c in prompt.choices if c["id"] == choice_id), choice_id)
        if prompt.bound:
            conversation, out = await self.current(ctx)
            if conversation is None or conversation.prompt_id != prompt.id:
                text = ctx._(N_("You have already answered that one, or it has closed."))
                stale = [Outgoing(ctx.ref, OutMessage(text))]
                if conversation is not None:
                    stale += await self._reask(ctx, conversation)
                return out + stale
            flow = self.flow(conversation.flow)
            transition = await flow.handle(
                ctx, conversation.state, flow.load(conversation.data), Answer(choice=choice_id)
            )
            echo = self._echo(ctx, label, carrier, transition)
            out = await self._apply(ctx, flow, conversation, transition)
            if in_place and carrier is not None and transition.stays:
                out = edited_in_place(out, prompt, carrier)
                if out[-1].message is not None and out[-1].message.in_place_of == carrier:
                    # the message now carries the new question only: a tap meanwhile waits
                    # for it (QuestionOnItsWay) instead of meeting this one closed
                    prompt.platform_message_id = None
            return echo + out

        detached_flow = self._flows.get(prompt.flow)
        detached = await detached_flow.detached(ctx, prompt, choice_id) if detached_flow else None
        if detached_flow is None or detached is None:
            return await self._not_valid(ctx)
        flow, transition = detached_flow, detached
        echo = self._echo(ctx, label, carrier, transition)
        existing: Conversation | None = None
        if not transition.ends:
            existing, _ = await self.current(ctx)
            if existing is not None and existing.flow != flow.name:
                await ctx.uow.conversations.remove(existing)
                existing = None
        return echo + await self._apply(ctx, flow, existing, transition)

    def _echo(
        self,
        ctx: FlowContext,
        label: str,
        message_id: str | None,
        transition: Transition,
    ) -> list[Outgoing]:
        """The mark on the answered message: only once the flow has taken the answer."""
        if message_id is None or not transition.accepted:
            return []
        echo = ChoiceEcho(message_id, label, replacement=transition.replaces)
        return [Outgoing(ctx.ref, echo=echo)]

    async def _not_valid(self, ctx: FlowContext) -> list[Outgoing]:
        text = ctx._(
            N_("That choice is no longer open. Here is where we are; nothing has been lost.")
        )
        conversation, out = await self.current(ctx)
        reply = [Outgoing(ctx.ref, OutMessage(text))]
        if conversation is not None:
            reply += await self._reask(ctx, conversation)
        return out + reply

    async def _cannot_use(
        self, ctx: FlowContext, conversation: Conversation, has_choices: bool, expects_text: bool
    ) -> list[Outgoing]:
        """A photo, voice note, file or location where the question wants a choice or words."""
        if expects_text and has_choices:
            text = ctx._(
                N_(
                    "Sorry, I can't use that here. Please write your answer, "
                    "or tap one of the choices."
                )
            )
        elif expects_text:
            text = ctx._(N_("Sorry, I can't use that here. Please write your answer."))
        else:
            text = ctx._(
                N_(
                    "Sorry, I can't use that here. "
                    "Please tap one of the choices, or type its number."
                )
            )
        return [Outgoing(ctx.ref, OutMessage(text)), *await self._reask(ctx, conversation)]

    async def _current_prompt(self, ctx: FlowContext, conversation: Conversation) -> Prompt | None:
        if conversation.prompt_id is None:
            return None
        return await ctx.uow.prompts.get(conversation.prompt_id)

    async def _reask(self, ctx: FlowContext, conversation: Conversation) -> list[Outgoing]:
        flow = self.flow(conversation.flow)
        question = await flow.prompt(ctx, conversation.state, flow.load(conversation.data))
        stored = await self._store_prompt(ctx, flow, conversation.state, question)
        conversation.prompt_id = stored.prompt_id
        self._touch(ctx, conversation)
        return [Outgoing(ctx.ref, stored)]

    async def _apply(
        self,
        ctx: FlowContext,
        flow: Flow,
        conversation: Conversation | None,
        transition: Transition,
    ) -> list[Outgoing]:
        out = [Outgoing(ctx.ref, message) for message in transition.say]
        for message in transition.say:
            if message.choices and message.prompt_id is None:
                raise ValueError("a message with choices outside a question needs a stored prompt")

        if transition.ends:
            if conversation is not None:
                await ctx.uow.conversations.remove(conversation)
            if transition.then is not None:
                name, args = transition.then
                out += await self.begin(ctx, name, args)
            return out

        if conversation is None:
            assert isinstance(transition.state, str), "a flow must begin in a state"
            now = ctx.now()
            conversation = Conversation(
                platform=ctx.ref.platform,
                chat_id=ctx.ref.chat_id,
                user_id=ctx.ref.user_id,
                person_id=ctx.person.id,
                flow=flow.name,
                state=transition.state,
                data=transition.stored_data(),
                history=[],
                started_at=now,
                updated_at=now,
                expires_at=now + self._ttl,
            )
            ctx.uow.conversations.add(conversation)
        elif transition.stays:
            conversation.data = transition.stored_data()
        else:
            assert isinstance(transition.state, str)
            history = [
                *conversation.history,
                {"state": conversation.state, "data": conversation.data},
            ]
            conversation.history = history[-MAX_HISTORY:]
            conversation.state = transition.state
            conversation.data = transition.stored_data()
        self._touch(ctx, conversation)
        if transition.ask:
            out += await self._reask(ctx, conversation)
        return out

    async def _store_prompt(
        self, ctx: FlowContext, flow: Flow, state: str, message: OutMessage
    ) -> OutMessage:
        prompt = await ctx.uow.prompts.create(
            platform=ctx.ref.platform,
            chat_id=ctx.ref.chat_id,
            user_id=ctx.ref.user_id,
            person_id=ctx.person.id,
            flow=flow.name,
            state=state,
            choices=[choice.as_record() for choice in message.choices],
            context={
                "expects_text": message.expects_text,
                **({TOGGLES: list(message.toggles)} if message.toggles else {}),
            },
            bound=True,
        )
        return replace(message, prompt_id=prompt.id)

    def _touch(self, ctx: FlowContext, conversation: Conversation) -> None:
        conversation.updated_at = ctx.now()
        conversation.expires_at = ctx.now() + self._ttl


def keycap_number(key: str) -> int | None:
    """1️⃣ … 9️⃣ -> 1 … 9 and 🔟 -> 10; anything else -> None."""
    key = key.replace("\ufe0f", "")
    if key == "\U0001f51f":
        return 10
    if len(key) == 2 and key[1] == "\u20e3" and key[0] in "123456789":
        return int(key[0])
    return None


def _has_choice(prompt: Prompt | None, choice_id: str) -> bool:
    return prompt is not None and any(c.get("id") == choice_id for c in prompt.choices)
