"""`/qr`: a QR code for an event's poster that opens its invitation."""

from __future__ import annotations

from collections.abc import Mapping

from conversations.core.commands import CommandSpec
from conversations.core.flow import FlowContext, NoData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.events.flows.pick_event import (
    ChooseEvent,
    can_manage,
    only_coordinators,
    start_choosing,
)
from conversations.events.rules.attachments import qr_attachment
from conversations.events.rules.wording import (
    chat_link_url,
    deep_link_url,
    link_payload,
    matrix_way_in,
)
from storage.models import Event, Prompt, Role


def qr_message(ctx: FlowContext, event: Event, bot_username: str | None) -> OutMessage:
    payload = link_payload(event)
    url = deep_link_url(bot_username, payload)
    chat_url = chat_link_url(ctx.config.matrix_user_id)
    on_matrix = matrix_way_in(ctx.translator, ctx.config.matrix_user_id, payload)
    if url is None and chat_url is not None and on_matrix is not None:
        # Matrix has no start payload: the code opens the chat, the poster says what to write
        return OutMessage(
            ctx._(
                N_(
                    "A QR code for {title}. Print it on a poster with this line: scanning it "
                    "opens a chat with me, and then people write !start {payload}.\n{url}"
                )
            ).format(title=event.title, payload=payload, url=chat_url),
            attachment=qr_attachment(chat_url),
        )
    if url is None:
        return OutMessage(
            ctx._(
                N_(
                    "The bot's Telegram name is not set up (TMM_TELEGRAM_BOT_USERNAME), so I "
                    "can't make a QR code. People can write: /start {payload}"
                )
            ).format(payload=payload)
        )
    text = ctx._(
        N_("A QR code for {title}. Print it on a poster; scanning it opens the invitation.\n{url}")
    ).format(title=event.title, url=url)
    return OutMessage(
        text if on_matrix is None else f"{text}\n{on_matrix}",
        attachment=qr_attachment(url),
    )


class ChooseEventForQr(ChooseEvent[NoData]):
    question = N_("A QR code for which event?")

    def __init__(self, bot_username: str | None) -> None:
        self._bot_username = bot_username

    async def chosen(self, ctx: FlowContext, event: Event) -> Transition:
        return Transition.end(qr_message(ctx, event, self._bot_username))


class EventQr(QuestionFlow[NoData]):
    """Asks which event, or answers the QR button under a just-published event."""

    name = "eventqr"
    data_model = NoData
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
        self._questions = by_state(ChooseEventForQr(bot_username))

    @property
    def questions(self) -> Mapping[str, Question[NoData]]:
        return self._questions

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return await start_choosing(ctx, NoData())

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
