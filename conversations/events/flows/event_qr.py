"""`/qr`: a QR code for an event's poster that opens its invitation."""

from __future__ import annotations

from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.events.flows.new_event import deep_link_url, only_coordinators
from conversations.events.flows.pick_event import (
    can_manage,
    choose_event_question,
    picked_event,
    start_choosing,
)
from conversations.events.rules.attachments import qr_attachment
from conversations.events.rules.wording import link_payload
from storage.models import Event, Prompt, Role


def qr_message(ctx: FlowContext, event: Event, bot_username: str | None) -> OutMessage:
    payload = link_payload(event)
    url = deep_link_url(bot_username, payload)
    if url is None:
        return OutMessage(
            ctx._(
                N_(
                    "The bot's Telegram name is not set up (TMM_TELEGRAM_BOT_USERNAME), so I "
                    "can't make a QR code. People can write: /start {payload}"
                )
            ).format(payload=payload)
        )
    return OutMessage(
        ctx._(
            N_(
                "A QR code for {title}. Print it on a poster; scanning it opens the "
                "invitation.\n{url}"
            )
        ).format(title=event.title, url=url),
        attachment=qr_attachment(url),
    )


class EventQr(Flow):
    name = "eventqr"
    commands = (
        CommandSpec(
            "qr",
            "qrkode",
            N_("A QR code for an event's poster"),
            role=Role.COORDINATOR,
            in_menu=False,
        ),
    )

    def __init__(self, *, bot_username: str | None = None) -> None:
        self._bot_username = bot_username

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return await start_choosing(ctx)

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        return await choose_event_question(ctx, ctx._(N_("A QR code for which event?")))

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        event = await picked_event(ctx, answer)
        if event is None:
            return Transition.stay(data)
        return Transition.end(qr_message(ctx, event, self._bot_username))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        return await qr_for_prompt(ctx, prompt, self._bot_username)


async def qr_for_prompt(
    ctx: FlowContext, prompt: Prompt, bot_username: str | None
) -> Transition | None:
    event_id = prompt.context.get("event_id")
    event = await ctx.uow.events.get(event_id) if isinstance(event_id, int) else None
    if not can_manage(ctx, event):
        return only_coordinators(ctx)
    assert event is not None
    return Transition.end(qr_message(ctx, event, bot_username))
