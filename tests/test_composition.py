"""The composition root collects commands and links from the flows: they must agree."""

from __future__ import annotations

import pytest

from bot.app import BotApp
from bot.composition import build_flows
from bot.settings import Settings
from conversations.core.commands import CommandSpec
from conversations.core.deep_links import DeepLinks
from conversations.core.engine import Engine
from conversations.core.flow import FlowContext, SingleStepFlow, Transition
from conversations.core.i18n import N_
from conversations.people.flows.onboarding import Onboarding
from handlers.commands import MENU_ORDER, CommandRegistry


class Greet(SingleStepFlow):
    name = "greet"
    commands = (CommandSpec("hello", "hej", N_("Say hello")),)

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.end()


def test_every_command_starts_a_flow_the_engine_runs(app: BotApp) -> None:
    router = app.router
    names = set(router.engine.flow_names)
    for spec in router.commands:
        assert spec.flow in names, f"/{spec.name} names {spec.flow!r}, which is not registered"
        assert router.engine.flow(spec.flow).commands, spec.name


def test_every_command_is_declared_by_the_flow_it_starts(settings: Settings) -> None:
    for flow in build_flows(settings):
        for spec in CommandRegistry.of_flows([flow]):
            assert spec.flow == flow.name


def test_the_help_menu_orders_only_commands_that_exist(settings: Settings) -> None:
    registry = CommandRegistry.of_flows(build_flows(settings))
    for name in MENU_ORDER:
        assert registry.find(name) is not None, name


def test_every_deep_link_opens_a_registered_flow(settings: Settings) -> None:
    flows = build_flows(settings)
    onboarding = next(flow for flow in flows if isinstance(flow, Onboarding))
    links: DeepLinks = onboarding.links
    names = {flow.name for flow in flows}
    assert set(links.targets) == {"ev", "fb", "co", "in"}
    assert set(links.targets.values()) <= names


def test_a_command_without_a_flow_is_refused() -> None:
    with pytest.raises(ValueError, match="names no flow"):
        CommandRegistry([CommandSpec("hello", "hej", N_("Say hello"))])


def test_two_flows_cannot_take_the_same_command_name() -> None:
    class Greet2(Greet):
        name = "greet2"

    with pytest.raises(ValueError, match="taken"):
        CommandRegistry.of_flows([Greet(), Greet2()])


def test_two_flows_cannot_share_a_name() -> None:
    from datetime import timedelta

    with pytest.raises(ValueError, match="share a name"):
        Engine([Greet(), Greet()], conversation_ttl=timedelta(hours=1))


def test_a_new_flow_brings_its_commands_along() -> None:
    registry = CommandRegistry.of_flows([Greet()])
    spec = registry.find("hej")
    assert spec is not None
    assert spec.flow == "greet"
    assert spec.names == ("hello", "hej")
