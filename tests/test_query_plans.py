"""The worker's queries keep their plans whatever the statistics say: on a PostgreSQL
database never analyzed (autovacuum off), with 10,000 identities and 50,000 outbox rows, the
due-rows, claim, mark and recovery queries walk indexes, never a whole table.

The statements are the repository's own, caught as they run and explained with the same
parameters.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.engine import make_url

from bot.leases import ProcessLease
from storage.clock import FrozenClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import Base, OutboxMessage, OutboxStatus
from storage.unit_of_work import UnitOfWorkFactory
from tests.conftest import POSTGRES_URL, _create_database, _drop_database
from tests.fault_transport import seed_people

pytestmark = pytest.mark.postgres

# a table of a handful of rows by design (the live processes): scanning it is the best plan
SMALL_TABLES = {"workers"}
IDENTITIES = 10_000
OUTBOX_ROWS = 50_000


@pytest.fixture(scope="module")
def unanalyzed_url() -> Iterator[str]:
    if not POSTGRES_URL:
        raise RuntimeError("TEST_POSTGRES_URL is not set")
    name = f"tmm_plans_{uuid.uuid4().hex[:12]}"
    asyncio.run(_create_database(POSTGRES_URL, name))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        asyncio.run(_drop_database(POSTGRES_URL, name))


@pytest.fixture
async def uow(unanalyzed_url: str, clock: FrozenClock) -> AsyncIterator[UnitOfWorkFactory]:
    engine = create_engine(unanalyzed_url)
    factory = UnitOfWorkFactory(create_sessionmaker(engine), clock)
    try:
        async with engine.begin() as connection:
            for table in Base.metadata.sorted_tables:
                await connection.execute(
                    text(f'ALTER TABLE "{table.name}" SET (autovacuum_enabled = false)')
                )
        people = await seed_people(factory, clock, IDENTITIES)
        rows = [
            {
                "dedupe_key": f"bc:{n}",
                "person_id": people[n % IDENTITIES][0],
                "platform": "telegram",
                "chat_id": people[n % IDENTITIES][2],
                "user_id": people[n % IDENTITIES][1],
                "kind": "invitation",
                "batch": f"bc:{n // 10_000}",
                "payload": {"text": "Kom med i skoven"},
                "status": OutboxStatus.PENDING if n % 5 else OutboxStatus.SENT,
                "attempts": 0,
                "deferrals": 0,
                "priority": 1,
                "next_attempt_at": clock.now() - timedelta(seconds=n % 600),
                "created_at": clock.now(),
            }
            for n in range(OUTBOX_ROWS)
        ]
        async with factory() as work:
            for start in range(0, OUTBOX_ROWS, 10_000):
                await work.session.execute(insert(OutboxMessage), rows[start : start + 10_000])
            await work.commit()
        async with engine.connect() as connection:
            analyzed = await connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN "
                    "('outbox', 'identities', 'persons') AND "
                    "(last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)"
                )
            )
            assert analyzed.scalar_one() == 0, "the tables must be without statistics"
        yield factory
    finally:
        await engine.dispose()


class Statements:
    """Every statement the engine runs, with its parameters."""

    def __init__(self, factory: UnitOfWorkFactory) -> None:
        self.seen: list[tuple[str, Any]] = []
        bind = factory.sessionmaker.kw["bind"]
        event.listen(bind.sync_engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        self.seen.append((statement, params))

    def matching(self, start: str) -> list[tuple[str, Any]]:
        return [(s, p) for s, p in self.seen if s.lstrip().upper().startswith(start)]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


async def explain(factory: UnitOfWorkFactory, statement: str, params: Any) -> dict[str, Any]:
    bind = factory.sessionmaker.kw["bind"]
    async with bind.connect() as connection:
        result = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", params)
        plan = result.scalar_one()
        await connection.rollback()
    return dict((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])


def whole_table_scans(plan: dict[str, Any]) -> list[str]:
    return [
        f"{node['Node Type']} on {node.get('Relation Name')}"
        for node in nodes(plan)
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") not in SMALL_TABLES
    ]


async def test_the_worker_queries_walk_indexes_without_statistics(
    uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    statements = Statements(uow)
    lease = ProcessLease(uow, clock)
    await lease.renew()
    async with uow() as work:
        due = await work.delivery.due("telegram", clock.now(), 50)
        claimed = await work.delivery.claim([m.id for m in due[:8]], lease.current())
        await work.delivery.attempt([m.id for m in claimed[:4]], [], lease.current())
        await work.delivery.recover_interrupted("telegram", "stopped", leased=True)
        await work.rollback()
    assert len(due) == 50

    checked = {
        "due rows": statements.matching("SELECT OUTBOX.ID"),
        "claim": [s for s in statements.matching("UPDATE OUTBOX") if "SKIP LOCKED" in s[0]],
        "on the wire, recovery": [
            s for s in statements.matching("UPDATE OUTBOX") if "SKIP LOCKED" not in s[0]
        ],
    }
    assert all(checked.values()), {name: len(found) for name, found in checked.items()}
    scans = {}
    for name, found in checked.items():
        for statement, params in found:
            plan = await explain(uow, statement, params)
            if whole := whole_table_scans(plan):
                scans[f"{name}: {statement[:60]}"] = whole
    assert scans == {}

    # and the due rows come from walking the queue's index up to the limit, not from
    # sorting every pending row
    [(statement, params)] = checked["due rows"]
    plan = await explain(uow, statement, params)
    assert plan["Node Type"] in {"Limit", "LockRows"}, plan["Node Type"]
    used = {node.get("Index Name") for node in nodes(plan)}
    assert "ix_outbox_due" in used, used
    assert not [n for n in nodes(plan) if n["Node Type"] == "Sort"], "a full sort"
