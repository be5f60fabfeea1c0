"""Everything stored about a person: export for `/mydata`, erasure for `/forget`.

Driven by the schema itself: every foreign key to `persons.id` is found in the metadata and
must say in its column `info` whether forgetting deletes the row or only clears the pointer
(keeping the anonymous row for aggregates). A column that does not say is an error, so a
new table cannot silently escape either command.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Row,
    Table,
    UniqueConstraint,
    delete,
    exists,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.forgetting import quotes_of, scrub_outbox, take_down_initiatives
from storage.models import Base, Person

# Set on a session whose commit deleted personal data: the unit of work then checkpoints
# SQLite's write-ahead log, so deleted rows do not linger in it (secure_delete clears the
# database file's own free pages).
CLEAN_FILE_AFTER_COMMIT = "clean_file_after_commit"


@dataclass(frozen=True, slots=True)
class PersonLink:
    table: Table
    column: Column[Any]
    on_forget: str


class UndeclaredPersonalData(RuntimeError):
    pass


def person_links(metadata: MetaData | None = None) -> list[PersonLink]:
    """Every column in the schema that points at a person, with its forget rule.

    `metadata` defaults to the models' own; tests pass a scratch schema.
    """
    links: list[PersonLink] = []
    for table in (metadata or Base.metadata).sorted_tables:
        for column in table.columns:
            if not any(fk.column.table.name == Person.__tablename__ for fk in column.foreign_keys):
                continue
            rule = column.info.get("on_forget")
            if rule not in ("delete", "anonymise"):
                raise UndeclaredPersonalData(
                    f"{table.name}.{column.name} points at a person but does not declare "
                    "info={'on_forget': 'delete' | 'anonymise'}"
                )
            links.append(PersonLink(table=table, column=column, on_forget=rule))
    return links


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def export_person(session: AsyncSession, person_id: int) -> dict[str, list[dict[str, Any]]]:
    """All rows about the person, by table, as plain JSON-ready values."""
    exported: dict[str, list[dict[str, Any]]] = {}
    person_table = Base.metadata.tables[Person.__tablename__]
    row = (
        await session.execute(select(person_table).where(person_table.c.id == person_id))
    ).first()
    if row is None:
        return exported
    exported[person_table.name] = [{k: _plain(v) for k, v in row._mapping.items()}]
    for link in person_links():
        result = await session.execute(select(link.table).where(link.column == person_id))
        rows = [{k: _plain(v) for k, v in r._mapping.items()} for r in result]
        if rows:
            exported.setdefault(link.table.name, []).extend(rows)
    return exported


async def forget_person(session: AsyncSession, person_id: int) -> dict[str, int]:
    """Delete or anonymise every row about the person, then the person. Returns counts.

    First their initiatives are taken down and blanked, and others' messages that quote
    them lose their text (storage/forgetting.py); the session then asks for the SQLite
    file to be cleaned after the commit (`CLEAN_FILE_AFTER_COMMIT`)."""
    counts: dict[str, int] = {}
    quotes = await quotes_of(session, person_id)
    if taken_down := await take_down_initiatives(session, person_id):
        counts["events.initiatives_taken_down"] = taken_down
    if scrubbed := await scrub_outbox(session, person_id, quotes):
        counts["outbox.scrubbed"] = scrubbed
    session.info[CLEAN_FILE_AFTER_COMMIT] = True
    for link in person_links():
        if link.on_forget == "delete":
            result = await session.execute(delete(link.table).where(link.column == person_id))
        else:
            result = await session.execute(
                update(link.table).where(link.column == person_id).values({link.column.name: None})
            )
        changed = int(getattr(result, "rowcount", 0) or 0)
        if changed:
            counts[f"{link.table.name}.{link.column.name}"] = changed
    person_table = Base.metadata.tables[Person.__tablename__]
    await session.execute(delete(person_table).where(person_table.c.id == person_id))
    session.expunge_all()
    return counts


def _unique_sets(table: Table) -> list[list[Column[Any]]]:
    """The column sets that must stay unique in a table (primary key, unique constraints)."""
    sets: list[list[Column[Any]]] = [list(table.primary_key.columns)]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            sets.append(list(constraint.columns))
    for index in table.indexes:
        if index.unique:
            sets.append([c for c in index.columns if isinstance(c, Column)])
    sets.extend([column] for column in table.columns if column.unique)
    return sets


async def merge_persons(session: AsyncSession, keep_id: int, other_id: int) -> dict[str, int]:
    """Move everything about `other_id` to `keep_id`, then delete the emptied person.

    Every column pointing at a person is re-pointed (found generically, so new tables are
    covered). A row that would then clash with one `keep_id` already has (the same topic
    chosen twice, say) is dropped from the other person first. The person row keeps what
    `keep_id` has and takes the other's values where `keep_id` has none.
    """
    if keep_id == other_id:
        return {}
    await session.flush()
    persons = Base.metadata.tables[Person.__tablename__]
    keep = (await session.execute(select(persons).where(persons.c.id == keep_id))).first()
    other = (await session.execute(select(persons).where(persons.c.id == other_id))).first()
    if keep is None or other is None:
        raise LookupError(f"cannot merge person {other_id} into {keep_id}: one is missing")
    counts: dict[str, int] = {}
    for link in person_links():
        table, column = link.table, link.column
        for unique in _unique_sets(table):
            if column not in unique:
                continue
            rest = [c for c in unique if c is not column]
            condition: ColumnElement[bool]
            if rest:
                clash = select(*rest).where(column == keep_id)
                condition = tuple_(*rest).in_(clash)
            else:
                condition = exists(select(column).where(column == keep_id))
            await session.execute(delete(table).where(column == other_id, condition))
        result = await session.execute(
            update(table).where(column == other_id).values({column.name: keep_id})
        )
        moved = int(getattr(result, "rowcount", 0) or 0)
        if moved:
            counts[f"{table.name}.{column.name}"] = moved
    await session.execute(
        update(persons).where(persons.c.id == keep_id).values(_merged_fields(keep, other))
    )
    await session.execute(delete(persons).where(persons.c.id == other_id))
    session.expunge_all()
    return counts


_ROLE_RANK = {"citizen": 0, "coordinator": 1, "admin": 2}


def _merged_fields(keep: Row[Any], other: Row[Any]) -> dict[str, Any]:
    a, b = keep._mapping, other._mapping
    values: dict[str, Any] = {}
    for name in (
        "display_name",
        "onboarded_at",
        "quiet_start_minute",
        "quiet_end_minute",
        "preferred_platform",
    ):
        if a[name] is None and b[name] is not None:
            values[name] = b[name]
    if a["consent"] != "given" and b["consent"] == "given":
        values.update(
            consent=b["consent"], consent_version=b["consent_version"], consent_at=b["consent_at"]
        )
    if _ROLE_RANK.get(b["role"], 0) > _ROLE_RANK.get(a["role"], 0):
        values["role"] = b["role"]
    if a["status"] != "active" and b["status"] == "active":
        values["status"] = "active"
    values["updated_at"] = max(a["updated_at"], b["updated_at"])
    return values
