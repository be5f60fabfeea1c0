"""How the bot's answer to a tap sits beside the tapped message: a list one taps on and off
is edited in place, and what a tap on a message outside a conversation says back is a reply
to it (where the platform has replies)."""

from __future__ import annotations

from dataclasses import replace

from conversations.core.messages import Outgoing
from storage.models import Prompt


def as_answer_to(out: list[Outgoing], prompt: Prompt, carrier: str) -> list[Outgoing]:
    """A tap on a message outside a conversation (an invitation, a menu): the first thing
    said back is a reply to that message, so it reads as the answer to what was chosen."""
    if prompt.bound:
        return out
    for index, reply in enumerate(out):
        message = reply.message
        here = (reply.ref.platform, reply.ref.chat_id) == (prompt.platform, prompt.chat_id)
        if here and message is not None and message.in_place_of is None:
            answered = replace(reply, message=replace(message, reply_to=carrier))
            return [*out[:index], answered, *out[index + 1 :]]
    return out


def edited_in_place(out: list[Outgoing], prompt: Prompt, carrier: str) -> list[Outgoing]:
    """The question asked again after a tap, as an edit of the tapped message when it
    offers the same choices the same way (so the reactions under it still mean the same)."""
    if not out or out[-1].message is None:
        return out
    question = out[-1].message
    same = [(c.id, c.emoji) for c in question.choices] == [
        (c.get("id"), c.get("emoji")) for c in prompt.choices
    ]
    if not same or not question.toggles:
        return out
    return [*out[:-1], replace(out[-1], message=replace(question, in_place_of=carrier))]
