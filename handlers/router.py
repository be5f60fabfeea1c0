"""Where each inbound message goes, and the one place errors are caught.

command -> the flow it starts (after checking role and consent); button or reaction ->
its stored prompt -> the flow; text while a conversation is open -> that conversation;
otherwise onboarding for newcomers, a short word for those who said no to consent (they
are not asked again unless they write /start), and the menu for everyone else.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from conversations.core.commands import CommandSpec, permits
from conversations.core.engine import Engine, QuestionOnItsWay
from conversations.core.flow import FlowConfig, FlowContext
from conversations.core.i18n import N_, Translations
from conversations.core.matching import closest
from conversations.core.messages import (
    ChatRef,
    Command,
    Inbound,
    Outgoing,
    OutMessage,
    message_to_payload,
    parse_command,
)
from conversations.people.flows.accept_new_privacy import AcceptNewPrivacy
from handlers.access import Access
from handlers.commands import BACK, CANCEL, HELP, CommandRegistry
from handlers.menu import Menu
from storage.clock import Clock
from storage.models import ConsentState, PersonStatus, Role
from storage.repositories.outbox import ClaimedMessage, Reply
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4000
RoleListener = Callable[[ChatRef], Awaitable[None]]
# A reply not sent within this long after its step (the process stopped) is sent by the
# platform's outbox worker, first in line; one still unsent after a day is let go.
REPLY_HANDOVER = timedelta(seconds=30)
REPLY_LIFETIME = timedelta(days=1)
# The command a photo sent outside a conversation is pointed to (the snap-log).
SNAP_COMMAND = "snap"


@dataclass(frozen=True, slots=True)
class Handled:
    """What handling one update leaves to send.

    `replies` were written to the outbox in the step's own transaction, in order, so they
    survive a crash after its commit; the caller sends them at once. `echoes` mark answered
    questions ("✓ Dansk") and are only a courtesy: sent directly, never retried. `unsent`
    are replies that could not be stored (the database itself failed): sent directly.
    """

    replies: tuple[ClaimedMessage, ...] = ()
    echoes: tuple[Outgoing, ...] = ()
    unsent: tuple[Outgoing, ...] = ()


class Router:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        engine: Engine,
        commands: CommandRegistry,
        menu: Menu,
        access: Access,
        translations: Translations,
        clock: Clock,
        config: FlowConfig,
        on_role_change: RoleListener | None = None,
    ) -> None:
        """`on_role_change` hears, after the commit, of a person whose role or language
        changed while their message was handled (a code redeemed, a language chosen)."""
        self._uow = uow
        self._engine = engine
        self._commands = commands
        self._menu = menu
        self._access = access
        self._translations = translations
        self._clock = clock
        self._config = config
        self._on_role_change = on_role_change

    @property
    def commands(self) -> CommandRegistry:
        return self._commands

    @property
    def engine(self) -> Engine:
        return self._engine

    async def handle(self, inbound: Inbound, *, last_try: bool = True) -> Handled:
        """Handle one message. Never raises but `QuestionOnItsWay` (unless `last_try`):
        nothing is committed then, and the caller hands the update in again shortly. Any
        other failure is logged and gets a short apology."""
        try:
            return await self._handle(inbound, last_try=last_try)
        except QuestionOnItsWay:
            raise
        except Exception:
            log.exception(
                "failed to handle %s %s from %s (text=%r command=%r choice=%r)",
                inbound.ref.platform,
                inbound.event_id,
                inbound.ref,
                (inbound.text or "")[:80],
                inbound.command,
                inbound.choice,
            )
            apology = Outgoing(inbound.ref, OutMessage(await self._apology(inbound)))
            try:
                async with self._uow() as uow:
                    # its own key: a redelivered update that fails again apologises again
                    key = f"apology:{uuid.uuid4().hex}"
                    stored = await self._store(uow, inbound, None, [apology], key=key)
                    await uow.commit()
            except Exception:
                log.exception("could not store the apology; sending it directly")
                return Handled(unsent=(apology,))
            return Handled(replies=tuple(stored))

    async def _apology(self, inbound: Inbound) -> str:
        language = self._config.default_language
        try:
            async with self._uow() as uow:
                identity = await uow.persons.find_identity(
                    inbound.ref.platform, inbound.ref.user_id
                )
                person = await uow.persons.get(identity.person_id) if identity else None
                if person is not None:
                    language = person.language
        except Exception:
            log.exception("could not look up the language for an apology")
        return self._translations.get(language).gettext(
            N_(
                "Sorry, something went wrong on my side. Nothing you told me before is lost. "
                "Please try again in a moment."
            )
        )

    async def _handle(self, inbound: Inbound, *, last_try: bool) -> Handled:
        ref = inbound.ref
        async with self._uow() as uow:
            # another process may be handling this chat's previous update: after it
            await uow.chat_turns.wait_turn(ref.platform, ref.chat_id)
            if inbound.event_id and not await uow.inbox.begin_handling(
                ref.platform, inbound.event_id
            ):
                log.info("skipping %s update %s: already handled", ref.platform, inbound.event_id)
                return Handled()
            if not inbound.private_chat:
                # In a shared room, plain chatter is people talking to each other.
                addressed = inbound.command or inbound.choice or parse_command(inbound.text or "")
                pointer = (
                    [Outgoing(ref, OutMessage(self._private_please(inbound)))] if addressed else []
                )
                stored = await self._store(uow, inbound, None, pointer)
                await uow.commit()
                return Handled(replies=tuple(stored))
            person, _ = await uow.persons.get_or_create(
                ref.platform,
                ref.user_id,
                ref.chat_id,
                # a newcomer is greeted in their app's language when we have it (and asked)
                language=self._translations.supported(inbound.language_hint)
                or self._config.default_language,
                conversations=uow.conversations,
            )
            uow.persons.seen(person)
            ctx = FlowContext(
                uow=uow,
                person=person,
                ref=ref,
                role=self._access.role_of(ref, person),
                translator=self._translations.get(person.language),
                translations=self._translations,
                clock=self._clock,
                config=self._config,
                inbound=inbound,
                last_try=last_try,
            )
            before = (ctx.role, person.language)
            out = await self._route(ctx, inbound) + ctx.notices
            # Forgotten, or merged into another person by /link: whoever owns this chat now
            # may have another role (the listener reads it afresh).
            gone = not uow.persons.still_exists(person)
            owner = ctx.person if uow.persons.still_exists(ctx.person) else None
            stored = await self._store(
                uow, inbound, owner.id if owner else None, [o for o in out if o.message]
            )
            await uow.commit()
            after = (self._access.role_of(ref, person), person.language)
        # Only coordinators have a menu of their own: a citizen choosing a language (every
        # newcomer does) needs no follow-up.
        has_own_menu = before[0] != Role.CITIZEN or after[0] != Role.CITIZEN
        changed = gone or (after != before and has_own_menu)
        if changed and self._on_role_change is not None:
            # outside the unit of work: the listener opens its own (and may call a platform)
            try:
                await self._on_role_change(ref)
            except Exception:
                log.exception("could not follow up the new role or language of %s", ref)
        return Handled(replies=tuple(stored), echoes=tuple(o for o in out if o.echo))

    async def _store(
        self,
        uow: UnitOfWork,
        inbound: Inbound,
        person_id: int | None,
        out: Sequence[Outgoing],
        *,
        key: str = "reply",
    ) -> list[ClaimedMessage]:
        """The replies as outbox rows, in the step's transaction (see `Handled`)."""
        now = self._clock.now()
        update = inbound.event_id or uuid.uuid4().hex
        origin = inbound.ref
        replies = [
            Reply(
                dedupe_key=f"{key}:{origin.platform}:{update}:{number}",
                person_id=person_id,
                platform=reply.ref.platform,
                chat_id=reply.ref.chat_id,
                user_id=reply.ref.user_id,
                payload=message_to_payload(reply.message),
                handed_over=reply.ref.platform != origin.platform,
            )
            for number, reply in enumerate(out)
            if reply.message is not None
        ]
        return await uow.outbox.add_replies(
            replies, expires_at=now + REPLY_LIFETIME, resend_after=now + REPLY_HANDOVER
        )

    def _private_please(self, inbound: Inbound) -> str:
        # In a shared room we don't know (or store) who prefers which language: the sender's
        # app's language when we have it, the bot's own and English.
        hinted = self._translations.supported(inbound.language_hint)
        languages = [hinted, self._config.default_language, "en"]
        return " / ".join(
            self._translations.get(language).gettext(
                N_("Write to me in a private chat, then we can talk in peace.")
            )
            for language in dict.fromkeys(x for x in languages if x)
        )

    async def _route(self, ctx: FlowContext, inbound: Inbound) -> list[Outgoing]:
        command = inbound.command or (parse_command(inbound.text) if inbound.text else None)
        if self._consented_to_an_older_version(ctx) and await self._hold_for_new_consent(
            ctx, inbound, command
        ):
            return await self._engine.begin(ctx, AcceptNewPrivacy.name)
        if command is not None:
            return await self._command(ctx, command)
        if ctx.person.consent == ConsentState.REFUSED:
            after_refusal = await self._after_refusal(ctx, inbound)
            if after_refusal is not None:
                return after_refusal
        if inbound.choice is not None:
            return await self._engine.choose(ctx, inbound.choice)
        if inbound.reaction is not None:
            return await self._engine.react(ctx, inbound.reaction)
        if inbound.text is not None and len(inbound.text) > MAX_TEXT_LENGTH:
            note = ctx._(N_("That message is very long. Could you say it in fewer words?"))
            return [Outgoing(ctx.ref, OutMessage(note)), *await self._engine.reask(ctx)]

        conversation, notes = await self._engine.current(ctx)
        if conversation is not None:
            return notes + await self._engine.feed(ctx, conversation)
        if ctx.person.consent != ConsentState.GIVEN or ctx.person.onboarded_at is None:
            return notes + await self._engine.begin(ctx, "onboarding")
        if ctx.person.status == PersonStatus.STOPPED:
            return notes + [self._stopped_note(ctx)]
        if inbound.text:
            answered = await self._engine.answer_latest_offer(ctx, inbound.text)
            if answered is not None:
                return notes + answered
        if inbound.media is not None:
            media_note = self._media_outside_a_conversation(ctx)
            if media_note is not None:
                return [*notes, media_note]
        intro = ctx._(N_("Hello! I'm not sure what you mean, but this is what I can do:"))
        return notes + [Outgoing(ctx.ref, await self._menu.render(ctx, intro=intro))]

    def _consented_to_an_older_version(self, ctx: FlowContext) -> bool:
        person = ctx.person
        return (
            person.consent == ConsentState.GIVEN
            and person.onboarded_at is not None
            and person.consent_version != self._config.consent_version
        )

    async def _hold_for_new_consent(
        self, ctx: FlowContext, inbound: Inbound, command: Command | None
    ) -> bool:
        """Whether this message waits for a yes to the new privacy notice: everything but
        commands that need no consent (/privacy, /forget, ...) and the answer itself."""
        if command is not None:
            name = command.name.lower()
            spec = self._commands.find(name)
            return not (name in (*CANCEL, *HELP) or (spec is not None and not spec.needs_consent))
        conversation, _ = await self._engine.current(ctx)
        if conversation is None or conversation.flow != AcceptNewPrivacy.name:
            return True
        if inbound.choice is None and inbound.reaction is None:
            return False
        prompt = await self._engine.prompt_answered(ctx, inbound)
        return prompt is None or prompt.flow != AcceptNewPrivacy.name

    async def _after_refusal(self, ctx: FlowContext, inbound: Inbound) -> list[Outgoing] | None:
        """Someone who said no to consent: a short word, never the consent question unasked.

        None when the message goes its usual way: an answer in a conversation they opened
        themselves (/start, /forget), or a menu button (tapped, or its number typed), which
        the command behind it decides.
        """
        conversation, notes = await self._engine.current(ctx)
        if conversation is not None:
            return None
        if inbound.text and len(inbound.text) <= MAX_TEXT_LENGTH:
            answered = await self._engine.answer_latest_offer(ctx, inbound.text)
            if answered is not None:
                return notes + answered
        if inbound.choice is not None or inbound.reaction is not None:
            prompt = await self._engine.prompt_answered(ctx, inbound)
            if prompt is not None and not prompt.bound:
                return None
            if prompt is None and inbound.reaction is not None:
                return notes  # a reaction on some other message is just a reaction
        text = ctx._(
            N_(
                "You said no, so I keep nothing about you except that answer. "
                "If you change your mind, write /start and we will begin again."
            )
        )
        return [*notes, Outgoing(ctx.ref, OutMessage(text))]

    async def _command(self, ctx: FlowContext, command: Command) -> list[Outgoing]:
        name = command.name.lower()
        if name in CANCEL:
            return await self._engine.cancel(ctx)
        if name in BACK:
            return await self._engine.back(ctx)
        if name in HELP:
            menu = Outgoing(ctx.ref, await self._menu.render(ctx))
            return [menu, *await self._engine.reask(ctx)]
        spec = self._commands.find(name)
        if spec is None:
            return [
                Outgoing(ctx.ref, OutMessage(self._unknown(ctx, name))),
                *await self._engine.reask(ctx),
            ]
        refusal = self._refusal(ctx, spec)
        if refusal is not None:
            return [Outgoing(ctx.ref, refusal), *await self._engine.reask(ctx)]
        if spec.needs_consent and ctx.person.consent != ConsentState.GIVEN:
            first = ctx._(N_("First I need your OK to keep a little about you."))
            ctx.continue_with = spec.after_onboarding(command.args)
            return [
                Outgoing(ctx.ref, OutMessage(first)),
                *await self._engine.begin(ctx, "onboarding"),
            ]
        return await self._engine.begin(ctx, spec.flow, command.args or spec.args)

    def _refusal(self, ctx: FlowContext, spec: CommandSpec) -> OutMessage | None:
        if not permits(ctx.role, spec.role) and not spec.co_organisers_too:
            return OutMessage(ctx._(N_("Only coordinators can do that.")))
        if ctx.person.status == PersonStatus.STOPPED and not spec.allowed_when_stopped:
            return self._stopped_note(ctx).message
        return None

    def _media_outside_a_conversation(self, ctx: FlowContext) -> Outgoing | None:
        """A photo or voice note out of the blue: where it can go, rather than the menu."""
        spec = self._commands.find(SNAP_COMMAND)
        if spec is None or not permits(ctx.role, spec.role):
            return None
        text = ctx._(
            N_(
                "Thank you! To add a photo or voice note to an event's snap-log, "
                "write /{command} first, then send it."
            )
        ).format(command=spec.label(ctx.translator.language))
        return Outgoing(ctx.ref, OutMessage(text))

    def _stopped_note(self, ctx: FlowContext) -> Outgoing:
        text = ctx._(N_("You have paused messages from me. Write /start to switch them back on."))
        return Outgoing(ctx.ref, OutMessage(text))

    def _unknown(self, ctx: FlowContext, name: str) -> str:
        guess = closest(name, self._commands.all_names())
        if guess is not None:
            return ctx._(N_("I don't know /{command}. Did you mean /{guess}?")).format(
                command=name[:32], guess=guess
            )
        return ctx._(N_("I don't know /{command}. Write /help to see what I can do.")).format(
            command=name[:32]
        )
