"""Every table that points at a person is covered by /mydata and by /forget.

Rows are built from the column types, so a new table is covered without touching this
file; a column type the builder does not know makes the test fail, so it cannot be
silently left out. A column that points at a person without saying what /forget does
with it fails `person_links()` (and so every test here).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import FrozenClock
from storage.models import Base, Person
from storage.personal_data import (
    UndeclaredPersonalData,
    export_person,
    forget_person,
    person_links,
)
from storage.types import UTCDateTime
from storage.unit_of_work import UnitOfWorkFactory

Row = dict[str, Any]


class RowBuilder:
    """Inserts a plausible row into any table, pointing every person column at one person."""

    def __init__(self, session: AsyncSession, clock: FrozenClock) -> None:
        self._session = session
        self._clock = clock
        self._counter = itertools.count(1)

    def _value(self, table: Table, column: Column[Any]) -> Any:
        n = next(self._counter)
        kind = column.type
        if isinstance(kind, UTCDateTime | DateTime):
            return self._clock.now()
        if isinstance(kind, Boolean):
            return True
        if isinstance(kind, Integer):
            return n
        if isinstance(kind, Float):
            return n + 0.5
        if isinstance(kind, String | Text):
            text = f"{column.name}-{n}"
            length = getattr(kind, "length", None)
            return text[-length:] if length else text
        if isinstance(kind, JSON):
            return {"test": n}
        raise TypeError(
            f"tests/test_personal_data.py cannot build a value for {table.name}.{column.name} "
            f"of type {kind!r}; teach RowBuilder._value about it"
        )

    async def insert(self, table: Table, person_id: int) -> Row:
        values: Row = {}
        for column in table.columns:
            foreign = next(iter(column.foreign_keys), None)
            if foreign is not None:
                if foreign.column.table.name == Person.__tablename__:
                    values[column.name] = person_id
                else:
                    referred = await self.insert(foreign.column.table, person_id)
                    values[column.name] = referred[foreign.column.name]
            elif column.primary_key and column.autoincrement is not False and _is_int(column):
                continue  # the database numbers it
            else:
                values[column.name] = self._value(table, column)
        result = await self._session.execute(table.insert().values(values))
        for column, key in zip(table.primary_key.columns, result.inserted_primary_key, strict=True):
            values[column.name] = key
        return values


def _is_int(column: Column[Any]) -> bool:
    return isinstance(column.type, Integer) and len(column.table.primary_key.columns) == 1


def _key(table: Table, row: Row) -> tuple[Any, ...]:
    return tuple(row[column.name] for column in table.primary_key.columns)


def _hangs_on_a_deleted_row(table: Table) -> bool:
    """Whether the row cascades away with a parent row that /forget deletes (its builder
    made that parent for the same person)."""
    deleted = {link.table.name for link in person_links() if link.on_forget == "delete"}
    return any(
        fk.ondelete == "CASCADE" and fk.column.table.name in deleted
        for column in table.columns
        for fk in column.foreign_keys
        if fk.column.table.name != Person.__tablename__
    )


def linked_tables() -> dict[str, Table]:
    return {link.table.name: link.table for link in person_links()}


async def _new_person(uow_factory: UnitOfWorkFactory, user: str) -> int:
    async with uow_factory() as uow:
        person, _ = await uow.persons.get_or_create("fake", user, f"chat-{user}", language="da")
        await uow.commit()
        return person.id


async def _rows_by_key(session: AsyncSession, table: Table) -> dict[tuple[Any, ...], Row]:
    rows = await session.execute(select(table))
    return {_key(table, dict(r._mapping)): dict(r._mapping) for r in rows}


def test_the_schema_declares_every_link_to_a_person() -> None:
    links = person_links()
    names = {f"{link.table.name}.{link.column.name}" for link in links}
    # the ones that exist now; more may come, never fewer
    assert {
        "identities.person_id",
        "consent_records.person_id",
        "person_topics.person_id",
        "conversations.person_id",
        "prompts.person_id",
        "invite_codes.created_by_id",
        "invite_codes.redeemed_by_id",
        "outbox.person_id",
    } <= names
    for link in links:
        if link.on_forget == "anonymise":
            assert link.column.nullable, f"{link.column} is anonymised, so it must be nullable"


def test_a_link_without_a_forget_rule_is_an_error() -> None:
    scratch = MetaData()
    Table("persons", scratch, Column("id", Integer, primary_key=True))
    Table(
        "diary",
        scratch,
        Column("id", Integer, primary_key=True),
        Column("person_id", ForeignKey("persons.id"), info={"on_forget": "delete"}),
        Column("written_by_id", ForeignKey("persons.id")),
    )
    with pytest.raises(UndeclaredPersonalData, match=r"diary\.written_by_id"):
        person_links(scratch)
    Table(
        "notes",
        (other := MetaData()),
        Column("person_id", ForeignKey("persons.id"), info={"on_forget": "shred"}),
    )
    Table("persons", other, Column("id", Integer, primary_key=True))
    with pytest.raises(UndeclaredPersonalData, match=r"notes\.person_id"):
        person_links(other)


async def test_mydata_and_forget_cover_every_table_that_points_at_a_person(
    uow_factory: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    tables = linked_tables()
    assert tables, "no table points at a person?"
    anna = await _new_person(uow_factory, "anna")
    bo = await _new_person(uow_factory, "bo")

    inserted: dict[str, dict[int, Row]] = {}
    async with uow_factory() as uow:
        builder = RowBuilder(uow.session, clock)
        for name, table in tables.items():
            inserted[name] = {
                anna: await builder.insert(table, anna),
                bo: await builder.insert(table, bo),
            }
        await uow.commit()

    async with uow_factory() as uow:
        exported = await export_person(uow.session, anna)
    assert [row["id"] for row in exported["persons"]] == [anna]
    for name, table in tables.items():
        assert name in exported, f"/mydata leaves out {name}"
        keys = {_key(table, row) for row in exported[name]}
        assert _key(table, inserted[name][anna]) in keys, f"/mydata misses anna's row in {name}"
        assert _key(table, inserted[name][bo]) not in keys, f"/mydata shows bo's row in {name}"

    async with uow_factory() as uow:
        all_before = {name: await _rows_by_key(uow.session, t) for name, t in tables.items()}
        await forget_person(uow.session, anna)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.session.get(Person, anna) is None
        assert await uow.session.get(Person, bo) is not None
        for link in person_links():
            left = (
                await uow.session.execute(
                    select(func.count()).select_from(link.table).where(link.column == anna)
                )
            ).scalar_one()
            assert left == 0, f"{link.table.name}.{link.column.name} still points at anna"
        for name, table in tables.items():
            rows = await _rows_by_key(uow.session, table)
            annas_key = _key(table, inserted[name][anna])
            anna_links = [
                link for link in person_links() if link.table.name == name
            ]  # every person column of this table pointed at anna
            if any(link.on_forget == "delete" for link in anna_links):
                assert annas_key not in rows, f"/forget kept anna's row in {name}"
            elif _hangs_on_a_deleted_row(table):
                pass  # e.g. messages about anna's own offer go with the offer (ON DELETE CASCADE)
            else:
                assert annas_key in rows, f"/forget should keep the anonymous row in {name}"
                for link in anna_links:
                    assert rows[annas_key][link.column.name] is None
            # bo's rows are as they were
            bos_key = _key(table, inserted[name][bo])
            assert rows[bos_key] == all_before[name][bos_key], f"/forget touched bo in {name}"


async def test_export_of_someone_unknown_is_empty(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await export_person(uow.session, 424242) == {}


def test_models_use_only_types_the_builder_knows() -> None:
    """So a new column type shows up here by name, not as a puzzling failure elsewhere."""
    known = (UTCDateTime, DateTime, Boolean, Integer, Float, String, Text, JSON)
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            assert isinstance(column.type, known), f"{table.name}.{column.name}: {column.type!r}"
