"""A photo in the invitation, as chats: the coordinator adds one from the preview (a tap to
skip), says what it shows or takes the title; its file is fetched after publishing like a
journey snap, and each invitation goes out with it and its text alternative. The outbox row
refers to the stored file, never holds its bytes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.settings import Settings
from conversations.core.messages import PHOTO, Media, MediaKind, OutMessage
from storage.clock import FrozenClock
from storage.models import Event, OutboxMessage, Snap
from tests.fakes import PLATFORM, Chat
from tests.snap_support import CountingFetcher
from tests.test_copy_events import copy_of
from tests.test_events import everyone, invitation_for

JPEG = b"\xff\xd8\xff\xe0 three people by a fire"
COVER = Media(MediaKind.PHOTO, "cover-file-1", "image/jpeg", len(JPEG))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        admins=["fake:admin"],
        coordinators=["fake:kim"],
        media_path=tmp_path / "media",
        _env_file=None,  # type: ignore[call-arg]
    )


def stored(path: str) -> bytes | None:
    """The file's bytes, or None if there is no file (read outside the event loop's way)."""
    file = Path(path)
    return file.read_bytes() if file.exists() else None


async def draft_to_preview(chat: Chat) -> OutMessage:
    await chat.say("kim", "/newevent")
    await chat.say("kim", "Skovtur med suppe\nVi går en tur i skoven og spiser suppe sammen.")
    await chat.say("kim", "lørdag kl 10-13")
    await chat.say("kim", "Hald Ege")
    await chat.tap("kim", "skip")  # no limit on places
    await chat.tap("kim", "usual")
    await chat.tap("kim", "everybody")
    return chat.last_question("kim")


async def publish_with_photo(chat: Chat, *, says: str | None = None) -> Event:
    """/newevent with a photo added from the preview; `says`: the text alternative typed
    (None: the title's, in one tap)."""
    preview = await draft_to_preview(chat)
    assert "photo" in [c.id for c in preview.choices]
    await chat.tap("kim", "photo")
    asked = chat.last_question("kim")
    assert [c.id for c in asked.choices] == ["skip"]  # skippable in one tap
    [question] = await chat.send_media("kim", COVER)
    assert "hvad viser billedet" in question.text.lower()
    if says is None:
        await chat.tap("kim", "default")
    else:
        await chat.say("kim", says)
    preview = chat.last_question("kim")
    assert "🖼 Med et billede: " + (says or "Billede: Skovtur med suppe") in preview.text
    assert "nophoto" in [c.id for c in preview.choices]
    await chat.tap("kim", "publish")
    async with chat.app.uow() as uow:
        event = (await uow.session.execute(select(Event))).scalars().one()
    return event


async def deliver(chat: Chat) -> None:
    await chat.app.delivery_worker(PLATFORM).drain()


async def invitation_rows(chat: Chat) -> list[OutboxMessage]:
    async with chat.app.uow() as uow:
        query = select(OutboxMessage).where(OutboxMessage.kind == "invitation")
        return list((await uow.session.execute(query)).scalars().all())


async def test_an_invitation_goes_out_with_its_photo_and_the_text_alternative(
    chat: Chat,
) -> None:
    await everyone(chat, "anna", "bo")
    fetcher = CountingFetcher(content=JPEG)
    chat.app.snap_files.fetchers[PLATFORM] = fetcher
    event = await publish_with_photo(chat)
    async with chat.app.uow() as uow:
        (snap,) = (await uow.session.execute(select(Snap))).scalars().all()
    assert (snap.purpose, snap.event_id, snap.caption) == (
        "cover",
        event.id,
        "Billede: Skovtur med suppe",
    )
    await chat.app.snap_files.drain()
    assert fetcher.calls == ["cover-file-1"]  # fetched once, for every invitation
    await deliver(chat)
    for user in ("anna", "bo"):
        invitation = await invitation_for(chat, user)
        assert invitation.text.startswith("🌿 Skovtur med suppe")
        assert invitation.attachment is not None
        assert invitation.attachment.content == JPEG
        assert invitation.attachment.mime_type == "image/jpeg"
        assert invitation.attachment.description == "Billede: Skovtur med suppe"
    for row in await invitation_rows(chat):
        assert row.status == "sent"
        assert "content" not in row.payload[PHOTO]  # a reference to the file, not its bytes
        assert stored(row.payload[PHOTO]["path"]) == JPEG
        assert "attachment" not in row.payload


async def test_invitations_wait_a_moment_for_the_photos_file(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna")
    chat.app.snap_files.fetchers[PLATFORM] = CountingFetcher(content=JPEG)
    await publish_with_photo(chat, says="Tre mennesker ved et bål")
    await deliver(chat)  # the file is not fetched yet: the invitation waits for it
    assert not [
        d for d in chat.transport.to("anna") if d.message.prompt_id and d.message.attachment
    ]
    [row] = await invitation_rows(chat)
    assert row.status == "pending"
    assert row.attempts == 0  # held back is not a try
    await chat.app.snap_files.drain()
    clock.advance(timedelta(seconds=3))
    await deliver(chat)
    invitation = await invitation_for(chat, "anna")
    assert invitation.attachment is not None
    assert invitation.attachment.description == "Tre mennesker ved et bål"


async def test_a_photo_that_never_arrives_holds_the_invitations_only_a_minute(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna")
    chat.app.snap_files.fetchers[PLATFORM] = CountingFetcher(error=TimeoutError("slow"))
    await publish_with_photo(chat)
    await chat.app.snap_files.drain()  # a failed try: the snap waits for its next
    clock.advance(timedelta(minutes=2))
    await deliver(chat)
    invitation = await invitation_for(chat, "anna")
    assert invitation.attachment is None  # the card all the same
    assert invitation.text.startswith("🌿 Skovtur med suppe")


async def test_skipping_the_photo_takes_one_tap_and_sends_none(chat: Chat) -> None:
    await everyone(chat, "anna")
    await draft_to_preview(chat)
    await chat.tap("kim", "photo")
    await chat.tap("kim", "skip")
    preview = chat.last_question("kim")
    assert "photo" in [c.id for c in preview.choices]  # back at the preview, still offered
    not_a_photo = await chat.say("kim", "her er et billede")
    assert not_a_photo  # typed text at the preview is not a photo and loses nothing
    await chat.tap("kim", "publish")
    await chat.deliver_outbox()
    assert (await invitation_for(chat, "anna")).attachment is None
    async with chat.app.uow() as uow:
        assert (await uow.session.execute(select(Snap))).first() is None


async def test_a_voice_note_is_not_taken_for_the_photo(chat: Chat) -> None:
    await everyone(chat)
    await draft_to_preview(chat)
    await chat.tap("kim", "photo")
    [reply, *_] = await chat.send_media("kim", Media(MediaKind.VOICE, "voice-1", "audio/ogg", 9))
    assert "ikke et billede" in reply.text
    assert [c.id for c in chat.last_question("kim").choices] == ["skip"]  # asked again


async def test_forgetting_the_coordinator_removes_the_photo_and_its_file(chat: Chat) -> None:
    await everyone(chat, "anna")
    chat.app.snap_files.fetchers[PLATFORM] = CountingFetcher(content=JPEG)
    await publish_with_photo(chat)
    await chat.app.snap_files.drain()
    async with chat.app.uow() as uow:
        (snap,) = (await uow.session.execute(select(Snap))).scalars().all()
    assert snap.path is not None
    assert stored(snap.path) == JPEG
    replies = await chat.say("kim", "/minedata")
    [export] = [r.attachment for r in replies if r.attachment is not None]
    assert b"cover-file-1" in export.content  # the photo is among the coordinator's data
    await chat.say("kim", "/glem")
    await chat.tap("kim", 1)  # yes, delete it all
    async with chat.app.uow() as uow:
        assert (await uow.session.execute(select(Snap))).first() is None
    assert stored(snap.path) is None


async def test_a_copy_keeps_the_photo_and_it_can_be_changed_or_removed(chat: Chat) -> None:
    await everyone(chat, "anna")
    fetcher = CountingFetcher(content=JPEG)
    chat.app.snap_files.fetchers[PLATFORM] = fetcher
    source = await publish_with_photo(chat, says="Tre mennesker ved et bål")
    await chat.app.snap_files.drain()
    await chat.deliver_outbox()

    # a copy comes with the photo and its words, fetched again as the copy's own
    await copy_of(chat, source)
    await chat.tap("kim", "once")
    assert "🖼 Med et billede: Tre mennesker ved et bål" in chat.last_question("kim").text
    await chat.tap("kim", "publish")
    await chat.app.snap_files.drain()
    await chat.deliver_outbox()
    copy = (await invitations_to(chat, "anna"))[-1]
    assert copy.attachment is not None
    assert copy.attachment.description == "Tre mennesker ved et bål"
    assert fetcher.calls == ["cover-file-1", "cover-file-1"]

    # changed: a new photo, described by its caption; removed: the copy goes without
    await copy_of(chat, source, when="20/6 kl 10-13")
    await chat.tap("kim", "once")
    await chat.tap("kim", "change")
    await chat.tap("kim", "photo")
    assert [c.id for c in chat.last_question("kim").choices] == ["skip", "nophoto"]
    new = Media(MediaKind.PHOTO, "cover-file-2", "image/jpeg", len(JPEG), "Suppe over bål")
    await chat.send_media("kim", new)
    assert "🖼 Med et billede: Suppe over bål" in chat.last_question("kim").text
    await chat.tap("kim", "change")
    await chat.tap("kim", "photo")
    await chat.tap("kim", "nophoto")
    preview = chat.last_question("kim")
    assert "Med et billede" not in preview.text
    await chat.tap("kim", "publish")
    await chat.app.snap_files.drain()
    await chat.deliver_outbox()
    assert (await invitations_to(chat, "anna"))[-1].attachment is None


async def invitations_to(chat: Chat, user: str) -> list[OutMessage]:
    return [
        d.message for d in chat.transport.to(user) if any(c.id == "yes" for c in d.message.choices)
    ]


async def test_each_meeting_of_a_copied_series_is_invited_with_the_photo_when_due(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna")
    chat.app.snap_files.fetchers[PLATFORM] = CountingFetcher(content=JPEG)
    source = await publish_with_photo(chat, says="Tre mennesker ved et bål")
    await chat.app.snap_files.drain()
    await chat.deliver_outbox()
    await copy_of(chat, source, "13/6 kl 10-13")
    await chat.tap("kim", "weekly")
    await chat.say("kim", "2")
    await chat.tap("kim", "publish")
    await chat.app.snap_files.drain()  # each meeting's photo fetched now, not when it is due
    async with chat.app.uow() as uow:
        meetings = list(
            (await uow.session.execute(select(Event).where(Event.id > source.id))).scalars()
        )
    assert len(meetings) == 2
    for meeting, day in zip(meetings, ("13. juni", "20. juni"), strict=True):
        clock.set(meeting.starts_at - timedelta(weeks=1) + timedelta(hours=1))
        await chat.app.event_jobs.run_once()
        await chat.deliver_outbox()
        invitation = (await invitations_to(chat, "anna"))[-1]
        assert day in invitation.text
        assert invitation.attachment is not None
        assert invitation.attachment.description == "Tre mennesker ved et bål"
