"""What a flow is: a small state machine over neutral messages.

A flow asks one question per state (`prompt`), takes one answer (`handle`) and says where
to go next (`Transition`). The engine stores the state, the prompts and the history, so a
flow only describes the conversation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from conversations.core.commands import CommandSpec
from conversations.core.i18n import N_, Translations, Translator
from conversations.core.messages import (
    ChatRef,
    Choice,
    Inbound,
    Location,
    Media,
    Outgoing,
    OutMessage,
)
from conversations.core.services import Services
from storage.clock import Clock
from storage.models import Person, Prompt, Role
from storage.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class FlowConfig:
    timezone: str
    consent_version: str
    default_language: str
    late_withdrawal_hours: float = 48
    initiative_pushes_per_day: int = 1
    # check-in opens this long before an event's start and closes this long after its end
    check_in_opens_minutes: float = 60
    check_in_closes_minutes: float = 0
    # "platform:user" of the coordinators and admins named in the settings; the others
    # are coordinators by the role kept on their person (see PersonRepository.coordinators)
    named_coordinators: frozenset[str] = frozenset()
    # the bot's own Matrix account, for links that open a chat with it (matrix.to)
    matrix_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A person's reply, already resolved against the question's choices."""

    choice: str | None = None
    text: str | None = None
    media: Media | None = None
    location: Location | None = None


class FlowData(BaseModel):
    """What a flow keeps between its questions, one model per flow.

    Stored as JSON with the conversation (so a restart, /back and an upgrade keep it): a key
    the model no longer knows is dropped, and a value that does not fit fails loudly rather
    than steering the flow.
    """

    model_config = ConfigDict(extra="ignore")

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)


class NoData(FlowData):
    """For a flow that keeps nothing between questions."""


class _Stay:
    def __repr__(self) -> str:
        return "STAY"


STAY = _Stay()


@dataclass(frozen=True, slots=True)
class Transition:
    state: str | _Stay | None
    data: FlowData = field(default_factory=lambda: NoData())
    say: tuple[OutMessage, ...] = ()
    ask: bool = True
    then: tuple[str, str] | None = None
    # False when the answer was refused (closed, full, not theirs): the pressed message is
    # then not marked as answered
    accepted: bool = True
    # what the answered message (outside a conversation) now reads, buttons and all
    replaces: OutMessage | None = None

    @classmethod
    def go(cls, state: str, data: FlowData, *say: OutMessage) -> Transition:
        return cls(state=state, data=data, say=say)

    @classmethod
    def stay(cls, data: FlowData, *say: OutMessage, ask: bool = True) -> Transition:
        """Remain on the same question (an invalid answer, or a toggle); asks it again."""
        return cls(state=STAY, data=data, say=say, ask=ask)

    @classmethod
    def end(
        cls,
        *say: OutMessage,
        then: tuple[str, str] | None = None,
        replaces: OutMessage | None = None,
    ) -> Transition:
        """Finish the conversation; `then` starts another flow (name, args) right after;
        `replaces` is what a pressed message outside a conversation now reads."""
        return cls(state=None, say=say, then=then, replaces=replaces)

    @classmethod
    def refuse(cls, *say: OutMessage) -> Transition:
        """Finish without taking the answer: the person hears why, nothing is marked."""
        return cls(state=None, say=say, accepted=False)

    @property
    def ends(self) -> bool:
        return self.state is None

    @property
    def stays(self) -> bool:
        return isinstance(self.state, _Stay)

    def stored_data(self) -> dict[str, Any]:
        """The flow data as it is kept with the conversation."""
        return self.data.stored()


def translated_choice(
    reader: Translator,
    translations: Translations,
    choice_id: str,
    label: str,
    emoji: str | None = None,
    *aliases: str,
) -> Choice:
    """A choice labelled in the reader's language that also answers to the others'.

    `label` is the untranslated catalog text (marked with `N_`).
    """
    others = tuple(translations.get(lang).gettext(label) for lang in translations.languages)
    return Choice(
        id=choice_id,
        label=reader.gettext(label),
        emoji=emoji,
        aliases=tuple(dict.fromkeys((label, *others, *aliases))),
    )


