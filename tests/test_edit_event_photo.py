"""Changing an invitation's photo with /retarrangement, as chats on SQLite and PostgreSQL:
added, replaced or removed; invitations already delivered keep what they had (the
coordinator is told so), those not yet sent (held by quiet hours here) go out with the new
photo or without; the old file goes once the change has committed, never before."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.settings import Settings
from conversations.core.messages import Media, MediaKind
from storage.clock import FrozenClock
from storage.models import Event, OutboxMessage, Snap
from storage.unit_of_work import UnitOfWorkFactory
from tests.conftest import Backend
from tests.fakes import PLATFORM, Chat
from tests.snap_support import CountingFetcher
from tests.test_events import create_event, everyone, invitation_for, onboard_with_quiet_hours
from tests.test_invitation_photo import JPEG, stored
from tests.test_invitation_photo_everywhere import publish_with_photo

NIGHT = datetime(2026, 6, 1, 21, 0, tzinfo=UTC)  # 23:00 in Copenhagen: cy's quiet hours
MORNING = datetime(2026, 6, 2, 6, 0, tzinfo=UTC)  # 08:00, when they end
LAKE = b"\xff\xd8\xff\xe0 two people by a lake"
NEW = Media(MediaKind.PHOTO, "lake-file-2", "image/jpeg", len(LAKE))


@pytest.fixture
def database_url(backend: Backend) -> str:
    return backend.url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        admins=["fake:admin"],
        coordinators=["fake:kim", "fake:lis"],
        media_path=tmp_path / "media",
        _env_file=None,  # type: ignore[call-arg]
    )


async def covers(chat: Chat) -> list[Snap]:
    async with chat.app.uow() as uow:
        query = select(Snap).where(Snap.purpose == "cover").order_by(Snap.id)
        return list((await uow.session.execute(query)).scalars().all())


async def invitation_status(chat: Chat, user: str) -> str:
    async with chat.app.uow() as uow:
        query = select(OutboxMessage.status).where(
            OutboxMessage.kind == "invitation", OutboxMessage.user_id == user
        )
        return str((await uow.session.execute(query)).scalar_one())


async def deliver(chat: Chat) -> None:
    await chat.app.delivery_worker(PLATFORM).drain()


async def anna_delivered_cy_held(chat: Chat, clock: FrozenClock, *, photo: bool) -> Event:
    """Published at night: anna's invitation delivered, cy's held until her morning."""
    await everyone(chat, "anna")
    await onboard_with_quiet_hours(chat, "cy", "22-8")
    clock.set(NIGHT)
    event = await publish_with_photo(chat) if photo else await create_event(chat)
    await chat.app.snap_files.drain()
    await deliver(chat)
    assert await invitation_for(chat, "anna")
    assert await invitation_status(chat, "cy") == "pending"  # held until her morning
    return event


async def edit_photo(chat: Chat, event: Event) -> str:
    await chat.say("kim", "/retarrangement")
    await chat.tap("kim", f"e{event.id}")
    [question] = await chat.tap("kim", "photo")
    return question.text


async def test_a_new_photo_goes_with_the_invitations_not_yet_sent(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await anna_delivered_cy_held(chat, clock, photo=True)
    [old] = await covers(chat)
    assert old.path is not None
    assert stored(old.path) == JPEG
    anna_before = [d.message for d in chat.transport.to("anna")]
    await edit_photo(chat, event)
    assert [c.id for c in chat.last_question("kim").choices] == ["skip", "nophoto"]
    chat.app.snap_files.fetchers[PLATFORM] = CountingFetcher(content=LAKE)
    await chat.send_media("kim", NEW)
    [confirm] = await chat.say("kim", "To mennesker ved en sø")
    assert "Med et billede: To mennesker ved en sø" in confirm.text
    assert "allerede er kommet frem, beholder deres billede" in confirm.text
    assert "får det nye" in confirm.text
    assert stored(old.path) == JPEG  # nothing removed before it is saved
    [saved] = await chat.tap("kim", "yes")
    assert saved.text == "Gemt. 👍"
    [new] = await covers(chat)
    assert (new.caption, new.person_id) == ("To mennesker ved en sø", old.person_id)
    assert stored(old.path) is None  # the old file went once the change had committed
    await chat.app.snap_files.drain()

    clock.set(MORNING)
    await deliver(chat)
    assert await invitation_status(chat, "cy") == "sent"
    late = await invitation_for(chat, "cy")
    assert late.attachment is not None
    assert (late.attachment.content, late.attachment.description) == (
        LAKE,
        "To mennesker ved en sø",
    )
    # anna's delivered invitation is as it was: nothing sent again, nothing edited
    assert [d.message for d in chat.transport.to("anna")] == anna_before
    assert not [edit for edit in chat.transport.edits if edit[0].user_id == "anna"]


async def test_a_photo_removed_leaves_the_invitations_not_yet_sent_without(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await anna_delivered_cy_held(chat, clock, photo=True)
    [old] = await covers(chat)
    assert old.path is not None
    await edit_photo(chat, event)
    [confirm] = await chat.tap("kim", "nophoto")
    assert "uden billede fra nu af" in confirm.text
    assert "bliver sendt uden" in confirm.text
    await chat.tap("kim", "yes")
    assert await covers(chat) == []
    assert stored(old.path) is None
    clock.set(MORNING)
    await deliver(chat)
    assert await invitation_status(chat, "cy") == "sent"
    late = await invitation_for(chat, "cy")
    assert late.attachment is None
    [card] = await chat.say("anna", f"/start ev_{event.link_code}")  # its link too
    assert card.attachment is None


async def test_a_photo_added_to_an_event_published_without_one(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await anna_delivered_cy_held(chat, clock, photo=False)
    await edit_photo(chat, event)
    assert [c.id for c in chat.last_question("kim").choices] == ["skip"]  # nothing to remove
    chat.app.snap_files.fetchers[PLATFORM] = CountingFetcher(content=LAKE)
    await chat.send_media("kim", NEW)
    await chat.tap("kim", "default")  # the title's words, in one tap
    await chat.tap("kim", "yes")
    await chat.app.snap_files.drain()
    clock.set(MORNING)
    await deliver(chat)
    assert await invitation_status(chat, "cy") == "sent"
    late = await invitation_for(chat, "cy")
    assert late.attachment is not None
    assert late.attachment.description == "Billede: Skovtur med suppe"
    assert (await invitation_for(chat, "anna")).attachment is None  # delivered before


async def test_leaving_it_or_saying_no_changes_nothing(chat: Chat, clock: FrozenClock) -> None:
    event = await anna_delivered_cy_held(chat, clock, photo=True)
    [old] = await covers(chat)
    await edit_photo(chat, event)
    [left] = await chat.tap("kim", "skip")
    assert left.text == "Det er ikke ændret."
    await edit_photo(chat, event)
    refused, again = await chat.say("kim", "en sø")  # words are not a photo: asked again
    assert "Tryk på en af mulighederne" in refused.text
    assert [c.id for c in again.choices] == ["skip", "nophoto"]
    voice = Media(MediaKind.VOICE, "voice-1", "audio/ogg", 10)
    refused, again = await chat.send_media("kim", voice)
    assert "Det var ikke et billede" in refused.text
    assert [c.id for c in again.choices] == ["skip", "nophoto"]
    await chat.tap("kim", "nophoto")
    await chat.tap("kim", "no")
    assert [snap.id for snap in await covers(chat)] == [old.id]
    assert old.path is not None
    assert stored(old.path) == JPEG
    clock.set(MORNING)
    await deliver(chat)
    assert await invitation_status(chat, "cy") == "sent"
    late = await invitation_for(chat, "cy")
    assert late.attachment is not None
    assert late.attachment.content == JPEG


async def test_only_its_creator_or_an_admin_changes_the_photo(chat: Chat) -> None:
    await everyone(chat, "anna")
    await chat.onboard("lis", name="Lis")
    event = await publish_with_photo(chat)
    await chat.app.snap_files.drain()
    # a citizen, and another coordinator, cannot reach it
    assert "koordinator" in (await chat.say("anna", "/retarrangement"))[-1].text.lower()
    await chat.say("lis", "/retarrangement")
    assert f"e{event.id}" not in [c.id for c in chat.transport.to("lis")[-1].message.choices]
    # kim's question, pressed from lis's chat, is not hers to answer
    await edit_photo(chat, event)
    question = chat.last_question("kim")
    assert question.prompt_id is not None
    await chat.press("lis", question.prompt_id, "nophoto")
    assert len(await covers(chat)) == 1
    # an admin may
    await chat.onboard("admin", name="Admin")
    await edit_photo_as(chat, "admin", event)
    await chat.tap("admin", "nophoto")
    await chat.tap("admin", "yes")
    assert await covers(chat) == []


async def edit_photo_as(chat: Chat, user: str, event: Event) -> None:
    await chat.say(user, "/retarrangement")
    await chat.tap(user, f"e{event.id}")
    await chat.tap(user, "photo")


async def test_what_waits_for_the_commit_runs_only_after_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ran: list[str] = []

    async def note(what: str) -> None:
        ran.append(what)

    async with uow_factory() as uow:
        uow.after_commit(lambda: note("rolled back"))
        await uow.rollback()
        uow.after_commit(lambda: note("committed"))
        assert ran == []
        await uow.commit()
    async with uow_factory() as uow:
        uow.after_commit(lambda: note("closed without a commit"))
    assert ran == ["committed"]
