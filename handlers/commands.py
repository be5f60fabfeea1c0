"""The chat commands the bot knows, collected from the flows that declare them.

Besides the flows' own commands there are three that work everywhere, in any conversation:
cancel, back and help (the router answers them itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from conversations.core.commands import CommandSpec, permits
from conversations.core.flow import Flow
from storage.models import Role

CANCEL = ("cancel", "annuller", "afbryd")
BACK = ("back", "tilbage")
HELP = ("help", "hjaelp", "hjælp", "menu")


class CommandRegistry:
    def __init__(self, specs: Iterable[CommandSpec] = ()) -> None:
        self._specs: list[CommandSpec] = []
        self._by_name: dict[str, CommandSpec] = {}
        for spec in specs:
            self.add(spec)

    @classmethod
    def of_flows(cls, flows: Iterable[Flow]) -> CommandRegistry:
        """Every command the flows declare, each tied to the flow that declares it."""
        return cls(replace(spec, flow=flow.name) for flow in flows for spec in flow.commands)

    def add(self, spec: CommandSpec) -> None:
        if not spec.flow:
            raise ValueError(f"command {spec.name!r} names no flow")
        for name in spec.names:
            if name in self._by_name or name in CANCEL + BACK + HELP:
                raise ValueError(f"command name {name!r} is taken")
            self._by_name[name] = spec
        self._specs.append(spec)

    def find(self, name: str) -> CommandSpec | None:
        return self._by_name.get(name.lower())

    def all_names(self) -> list[str]:
        return [*self._by_name, *CANCEL, *BACK, *HELP]

    def visible_to(self, role: Role) -> list[CommandSpec]:
        """The commands this role may use, most used first."""
        visible = [spec for spec in self._specs if spec.in_menu and permits(role, spec.role)]
        return sorted(visible, key=_menu_position)

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._specs)


# The order of /help: what people come for first. Only the first few get a button (see
# handlers/menu.py), so the everyday things are one tap away and the menu stays short.
MENU_ORDER = (
    "newevent",
    "attendees",
    "report",
    "events",
    "feedback",
    "offer",
    "initiatives",
    "settings",
    "mydata",
)


def _menu_position(spec: CommandSpec) -> int:
    return MENU_ORDER.index(spec.name) if spec.name in MENU_ORDER else len(MENU_ORDER)
