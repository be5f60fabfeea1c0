"""How a flow declares the chat commands that start it.

A flow lists its commands beside itself (`Flow.commands`); the composition root collects
them from the flows it registers, the way aiogram's `include_router` does, so adding a flow
means one module, its texts and its test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.models import Role


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command, in English (`name`) and Danish, with its help line and who may use it."""

    name: str
    danish: str
    description: str
    args: str = ""
    role: Role = Role.CITIZEN
    needs_consent: bool = True
    # Typed before consent, the command waits for onboarding and then goes on, with its
    # arguments; off where onboarding has just asked the same things (/settings).
    continues_after_onboarding: bool = True
    allowed_when_stopped: bool = False
    in_menu: bool = True
    # An event's co-organisers may type it whatever their role (a citizen helper too): the
    # router lets them through, and the flow checks on which events (`role` still says who
    # sees it in the menus).
    co_organisers_too: bool = False
    button: str = ""
    # The flow the command starts: filled in from the flow that declares it.
    flow: str = ""

    @property
    def button_label(self) -> str:
        """A short label for a menu button (the description is too long for one)."""
        return self.button or self.description

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.danish)

    def after_onboarding(self, args: str) -> tuple[str, str] | None:
        """The flow (name, args) to go on with once onboarding is done, if any."""
        return (self.flow, args or self.args) if self.continues_after_onboarding else None

    def label(self, language: str) -> str:
        return self.danish if language == "da" else self.name


ROLE_RANK = {Role.CITIZEN: 0, Role.COORDINATOR: 1, Role.ADMIN: 2}


def permits(role: Role, required: Role) -> bool:
    """Whether someone with `role` may use what needs `required` (an admin may do it all)."""
    return ROLE_RANK[role] >= ROLE_RANK[required]


# Our texts name a command as it is typed on most platforms: `/name`, maybe with its
# arguments (`/start ev_12`). A mention starts the text or follows a space or an opening
# mark, and its name ends the word: `and/or`, a URL's path or `/var/lib` are no mentions.
COMMAND_SIGN = "/"
_MENTION = re.compile(r"(?<![^\s(\[«“„\"'])/(?=[A-Za-z0-9_æøåÆØÅ]{1,32}(?![\w/]))")


def with_command_sign(text: str, sign: str) -> str:
    """The text with each command mention typed with `sign` instead: where a line that
    starts with `/` means something else to the person's app (a Matrix client takes it
    as its own command), the transport renders the form its people can send."""
    return text if sign == COMMAND_SIGN else _MENTION.sub(sign, text)
