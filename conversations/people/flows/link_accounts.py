"""`/link`: one person across platforms.

On the platform they already use, a person writes `/link` and gets a short one-time code;
on the other platform they write `/link CODE`. The two identities then belong to one
person: the one who made the code is kept, and everything of the other (answers, consent,
topics, ...) is moved over by `storage.personal_data.merge_persons`. Both chats get a
confirmation, and the person chooses where reminders should go.

Codes have 60 bits and a person may type five wrong ones an hour; then `/link CODE` waits
until the hour has passed. The log says that someone paused, never which code they tried.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, NoData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import ChatRef, Choice, Outgoing, OutMessage

CODE_VALIDITY = timedelta(minutes=30)
MAX_WRONG_TRIES = 5
WRONG_TRIES_WINDOW = timedelta(hours=1)

log = logging.getLogger(__name__)


class Step(StrEnum):
    WHERE = "where"


def platform_name(platform: str) -> str:
    return platform.capitalize()


class LinkAccounts(Flow):
    name = "link"
    data_model = NoData
    commands = (
        CommandSpec(
            "link",
            "forbind",
            N_("Use me on another app too"),
            needs_consent=False,
            allowed_when_stopped=True,
        ),
    )

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        code = args.strip()
        if not code:
            return await self._give_code(ctx)
        return await self._redeem(ctx, code)

    async def _give_code(self, ctx: FlowContext) -> Transition:
        code = await ctx.uow.link_codes.create(ctx.person.id, valid_for=CODE_VALIDITY)
        text = ctx._(
            N_(
                "Do you also use me on another app? Write this there, and I will know "
                "it is you:\n\n/link {code}\n\nThe code works once, for {minutes} minutes. "
                "Your answers and settings are then shared between the two."
            )
        ).format(code=code, minutes=int(CODE_VALIDITY.total_seconds() // 60))
        return Transition.end(OutMessage(text))

    async def _redeem(self, ctx: FlowContext, code: str) -> Transition:
        window_start = ctx.now() - WRONG_TRIES_WINDOW
        wrong = await ctx.uow.link_codes.wrong_tries_since(ctx.person.id, window_start)
        if len(wrong) >= MAX_WRONG_TRIES:
            return Transition.end(self._pause(ctx, wrong[-MAX_WRONG_TRIES] + WRONG_TRIES_WINDOW))
        owner_id = await ctx.uow.link_codes.redeem(code)
        if owner_id is None:
            await ctx.uow.link_codes.record_wrong_try(ctx.person.id, forget_before=window_start)
            if len(wrong) + 1 >= MAX_WRONG_TRIES:
                log.warning(
                    "link: person %d typed %d wrong codes within %s; paused",
                    ctx.person.id,
                    MAX_WRONG_TRIES,
                    WRONG_TRIES_WINDOW,
                )
            return Transition.end(
                OutMessage(
                    ctx._(
                        N_(
                            "That code doesn't work. It may be mistyped, used or too old. "
                            "Write /link on your other app to get a new one."
                        )
                    )
                )
            )
        if owner_id == ctx.person.id:
            return Transition.end(
                OutMessage(
                    ctx._(
                        N_(
                            "That is the code for this chat. Write it in the other app where "
                            "you use me, as /link followed by the code."
                        )
                    )
                )
            )
        owner = await ctx.uow.persons.get(owner_id)
        assert owner is not None
        here_text = ctx._(
            N_("Done! I now know you here and on {platforms}. Everything is kept together.")
        )
        owner_translator = ctx.translations.get(owner.language)
        there_text = owner_translator.gettext(
            N_("You are now also linked on {platform}. Everything is kept together.")
        ).format(platform=platform_name(ctx.ref.platform))
        other_refs = [
            ChatRef(i.platform, i.chat_id, i.user_id)
            for i in await ctx.uow.persons.identities(owner_id)
            if i.blocked_at is None
        ]
        await ctx.uow.personal_records.merge(keep_id=owner_id, other_id=ctx.person.id)
        merged = await ctx.uow.persons.get(owner_id)
        assert merged is not None
        ctx.person = merged
        ctx.use_language(merged.language)
        ctx.notices.extend(Outgoing(ref, OutMessage(there_text)) for ref in other_refs)
        platforms = ", ".join(sorted({platform_name(r.platform) for r in other_refs}))
        return Transition.go(
            Step.WHERE, NoData(), OutMessage(here_text.format(platforms=platforms or "-"))
        )

    def _pause(self, ctx: FlowContext, until: datetime) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "That was too many codes that didn't work. To keep your account safe, "
                    "please wait until {time} and try again. Write /link on your other app "
                    "to get a new code."
                )
            ).format(time=ctx.when(until))
        )

    async def prompt(self, ctx: FlowContext, state: str, data: NoData) -> OutMessage:
        identities = await ctx.uow.persons.identities(ctx.person.id)
        platforms = list(dict.fromkeys(i.platform for i in identities))
        return OutMessage(
            ctx._(N_("Where should I send invitations and reminders?")),
            choices=tuple(
                Choice(platform, platform_name(platform), None, (platform,))
                for platform in platforms
            ),
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: NoData, answer: Answer
    ) -> Transition:
        identities = await ctx.uow.persons.identities(ctx.person.id)
        if answer.choice not in {i.platform for i in identities}:
            return Transition.stay(data)
        ctx.person.preferred_platform = answer.choice
        ctx.uow.persons.touch(ctx.person)
        return Transition.end(
            OutMessage(
                ctx._(N_("Good, I will write to you on {platform}.")).format(
                    platform=platform_name(answer.choice)
                )
            )
        )
