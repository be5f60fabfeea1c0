"""The invitation's photo on every way to an invitation, as chats: its link, `/arrangementer`
and a place offered from the waiting list show the photo (with its text alternative) and
then the card, as a broadcast does; the reply's outbox row refers to the stored file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.settings import Settings
from conversations.core.messages import PHOTO, OutMessage
from storage.models import Event, OutboxMessage
from tests.fakes import PLATFORM, Chat
from tests.snap_support import CountingFetcher
from tests.test_events import answer, everyone, invitation_for
from tests.test_invitation_photo import COVER, JPEG, stored

ALT = "Tre mennesker ved et bål"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        admins=["fake:admin"],
        coordinators=["fake:kim"],
        media_path=tmp_path / "media",
        _env_file=None,  # type: ignore[call-arg]
    )


async def publish_with_photo(chat: Chat, *, capacity: int | None = None) -> Event:
    """/newevent for everybody with a photo and its text alternative, published; the
    photo's file fetched when `fetched`."""
    chat.app.snap_files.fetchers[PLATFORM] = CountingFetcher(content=JPEG)
    await chat.say("kim", "/newevent")
    await chat.say("kim", "Skovtur med suppe\nVi går en tur i skoven og spiser suppe sammen.")
    await chat.say("kim", "lørdag kl 10-13")
    await chat.say("kim", "Hald Ege")
    if capacity is None:
        await chat.tap("kim", "skip")
    else:
        await chat.say("kim", str(capacity))
    await chat.tap("kim", "usual")
    await chat.tap("kim", "everybody")
    await chat.tap("kim", "photo")
    await chat.send_media("kim", COVER)
    await chat.say("kim", ALT)
    await chat.tap("kim", "publish")
    async with chat.app.uow() as uow:
        return (await uow.session.execute(select(Event))).scalars().one()


def assert_photo_then_card(message: OutMessage) -> None:
    assert message.attachment is not None, "the card came without its photo"
    assert message.attachment.content == JPEG
    assert message.attachment.description == ALT
    assert "🌿 Skovtur med suppe" in message.text
    assert "yes" in [c.id for c in message.choices]


async def reply_rows(chat: Chat, user: str) -> list[OutboxMessage]:
    async with chat.app.uow() as uow:
        query = select(OutboxMessage).where(
            OutboxMessage.kind == "reply", OutboxMessage.user_id == user
        )
        return list((await uow.session.execute(query)).scalars().all())


async def test_opening_the_link_shows_the_photo_with_its_text_then_the_card(chat: Chat) -> None:
    await everyone(chat)
    event = await publish_with_photo(chat)
    await chat.app.snap_files.drain()
    await chat.onboard("carl", name="Carl")  # came after publishing: only the link
    [card] = await chat.say("carl", f"/start ev_{event.link_code}")
    assert_photo_then_card(card)
    [row] = [r for r in await reply_rows(chat, "carl") if PHOTO in r.payload]
    assert row.status == "sent"
    assert "content" not in row.payload[PHOTO]  # a reference to the stored file
    assert stored(row.payload[PHOTO]["path"]) == JPEG
    assert "attachment" not in row.payload
    await chat.tap("carl", "yes")  # the card's buttons answer as ever
    assert "Lovely" in chat.last_text("carl") or "Dejligt" in chat.last_text("carl")


async def test_the_link_before_the_file_is_fetched_shows_the_card_without_it(
    chat: Chat,
) -> None:
    await everyone(chat, "anna")
    event = await publish_with_photo(chat)  # the file not fetched yet
    [card] = await chat.say("anna", f"/start ev_{event.link_code}")
    assert card.attachment is None
    assert card.text.startswith("🌿 Skovtur med suppe")


async def test_the_events_list_shows_the_invitation_with_its_photo(chat: Chat) -> None:
    await everyone(chat, "anna")
    await publish_with_photo(chat)
    await chat.app.snap_files.drain()
    await chat.deliver_outbox()
    await answer(chat, "anna", "maybe")
    await chat.say("anna", "/arrangementer")
    [card] = await chat.tap("anna", 1)
    assert_photo_then_card(card)
    # more about it, from under that card: the card again, the photo not a second time
    [details] = await chat.tap("anna", "details")
    assert details.attachment is None
    assert "Skovtur med suppe" in details.text


async def test_a_place_offered_from_the_waiting_list_comes_with_the_photo(chat: Chat) -> None:
    await everyone(chat, "anna", "bo")
    await publish_with_photo(chat, capacity=1)
    await chat.app.snap_files.drain()
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")  # full: bo waits
    await answer(chat, "anna", "no")
    [offer] = [d.message for d in await chat.deliver_outbox() if d.ref.user_id == "bo"]
    assert [c.id for c in offer.choices] == ["take", "decline"]
    assert offer.attachment is not None
    assert (offer.attachment.content, offer.attachment.description) == (JPEG, ALT)
    await chat.tap("bo", "take")
    invitation = await invitation_for(chat, "bo")
    assert invitation.attachment is not None  # the broadcast's, as before
