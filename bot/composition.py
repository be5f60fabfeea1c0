"""The composition root: every flow, command and deep link wired into one router."""

from __future__ import annotations

from collections.abc import Sequence

from bot.privacy import load_privacy_notice
from bot.settings import Settings
from bot.transports.base import MenuCommand
from conversations.core.deep_links import DeepLinks
from conversations.core.engine import Engine
from conversations.core.flow import Flow, FlowConfig
from conversations.core.i18n import Translations
from conversations.events.flows.answer_invitation import Rsvp
from conversations.events.flows.attendees import Attendees
from conversations.events.flows.cancel_event import CancelEvent
from conversations.events.flows.check_in import CheckIn
from conversations.events.flows.co_organisers import CoOrganisers
from conversations.events.flows.copy_event import CopyEvent
from conversations.events.flows.edit_event import EditEvent
from conversations.events.flows.event_qr import EventQr
from conversations.events.flows.my_events import MyEvents
from conversations.events.flows.new_event.flow import NewEvent
from conversations.events.flows.send_again import SendAgain
from conversations.feedback.flows.give_feedback import JourneyFeedback
from conversations.feedback.flows.read_report import Report
from conversations.feedback.flows.share_photos import SnapLog
from conversations.initiatives.flows.browse_initiatives import Initiatives
from conversations.initiatives.flows.my_initiatives import MyInitiatives
from conversations.initiatives.flows.new_initiative import NewInitiative
from conversations.people.flows.accept_new_privacy import AcceptNewPrivacy
from conversations.people.flows.administer import Administer
from conversations.people.flows.become_coordinator import RedeemInvite
from conversations.people.flows.change_settings import Settings as SettingsFlow
from conversations.people.flows.forget_me import Forget
from conversations.people.flows.link_accounts import LinkAccounts
from conversations.people.flows.manage_topics import ManageTopics
from conversations.people.flows.onboarding import Onboarding
from conversations.people.flows.pause import Stop
from conversations.people.flows.read_privacy import ReadPrivacy
from conversations.people.flows.see_my_data import MyData
from conversations.tasks.flows.browse_offers import BrowseOffers
from conversations.tasks.flows.manage_tasks import ManageTasks
from conversations.tasks.flows.offer_help import MyOffers
from conversations.tasks.flows.reply_about_offer import CarriedMessages
from conversations.tasks.flows.take_task import Pledges
from handlers.access import Access
from handlers.commands import CommandRegistry
from handlers.menu import Menu
from handlers.router import RoleListener, Router
from storage.clock import Clock
from storage.models import Role
from storage.unit_of_work import UnitOfWorkFactory


def build_flows(settings: Settings) -> list[Flow]:
    """Every flow the bot runs, by capability; their commands and links come with them."""
    links = DeepLinks()  # filled below, once every flow that declares a link exists
    feedback = JourneyFeedback(settings.feedback_options())
    bot_username = settings.telegram_bot_username
    notice = load_privacy_notice(settings)
    people: list[Flow] = [
        Onboarding(links, notice),
        ReadPrivacy(notice),
        AcceptNewPrivacy(notice),
        SettingsFlow(),
        MyData(settings.retention_policy()),
        Forget(),
        Stop(),
        RedeemInvite(),
        Administer(settings.invite_code_days),
        ManageTopics(),
        LinkAccounts(),
    ]
    events: list[Flow] = [
        NewEvent(bot_username=bot_username, photos=settings.feedback_options()),
        Rsvp(),
        MyEvents(),
        Attendees(bot_username=bot_username),
        EditEvent(photos=settings.feedback_options()),
        CancelEvent(),
        CopyEvent(
            bot_username=bot_username,
            invite_lead=settings.series_invite_lead,
            photos=settings.feedback_options(),
        ),
        EventQr(bot_username=bot_username),
        SendAgain(),
        CoOrganisers(),
        CheckIn(),
    ]
    feedback_flows: list[Flow] = [feedback, SnapLog(feedback), Report()]
    tasks: list[Flow] = [Pledges(), ManageTasks(), MyOffers(), BrowseOffers(), CarriedMessages()]
    initiatives: list[Flow] = [
        NewInitiative(bot_username=bot_username),
        Initiatives(),
        MyInitiatives(),
    ]
    flows = [*people, *events, *feedback_flows, *tasks, *initiatives]
    for flow in flows:
        if flow.link_prefix is not None:
            links.register(flow.link_prefix, flow.name)
    return flows


def build_commands(settings: Settings | None = None) -> CommandRegistry:
    """Every chat command, from the flows that declare them; transports use it for their
    command menus too."""
    return CommandRegistry.of_flows(build_flows(settings or Settings()))


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


def build_command_menu(settings: Settings | None = None) -> tuple[MenuCommand, ...]:
    """What transports show in their command menus."""
    return command_menu(build_commands(settings))


def build_access(settings: Settings) -> Access:
    return Access(settings.admins, settings.coordinators)


def build_router(
    settings: Settings,
    uow: UnitOfWorkFactory,
    translations: Translations,
    clock: Clock,
    *,
    on_role_change: RoleListener | None = None,
    flows: Sequence[Flow] | None = None,
) -> Router:
    """`on_role_change`: told of a person whose role or language changed (their menu).
    `flows`: instead of `build_flows(settings)`."""
    flows = list(flows) if flows is not None else build_flows(settings)
    commands = CommandRegistry.of_flows(flows)
    menu = Menu(commands)
    flows.append(menu)
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
            consent_version=load_privacy_notice(settings).version,
            default_language=settings.default_language,
            late_withdrawal_hours=settings.late_withdrawal_hours,
            initiative_pushes_per_day=settings.initiative_pushes_per_day,
            check_in_opens_minutes=settings.check_in_opens_minutes,
            check_in_closes_minutes=settings.check_in_closes_minutes,
            named_coordinators=frozenset([*settings.admins, *settings.coordinators]),
            matrix_user_id=settings.matrix_user_id if settings.matrix_configured else None,
        ),
        on_role_change=on_role_change,
    )