@dataclass
class FlowContext:
    """Everything a flow may use while handling one message for one person."""

    uow: UnitOfWork
    person: Person
    ref: ChatRef
    role: Role
    translator: Translator
    translations: Translations
    clock: Clock
    config: FlowConfig
    inbound: Inbound | None = None
    # The last time this update is handled: nothing is left to wait for (QuestionOnItsWay).
    last_try: bool = True
    # What the person asked for before they could have it (a command typed before consent):
    # (flow, args) that onboarding goes on with when it is done. Set only by the server,
    # never from what was typed, so no one can steer it to a flow of their choosing.
    continue_with: tuple[str, str] | None = None
    # Messages for other chats than this one (the person's other platform, say); the
    # router delivers them after the replies to this chat.
    notices: list[Outgoing] = field(default_factory=list)

    def _(self, message: str) -> str:
        return self.translator.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translator.ngettext(singular, plural, n)

    def marked(self, label: str, chosen: bool) -> str:
        """A choice in a list one taps on and off: a chosen one says so in words too, so a
        screen reader (or anyone unsure what ✅ means) hears it."""
        return marked_label(self.translator.gettext, label, chosen)

    def use_language(self, language: str) -> None:
        self.translator = self.translations.get(language)

    def now(self) -> datetime:
        return self.clock.now()

    @cached_property
    def services(self) -> Services:
        """What the rules this flow calls work with."""
        return Services(self.uow, self.translations, self.config.timezone, self.clock)

    def when(self, moment: datetime) -> str:
        return self.translator.format_datetime(moment, self.config.timezone)

    def choice(self, choice_id: str, label: str, emoji: str | None = None, *aliases: str) -> Choice:
        """A choice labelled in this person's language (see `translated_choice`)."""
        return translated_choice(
            self.translator, self.translations, choice_id, label, emoji, *aliases
        )

    @property
    def is_coordinator(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def marked_label(gettext: Callable[[str], str], label: str, chosen: bool) -> str:
    if not chosen:
        return label
    return "✅ " + gettext(N_("{name} (chosen)")).format(name=label)


class Flow(ABC):
    """One multi-step conversation. Subclasses set `name` and implement the three steps.

    `commands` are the chat commands that start it, `link_prefix` the `/start <prefix>_...`
    links that open it; the composition root collects both from the flows it registers.
    """

    name: ClassVar[str]
    commands: ClassVar[tuple[CommandSpec, ...]] = ()
    link_prefix: ClassVar[str | None] = None
    # The model of what the flow keeps between questions (its `data`).
    data_model: ClassVar[type[FlowData]] = NoData

    def load(self, stored: Mapping[str, Any]) -> FlowData:
        """The flow's data as kept with the conversation, read back into its model."""
        return self.data_model.model_validate(stored)

    @abstractmethod
    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        """Start the flow; usually `Transition.go(first_state, data)`."""

    @abstractmethod
    async def prompt(self, ctx: FlowContext, state: str, data: Any) -> OutMessage:
        """The question for `state`, built fresh (so /back and a restart show it again)."""

    @abstractmethod
    async def handle(self, ctx: FlowContext, state: str, data: Any, answer: Answer) -> Transition:
        """Take the answer to the question of `state`."""

    def takes_media(self, state: str) -> bool:
        """Whether the question of `state` can use a photo, a voice note or a file.

        Where it can't, the engine answers one with a kind word and the same question, so
        no flow takes a picture for a choice or for an empty answer.
        """
        return False

    def takes_location(self, state: str) -> bool:
        """Whether the question of `state` can use a shared location (a map pin)."""
        return False

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        """A choice on a message sent outside a conversation (an invitation, a menu).

        Returns None when the flow has nothing to do with it; the engine then says the
        button is no longer in use.
        """
        return None


class SingleStepFlow(Flow):
    """A command that answers at once and keeps no conversation (`/stop`, `/mydata`)."""

    data_model = NoData

    async def prompt(self, ctx: FlowContext, state: str, data: NoData) -> OutMessage:
        raise AssertionError(f"{self.name} has no questions")

    async def handle(
        self, ctx: FlowContext, state: str, data: NoData, answer: Answer
    ) -> Transition:
        raise AssertionError(f"{self.name} has no questions")
