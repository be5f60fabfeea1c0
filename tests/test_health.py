"""The operator's HTTP listener: /healthz says healthy (200) or not (503) as JSON, /metrics
speaks Prometheus' text format with what the bot counts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import BotApp
from bot.health import HealthServer
from bot.settings import Settings
from storage.clock import FrozenClock
from storage.db import create_engine, create_sessionmaker
from storage.unit_of_work import UnitOfWorkFactory
from tests.fakes import Chat


async def get(server: HealthServer, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.port}{path}") as response,
    ):
        return response.status, await response.text()


@pytest.fixture
async def health(chat: Chat) -> AsyncIterator[HealthServer]:
    server = HealthServer(chat.app.uow, chat.app.connected, listen="127.0.0.1", port=0)
    await server.start()
    yield server
    await server.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_healthz_is_200_with_what_an_operator_needs(chat: Chat, health: HealthServer) -> None:
    await chat.say("ole", "/start")
    status, body = await get(health, "/healthz")
    assert status == 200
    report = json.loads(body)
    assert report["healthy"] is True
    assert report["database"] is True
    assert report["transports"] == {"fake": True}
    assert isinstance(report["outbox_waiting"], int)


async def test_metrics_count_updates_sends_and_outbox_rows(
    chat: Chat, health: HealthServer
) -> None:
    before = samples((await get(health, "/metrics"))[1])
    await chat.say("ole", "/start")
    await chat.say("ole", "/hjaelp")
    status, text = await get(health, "/metrics")
    assert status == 200
    after = samples(text)
    handled = ("tmm_updates_handled_total", (("platform", "fake"),))
    assert after[handled] - before.get(handled, 0) == 2
    latency = ("tmm_handler_seconds_count", (("platform", "fake"),))
    assert after[latency] - before.get(latency, 0) == 2
    outbox = {labels: value for (name, labels), value in after.items() if name == "tmm_outbox_rows"}
    assert sum(outbox.values()) >= 2  # the replies, by status and platform
    assert all(dict(labels)["platform"] == "fake" for labels in outbox)
    for name in ("tmm_sends_total", "tmm_reminders_fired_total", "tmm_scheduler_lag_seconds"):
        assert f"# TYPE {name.removesuffix('_total')}" in text


async def test_a_disconnected_transport_or_a_silent_database_is_503(
    chat: Chat, clock: FrozenClock
) -> None:
    offline = HealthServer(chat.app.uow, lambda: {"telegram": False}, listen="127.0.0.1", port=0)
    await offline.start()
    try:
        status, body = await get(offline, "/healthz")
    finally:
        await offline.stop()
    assert status == 503
    assert '"telegram": false' in body

    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    silent = HealthServer(
        UnitOfWorkFactory(create_sessionmaker(engine), clock),
        lambda: {},
        listen="127.0.0.1",
        port=0,
    )
    await silent.start()
    try:
        status, body = await get(silent, "/healthz")
    finally:
        await silent.stop()
        await engine.dispose()
    assert status == 503
    assert '"database": false' in body


def test_the_listener_is_off_unless_a_port_is_set(settings: Settings) -> None:
    assert BotApp(settings, []).health is None
    listening = BotApp(settings.model_copy(update={"http_port": 0}), [])
    assert listening.health is not None
