"""Any process answers anyone: two processes never handle a step of the same chat at once
(a per-chat advisory lock on PostgreSQL, held until the step's transaction ends)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from storage.clock import FrozenClock
from tests.conftest import _empty_all_tables
from tests.fault_transport import Database

pytestmark = pytest.mark.postgres


@pytest.fixture
async def two(postgres_url: str, clock: FrozenClock) -> AsyncIterator[tuple[Database, Database]]:
    await asyncio.to_thread(asyncio.run, _empty_all_tables(postgres_url))
    first, second = Database(postgres_url, clock), Database(postgres_url, clock)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_one_chat_is_handled_by_one_process_at_a_time(
    two: tuple[Database, Database],
) -> None:
    a, b = two
    order: list[str] = []
    a_has_it = asyncio.Event()
    let_a_finish = asyncio.Event()

    async def step_in_a() -> None:
        async with a.uow() as uow:
            await uow.chat_turns.wait_turn("telegram", "4711")
            a_has_it.set()
            await let_a_finish.wait()
            order.append("a done")
            await uow.commit()

    async def step_in_b(chat: str) -> None:
        async with b.uow() as uow:
            await uow.chat_turns.wait_turn("telegram", chat)
            order.append(f"b {chat}")
            await uow.commit()

    first = asyncio.create_task(step_in_a())
    await a_has_it.wait()
    other_chat = asyncio.create_task(step_in_b("4712"))
    same_chat = asyncio.create_task(step_in_b("4711"))
    await other_chat  # another chat does not wait
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert not same_chat.done()  # the same chat waits for a's step
    let_a_finish.set()
    await asyncio.gather(first, same_chat)
    assert order == ["b 4712", "a done", "b 4711"]
