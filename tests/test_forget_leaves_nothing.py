"""`/forget` leaves nothing: the person's initiatives are taken down and blanked, others'
messages that quote them lose their text, and the SQLite file keeps no trace of them (its
deleted pages are zeroed, the write-ahead log checkpointed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from storage.db import checkpoint_wal
from storage.models import OutboxMessage, OutboxStatus
from tests.fakes import Chat
from tests.test_initiatives import approve, people, post_initiative, reload

NAME = "Zebulonia"
TITLE = "Xylofonaften ved Quistgårdssøen"


def file_bytes(database: Path) -> bytes:
    found = b""
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            found += path.read_bytes()
    return found


async def forget(chat: Chat, user: str) -> None:
    await chat.say(user, "/glem")
    await chat.tap(user, "delete")


async def test_forget_takes_down_initiatives_and_scrubs_what_quotes_them(
    backend_chat: Chat,
) -> None:
    chat = backend_chat
    sqlite_file = chat.app.settings.sqlite_path()
    await people(chat, "bo", "cai")
    await chat.onboard("zeb", name=NAME)
    event = await post_initiative(chat, "zeb", title=TITLE)
    await approve(chat, event)  # pushed to bo and cai: their rows quote the title
    async with chat.app.uow() as uow:
        quoting = [
            row
            for row in (await uow.session.execute(select(OutboxMessage))).scalars()
            if TITLE in str(row.payload)
        ]
    assert {row.user_id for row in quoting} >= {"bo", "cai"}
    await chat.deliver_outbox()  # some sent, and a later one still waiting
    async with chat.app.uow() as uow:
        await uow.outbox.enqueue(
            dedupe_key="test:waiting",
            person_id=None,
            platform="fake",
            chat_id="chat-cai",
            user_id="cai",
            kind="notice",
            payload={"text": f"{NAME} would like a hand with {TITLE}"},
        )
        await uow.commit()
    if sqlite_file is not None:
        await checkpoint_wal(chat.app.engine)  # the name is in the database file itself now
        assert NAME.encode() in await asyncio.to_thread(sqlite_file.read_bytes)

    await forget(chat, "zeb")

    taken_down = await reload(chat, event)
    assert taken_down.status == "hidden"
    assert (taken_down.title, taken_down.invitation, taken_down.place) == ("–", "", "")
    assert taken_down.created_by_id is None
    async with chat.app.uow() as uow:
        rows = list((await uow.session.execute(select(OutboxMessage))).scalars())
    assert not [row for row in rows if TITLE in str(row.payload) or NAME in str(row.payload)]
    (waiting,) = [row for row in rows if row.dedupe_key == "test:waiting"]
    assert waiting.status == OutboxStatus.CANCELLED  # never sent after all
    assert waiting.payload == {"text": "", "scrubbed": True}
    # others' own messages are untouched
    assert any(row.payload.get("text") for row in rows if row.user_id == "kim")

    if sqlite_file is not None:  # PostgreSQL: see README, "Your data" (what VACUUM does)
        raw = await asyncio.to_thread(file_bytes, sqlite_file)
        assert NAME.encode() not in raw
        assert TITLE.encode() not in raw
        assert "Quistgårdssøen".encode() not in raw


async def test_every_sqlite_connection_zeroes_what_it_deletes(chat: Chat) -> None:
    # Some SQLite builds have this on by default (Debian's); the bot does not rely on that.
    async with chat.app.engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA secure_delete")).scalar() == 1
