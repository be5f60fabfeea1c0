"""Alembic environment: async engine, the project's models as the target."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from dotenv import dotenv_values
from sqlalchemy.engine import Connection

from storage.db import DEFAULT_DATABASE_URL, create_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata

# The bot's own setting and its default, so that `alembic current` from the project root
# looks at the same database as `python -m bot run` (storage cannot import bot.settings).
DATABASE_URL_SETTING = "TMM_DATABASE_URL"


def database_url() -> str:
    """The URL the caller set (`python -m bot migrate`), else TMM_DATABASE_URL as the bot
    reads it: the environment first, then `.env` in the working directory."""
    section = config.config_ini_section
    if config.file_config.has_option(section, "sqlalchemy.url"):
        return config.file_config.get(section, "sqlalchemy.url")
    from_env = os.environ.get(DATABASE_URL_SETTING) or dotenv_values(".env").get(
        DATABASE_URL_SETTING
    )
    return from_env or DEFAULT_DATABASE_URL


def run_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_engine(database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
