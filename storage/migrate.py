"""Run Alembic migrations from code (at start, and from `python -m bot migrate`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(url: str) -> None:
    """Bring the database at `url` to the newest schema. Safe to call every start."""
    command.upgrade(alembic_config(url), "head")


async def upgrade_to_head_async(url: str) -> None:
    # Alembic's async env runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(upgrade_to_head, url)
