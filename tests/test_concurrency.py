"""50 people onboarding at once and 50 other writers on one SQLite file: nobody is locked out."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select

from conversations.core.messages import Inbound
from storage.models import ConsentState, Person, TopicKind, TransportState
from storage.unit_of_work import WriterQueue
from tests.fakes import Chat

PEOPLE = 50
WRITERS = 50


async def test_fifty_concurrent_writers_never_meet_a_locked_database(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = chat.app
    assert app.settings.database_url.startswith("sqlite+aiosqlite:///")
    failures: list[Inbound] = []
    original_apology = app.router._apology

    async def recording_apology(inbound: Inbound) -> str:
        failures.append(inbound)
        return await original_apology(inbound)

    monkeypatch.setattr(app.router, "_apology", recording_apology)

    async def person(i: int) -> None:
        await chat.onboard(f"p{i:02d}", language="da" if i % 2 else "en", name=f"Person {i}")

    async def writer(i: int) -> None:
        async with app.uow() as uow:
            await uow.transport_state.put("load", f"key-{i}", f"value-{i}")
            await uow.topics.add(TopicKind.AREA, f"area-{i}", f"Område {i}", f"Area {i}")
            await uow.commit()

    with caplog.at_level(logging.WARNING):
        await asyncio.gather(
            *(person(i) for i in range(PEOPLE)), *(writer(i) for i in range(WRITERS))
        )

    assert "database is locked" not in caplog.text
    assert failures == []
    async with app.uow() as uow:
        onboarded = (
            await uow.session.execute(
                select(func.count())
                .select_from(Person)
                .where(Person.onboarded_at.is_not(None), Person.consent == ConsentState.GIVEN)
            )
        ).scalar_one()
        names = set((await uow.session.execute(select(Person.display_name))).scalars().all())
        states = (
            await uow.session.execute(
                select(func.count())
                .select_from(TransportState)
                .where(TransportState.platform == "load")
            )
        ).scalar_one()
        areas = {t.slug for t in await uow.topics.active(TopicKind.AREA)}
    assert onboarded == PEOPLE
    assert names == {f"Person {i}" for i in range(PEOPLE)}
    assert states == WRITERS
    assert {f"area-{i}" for i in range(WRITERS)} <= areas


async def test_a_unit_of_work_opened_inside_another_goes_ahead_after_the_patience(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = WriterQueue(patience=0.05)
    assert await queue.enter()
    with caplog.at_level(logging.WARNING):
        assert not await queue.enter()  # would wait for itself forever; goes ahead instead
    assert "writer queue" in caplog.text
    queue.leave()
    assert await queue.enter()  # the queue still works afterwards
    queue.leave()
