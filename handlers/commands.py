"""The chat commands, in English and Danish, and who may use them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from conversations.core.i18n import N_
from storage.models import Role


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    danish: str
    flow: str
    description: str
    args: str = ""
    role: Role = Role.CITIZEN
    needs_consent: bool = True
    # Typed before consent, the command waits for onboarding and then goes on, with its
    # arguments; off where onboarding has just asked the same things (/settings).
    continues_after_onboarding: bool = True
    allowed_when_stopped: bool = False
    in_menu: bool = True
    button: str = ""

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


CANCEL = ("cancel", "annuller", "afbryd")
BACK = ("back", "tilbage")
HELP = ("help", "hjaelp", "hjælp", "menu")


class CommandRegistry:
    def __init__(self, specs: Iterable[CommandSpec]) -> None:
        self._specs: list[CommandSpec] = []
        self._by_name: dict[str, CommandSpec] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: CommandSpec) -> None:
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


def permits(role: Role, required: Role) -> bool:
    rank = {Role.CITIZEN: 0, Role.COORDINATOR: 1, Role.ADMIN: 2}
    return rank[role] >= rank[required]


def foundation_commands() -> list[CommandSpec]:
    return [
        CommandSpec(
            "start",
            "begynd",
            "onboarding",
            N_("Start, or switch messages back on"),
            needs_consent=False,
            allowed_when_stopped=True,
            in_menu=False,
        ),
        CommandSpec(
            "settings",
            "indstillinger",
            "settings",
            N_("Name, language, interests, quiet hours and more"),
            button=N_("My settings"),
            continues_after_onboarding=False,
        ),
        CommandSpec(
            "language",
            "sprog",
            "settings",
            N_("Choose language"),
            args="language",
            needs_consent=False,
            allowed_when_stopped=True,
            in_menu=False,
        ),
        CommandSpec(
            "mydata",
            "minedata",
            "mydata",
            N_("See everything I keep about you"),
            needs_consent=False,
            allowed_when_stopped=True,
            button=N_("My data"),
        ),
        CommandSpec(
            "forget",
            "glem",
            "forget",
            N_("Delete everything about you"),
            needs_consent=False,
            allowed_when_stopped=True,
            button=N_("Delete my data"),
        ),
        CommandSpec(
            "stop",
            "pause",
            "stop",
            N_("Pause messages from me"),
            button=N_("Pause"),
            needs_consent=False,  # "stop" is respected at once, never met with a question
        ),
        CommandSpec(
            "link",
            "forbind",
            "link",
            N_("Use me on another app too"),
            needs_consent=False,
            allowed_when_stopped=True,
        ),
        CommandSpec(
            "coordinator",
            "koordinator",
            "coordinator",
            N_("Use a coordinator code"),
            in_menu=False,
        ),
        CommandSpec(
            "topics",
            "emner",
            "topics",
            N_("Interests and areas people can choose"),
            role=Role.COORDINATOR,
            button=N_("Interests and areas"),
        ),
    ]


def event_commands() -> list[CommandSpec]:
    return [
        CommandSpec("events", "arrangementer", "myevents", N_("What is coming, and what I said")),
        CommandSpec(
            "newevent",
            "nytarrangement",
            "newevent",
            N_("Create an event and invite people"),
            role=Role.COORDINATOR,
        ),
        CommandSpec(
            "attendees",
            "deltagere",
            "attendees",
            N_("See who is coming, and write to them"),
            role=Role.COORDINATOR,
        ),
        CommandSpec(
            "editevent",
            "retarrangement",
            "editevent",
            N_("Change the time or place of an event"),
            role=Role.COORDINATOR,
        ),
        CommandSpec(
            "cancelevent", "aflys", "cancelevent", N_("Cancel an event"), role=Role.COORDINATOR
        ),
        CommandSpec(
            "qr",
            "qrkode",
            "eventqr",
            N_("A QR code for an event's poster"),
            role=Role.COORDINATOR,
            in_menu=False,
        ),
    ]


def feedback_commands() -> list[CommandSpec]:
    return [
        CommandSpec(
            "feedback",
            "mening",
            "feedback",
            N_("Tell us how an event was"),
            button=N_("How was it?"),
        ),
        CommandSpec(
            "snap",
            "billede",
            "snaplog",
            N_("Send photos or voice notes from an event"),
            in_menu=False,
        ),
        CommandSpec(
            "report",
            "rapport",
            "report",
            N_("What people said about an event"),
            role=Role.COORDINATOR,
        ),
    ]


def pledge_commands() -> list[CommandSpec]:
    """Tasks, offers of help and citizens' own initiatives."""
    return [
        CommandSpec(
            "tasks",
            "opgaver",
            "tasks",
            N_("Add, change or close the tasks of your event"),
            button=N_("Tasks"),
        ),
        CommandSpec(
            "offer", "tilbyd", "offer", N_("Offer something you can give"), button=N_("Offer help")
        ),
        CommandSpec(
            "myoffers",
            "minetilbud",
            "offer",
            N_("See, change or withdraw your offers"),
            args="mine",
            in_menu=False,
        ),
        CommandSpec(
            "offers",
            "tilbud",
            "offers",
            N_("Browse offers of help and ask people"),
            role=Role.COORDINATOR,
        ),
        CommandSpec(
            "initiative",
            "initiativ",
            "initiative",
            N_("Start an initiative of your own"),
            button=N_("Start an initiative"),
        ),
        CommandSpec("initiatives", "initiativer", "initiatives", N_("Citizens' own initiatives")),
        CommandSpec(
            "myinitiatives",
            "mineinitiativer",
            "myinitiatives",
            N_("Who joins your initiatives, and writing to them"),
            in_menu=False,
        ),
    ]
