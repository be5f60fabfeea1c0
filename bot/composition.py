"""The composition root: every flow, command and deep link wired into one router."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.settings import Settings
from bot.transports.base import MenuCommand
from conversations.coordinator_invite import RedeemInvite
from conversations.create_event import NewEvent
from conversations.deep_links import DeepLinks
from conversations.engine import Engine
from conversations.event_admin import Attendees, CancelEvent, EditEvent, EventQr
from conversations.flow import Flow, FlowConfig
from conversations.i18n import Translations
from conversations.initiatives import Initiatives, MyInitiatives, NewInitiative
from conversations.journey_feedback import JourneyFeedback, SnapLog
from conversations.linking import LinkAccounts
from conversations.media import MediaFetcher
from conversations.offers import BrowseOffers, CarriedMessages, MyOffers
from conversations.onboarding import Onboarding
from conversations.pledges import Pledges
from conversations.report import Report
from conversations.rsvp import MyEvents, Rsvp
from conversations.settings import Settings as SettingsFlow
from conversations.task_admin import ManageTasks
from conversations.topics_admin import ManageTopics
from conversations.your_data import Forget, MyData, Stop
from handlers.access import Access
from handlers.commands import (
    CommandRegistry,
    event_commands,
    feedback_commands,
    foundation_commands,
    pledge_commands,
)
from handlers.menu import Menu
from handlers.router import RoleListener, Router
from storage.clock import Clock
from storage.models import Role
from storage.unit_of_work import UnitOfWorkFactory


def build_commands() -> CommandRegistry:
    """Every chat command (`build_command_menu` describes them for the transports)."""
    return CommandRegistry(
        [*foundation_commands(), *event_commands(), *feedback_commands(), *pledge_commands()]
    )


def command_menu(commands: CommandRegistry) -> tuple[MenuCommand, ...]:
    """The commands of the menus, described for the transports, in menu order: each role's
    menu is the entries naming it, in this order."""
    visible = {role: commands.visible_to(role) for role in Role}
    every_entry = max(visible.values(), key=len)  # the role that may use every command
    return tuple(
        MenuCommand(
            name=spec.name,
            description=spec.description,
            roles=frozenset(role for role, specs in visible.items() if spec in specs),
            local_names={"da": spec.danish},
        )
        for spec in every_entry
    )


def build_command_menu() -> tuple[MenuCommand, ...]:
    """What transports show in their command menus."""
    return command_menu(build_commands())


def build_access(settings: Settings) -> Access:
    return Access(settings.admins, settings.coordinators)


def build_router(
    settings: Settings,
    uow: UnitOfWorkFactory,
    translations: Translations,
    clock: Clock,
    *,
    fetchers: Mapping[str, MediaFetcher] | None = None,
    on_role_change: RoleListener | None = None,
) -> Router:
    """`fetchers`, by platform: transports that can get the bytes of a photo people sent.
    `on_role_change`: told of a person whose role or language changed (their menu)."""
    links = DeepLinks()
    links.register(RedeemInvite.link_prefix, RedeemInvite.name)
    links.register(Rsvp.link_prefix, Rsvp.name)
    links.register(JourneyFeedback.link_prefix, JourneyFeedback.name)
    feedback = JourneyFeedback(replace(settings.feedback_options(), fetchers=dict(fetchers or {})))
    commands = build_commands()
    bot_username = settings.telegram_bot_username
    menu = Menu(commands)
    flows: list[Flow] = [
        Onboarding(links),
        SettingsFlow(),
        MyData(),
        Forget(),
        Stop(),
        RedeemInvite(),
        ManageTopics(),
        LinkAccounts(),
        NewEvent(bot_username=bot_username),
        Rsvp(),
        MyEvents(),
        Attendees(bot_username=bot_username),
        EditEvent(),
        CancelEvent(),
        EventQr(bot_username=bot_username),
        feedback,
        SnapLog(feedback),
        Report(),
        Pledges(),
        ManageTasks(),
        MyOffers(),
        BrowseOffers(),
        CarriedMessages(),
        NewInitiative(bot_username=bot_username),
        Initiatives(),
        MyInitiatives(),
        menu,
    ]
    engine = Engine(flows, conversation_ttl=settings.conversation_ttl)
    return Router(
        uow=uow,
        engine=engine,
        commands=commands,
        menu=menu,
        access=build_access(settings),
        translations=translations,
        clock=clock,
        config=FlowConfig(
            timezone=settings.timezone,
            consent_version=settings.consent_version,
            default_language=settings.default_language,
            late_withdrawal_hours=settings.late_withdrawal_hours,
            initiative_pushes_per_day=settings.initiative_pushes_per_day,
            named_coordinators=frozenset([*settings.admins, *settings.coordinators]),
        ),
        on_role_change=on_role_change,
    )
