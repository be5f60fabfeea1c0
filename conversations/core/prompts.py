"""Questions sent outside a conversation (an invitation, a menu), stored so that a tap on
one later is checked against what was really asked, and of whom.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conversations.core.flow import Flow, FlowContext
from conversations.core.messages import (
    ChatRef,
    OutMessage,
)
from storage.unit_of_work import UnitOfWork

# Keys of a detached prompt's context that say how typed replies to it are read.
FORGIVING = "forgiving"  # typos and the start of a label count, not only exact words
TYPED_HINT = "typed_hint"  # the catalog text (N_) that says what a reply can be
# A stored question keeps the msgid of its hint: one reworded since is read as its new text
# (so a question asked before an upgrade still gets its hint in the reader's language).
REWORDED_HINTS = {
    "Answer yes, maybe or no, or tap a button. /help shows all I can do.": (
        "Answer yes, maybe or no, or tap your answer. /help shows all I can do."
    ),
}
TOGGLES = "toggles"  # the ids of the choices one taps on and off (OutMessage.toggles)


async def offer(
    ctx: FlowContext,
    flow: Flow,
    message: OutMessage,
    *,
    state: str = "",
    context: dict[str, Any] | None = None,
) -> OutMessage:
    """Store a question sent outside a conversation (a menu, say) for later taps."""
    return await offer_to(
        ctx.uow,
        ctx.ref,
        ctx.person.id,
        flow.name,
        message,
        state=state,
        context=context,
        sent_now=True,
    )


async def offer_to(
    uow: UnitOfWork,
    recipient: ChatRef,
    person_id: int,
    flow_name: str,
    message: OutMessage,
    *,
    state: str = "",
    context: dict[str, Any] | None = None,
    sent_now: bool = False,
) -> OutMessage:
    """Store the choices of a message for one recipient (an invitation in a broadcast).

    A tap on it later reaches `flow_name`'s `detached` handler, whoever's chat it came from
    is checked against `recipient`.
    """
    prompt = await uow.prompts.create(
        platform=recipient.platform,
        chat_id=recipient.chat_id,
        user_id=recipient.user_id,
        person_id=person_id,
        flow=flow_name,
        state=state,
        choices=[choice.as_record() for choice in message.choices],
        context=context or {},
        bound=False,
        sent=sent_now,
    )
    return replace(message, prompt_id=prompt.id)
