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

from sqlalchemy import Column, MetaData, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, Person


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
    """Delete or anonymise every row about the person, then the person. Returns counts."""
    counts: dict[str, int] = {}
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
