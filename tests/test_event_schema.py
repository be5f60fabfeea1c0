"""The models and the migrations agree, and every new column about a person says what
/forget does with it."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from storage.migrate import upgrade_to_head
from storage.models import Base
from storage.personal_data import person_links


def test_migrations_match_the_models(tmp_path: Path) -> None:
    path = tmp_path / "schema.db"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_event_tables_declare_what_forget_does() -> None:
    rules = {f"{link.table.name}.{link.column.name}": link.on_forget for link in person_links()}
    assert rules["events.created_by_id"] == "anonymise"
    assert rules["rsvps.person_id"] == "anonymise"  # counts stay, as the consent text says
    assert rules["reminders.person_id"] == "delete"
    assert rules["invitations.person_id"] == "delete"
