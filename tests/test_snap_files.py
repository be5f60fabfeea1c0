"""Photos' files are fetched after the step that kept them has committed (bot/snap_files.py).

One slow download holds up nobody else's reply, a file that turns out too large is refused
with a word to the person, failures are kept and retried a bounded number of times, /forget
during a download leaves no file, and a crash between the commit and the fetch leaves the
snap waiting for the next start. Ordering is asserted, never timings.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.snap_files import SnapFilePolicy
from bot.transports.base import RetryLater
from conversations.core.messages import Media, MediaKind, OutMessage
from storage.clock import FrozenClock
from storage.models import OutboxMessage, Snap, SnapFetch
from tests.fakes import Chat
from tests.snap_support import (
    DEADLINE,
    CountingFetcher,
    SlowFetcher,
    gone,
    ready_to_send_snaps,
    snaps,
    wait_for,
    wait_until_stored,
)
from tests.test_feedback import feedback_flow, fetch_with, rows

PHOTO = Media(MediaKind.PHOTO, "photo-file-1", "image/jpeg", 120_000, "Bålet")
VOICE = Media(MediaKind.VOICE, "voice-file-1", "audio/ogg", 40_000)
OTHERS = [f"person{n}" for n in range(10)]


async def snap_notices(chat: Chat) -> list[OutboxMessage]:
    """Words about snaps waiting in the outbox (not the replies of the steps)."""
    return [row for row in await rows(chat, OutboxMessage) if row.kind == "snap"]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


async def open_snap_log(chat: Chat, tmp_path: Path, fetcher: object, user: str = "eva") -> Path:
    """`user` at /snap, their files fetched by `fetcher`; returns the media folder."""
    media = tmp_path / "media"
    fetch_with(chat, fetcher, media)
    await ready_to_send_snaps(chat.app, "fake", user, f"chat-{user}")
    replies = await chat.say(user, "/snap")
    assert [c.id for c in replies[-1].choices] == ["done"]
    return media


# -- nobody waits for a download --------------------------------------------------------------


async def test_a_slow_download_holds_up_nobody_elses_reply(
    backend_chat: Chat, tmp_path: Path
) -> None:
    """Ten people's /help while one photo's download takes its time (8 s, or until the
    test lets it finish): all ten are answered before it ends. Were the download inside
    the photo's unit of work, on SQLite they would wait for it, as they once did."""
    chat = backend_chat
    for user in OTHERS:
        await chat.onboard(user, name=user.capitalize())
    fetcher = SlowFetcher(seconds=8.0)
    media = await open_snap_log(chat, tmp_path, fetcher)
    chat.app.snap_files.start()

    async def send_photo() -> list[OutMessage]:
        replies = await chat.send_media("eva", PHOTO)
        fetcher.events.append("photo answered")
        return replies

    async def ask_for_help(user: str) -> None:
        replies = await chat.say(user, "/help")
        assert replies, f"{user} got no answer"
        fetcher.events.append(f"answered {user}")

    photo = asyncio.create_task(send_photo())
    await asyncio.wait_for(fetcher.started.wait(), DEADLINE)
    await asyncio.wait_for(asyncio.gather(*(ask_for_help(user) for user in OTHERS)), DEADLINE)
    fetcher.release.set()
    replies = await asyncio.wait_for(photo, DEADLINE)
    assert "in the log" in replies[-1].text
    (snap,) = await wait_until_stored(chat.app)

    # The photo was answered before its download began, and all ten while it went on.
    assert fetcher.events[:2] == ["photo answered", "fetch started"]
    assert sorted(fetcher.events[2:-1]) == sorted(f"answered {user}" for user in OTHERS)
    assert fetcher.events[-1] == "fetch finished"
    assert fetcher.calls == ["photo-file-1"]
    assert snap.path is not None
    assert await asyncio.to_thread(Path(snap.path).read_bytes) == fetcher.content
    assert Path(snap.path).is_relative_to(media)


async def test_the_update_that_kept_a_snap_wakes_the_worker(
    backend_chat: Chat, tmp_path: Path
) -> None:
    """No poll needed: the photo sent to /snap, and the one kept when the person answers
    the photo question in journey feedback, are both fetched at once."""
    chat = backend_chat
    fetcher = CountingFetcher()
    chat.app.snap_files.policy = SnapFilePolicy(poll_seconds=3600)
    await open_snap_log(chat, tmp_path, fetcher)
    chat.app.snap_files.start()
    await asyncio.sleep(0)  # its first look finds nothing
    await chat.send_media("eva", PHOTO)
    await wait_until_stored(chat.app, 1)

    event = await ready_to_send_snaps(chat.app, "fake", "bo", "chat-bo", shares_snaps=None)
    await chat.say("bo", f"/start fb_{event.link_code}")
    await chat.tap("bo", "came")
    replies = await chat.send_media("bo", replace(PHOTO, file_ref="photo-of-bo"))
    assert [c.id for c in replies[-1].choices] == ["yes", "no"]  # asked once, photo waits
    await chat.tap("bo", "yes")
    stored = await wait_until_stored(chat.app, 2)
    assert [s.file_ref for s in stored] == ["photo-file-1", "photo-of-bo"]
    assert fetcher.calls == ["photo-file-1", "photo-of-bo"]


# -- what a download comes to -----------------------------------------------------------------


async def test_a_file_too_large_once_fetched_is_refused_with_a_word(
    backend_chat: Chat, tmp_path: Path
) -> None:
    chat = backend_chat
    limit = 1024 * 1024
    fetcher = CountingFetcher(content=b"x" * (limit + 1))
    media = await open_snap_log(chat, tmp_path, fetcher)
    feedback_flow(chat).options = replace(feedback_flow(chat).options, max_snap_bytes=limit)
    files = chat.app.snap_files
    files.options = replace(files.options, max_snap_bytes=limit)

    # the platform did not say how large it is: kept, and answered at once
    replies = await chat.send_media("eva", replace(PHOTO, size=None))
    assert "in the log" in replies[-1].text
    await files.drain()

    (snap,) = await snaps(chat.app)
    assert snap.fetch_state == SnapFetch.TOO_LARGE
    assert files_under(media) == []  # nothing of it stays on disk
    delivered = await chat.deliver_outbox()
    assert [d.ref.user_id for d in delivered] == ["eva"]
    assert delivered[0].message.text == (
        "The photo you sent for Bål i skoven was too large to keep: I can keep up to 1 MB. "
        "Could you send a smaller one?"
    )
    await files.drain()  # told once, never fetched again
    assert fetcher.calls == ["photo-file-1"]
    assert len(await snap_notices(chat)) == 1


async def test_a_too_large_file_is_told_in_the_persons_language(chat: Chat, tmp_path: Path) -> None:
    fetcher = CountingFetcher(content=b"x" * (1024 * 1024 + 1))
    fetch_with(chat, fetcher, tmp_path / "media")
    await ready_to_send_snaps(chat.app, "fake", "eva", "chat-eva", language="da")
    await chat.say("eva", "/snap")
    files = chat.app.snap_files
    files.options = replace(files.options, max_snap_bytes=1024 * 1024)
    await chat.send_media("eva", replace(VOICE, size=None))
    await files.drain()
    (delivered,) = await chat.deliver_outbox()
    assert delivered.message.text.startswith("Stemmebeskeden, du sendte til Bål i skoven,")


async def test_a_failed_fetch_is_kept_and_tried_again_a_bounded_number_of_times(
    backend_chat: Chat, clock: FrozenClock, tmp_path: Path
) -> None:
    chat = backend_chat
    fetcher = CountingFetcher(error=ConnectionError("the platform is away"))
    media = await open_snap_log(chat, tmp_path, fetcher)
    files = chat.app.snap_files
    files.policy = SnapFilePolicy(max_attempts=3, first_retry=30)
    await chat.send_media("eva", PHOTO)

    await files.drain()
    (snap,) = await snaps(chat.app)
    assert (snap.fetch_state, snap.fetch_attempts) == (SnapFetch.WAITING, 1)
    assert snap.fetch_error is not None
    assert "the platform is away" in snap.fetch_error
    assert snap.fetch_after == clock.now() + timedelta(seconds=30)
    await files.drain()  # not due yet
    assert len(fetcher.calls) == 1

    clock.advance(timedelta(seconds=30))
    await files.drain()
    (snap,) = await snaps(chat.app)
    assert (snap.fetch_state, snap.fetch_attempts) == (SnapFetch.WAITING, 2)
    assert snap.fetch_after == clock.now() + timedelta(seconds=60)  # a longer pause

    clock.advance(timedelta(seconds=60))
    await files.drain()
    clock.advance(timedelta(days=1))
    await files.drain()
    (snap,) = await snaps(chat.app)
    assert (snap.fetch_state, snap.fetch_attempts) == (SnapFetch.FAILED, 3)
    assert len(fetcher.calls) == 3  # and no more
    assert files.stats.outcomes == {"retry": 2, "failed": 1}
    assert files_under(media) == []
    assert await snap_notices(chat) == []  # a reference is kept; nothing to tell


async def test_a_platform_asking_to_wait_is_waited_for(
    chat: Chat, clock: FrozenClock, tmp_path: Path
) -> None:
    fetcher = CountingFetcher(error=RetryLater(120))
    await open_snap_log(chat, tmp_path, fetcher)
    await chat.send_media("eva", PHOTO)
    await chat.app.snap_files.drain()
    (snap,) = await snaps(chat.app)
    assert snap.fetch_after == clock.now() + timedelta(seconds=120)


async def test_a_file_the_platform_no_longer_has_is_not_tried_again(
    backend_chat: Chat, clock: FrozenClock, tmp_path: Path
) -> None:
    chat = backend_chat
    fetcher = CountingFetcher(error=gone())
    await open_snap_log(chat, tmp_path, fetcher)
    await chat.send_media("eva", PHOTO)
    await chat.app.snap_files.drain()
    clock.advance(timedelta(days=1))
    await chat.app.snap_files.drain()
    (snap,) = await snaps(chat.app)
    assert snap.fetch_state == SnapFetch.GONE
    assert fetcher.calls == ["photo-file-1"]


async def test_a_snap_kept_before_file_names_were_chosen_gets_one(
    chat: Chat, tmp_path: Path
) -> None:
    """Snaps the migration left waiting (kept without a file, and without a name)."""
    fetcher = CountingFetcher()
    media = await open_snap_log(chat, tmp_path, fetcher)
    await chat.send_media("eva", PHOTO)
    (kept,) = await snaps(chat.app)
    async with chat.app.uow() as uow:
        row = await uow.session.get(Snap, kept.id)
        assert row is not None
        row.path = None
        await uow.commit()
    files = chat.app.snap_files
    files.options = replace(files.options, media_path=media / "later")
    await files.drain()
    (stored,) = await snaps(chat.app)
    assert stored.fetch_state == SnapFetch.STORED
    assert stored.path is not None
    assert Path(stored.path).is_relative_to(media / "later" / f"event-{stored.event_id}")
    assert await asyncio.to_thread(Path(stored.path).read_bytes) == fetcher.content


# -- forgetting ---------------------------------------------------------------------------


async def test_forget_during_a_download_leaves_no_file(backend_chat: Chat, tmp_path: Path) -> None:
    chat = backend_chat
    fetcher = SlowFetcher(seconds=8.0)
    media = await open_snap_log(chat, tmp_path, fetcher)
    chat.app.snap_files.start()
    await chat.send_media("eva", PHOTO)
    await asyncio.wait_for(fetcher.started.wait(), DEADLINE)

    await chat.say("eva", "/forget")
    replies = await chat.tap("eva", "delete")
    assert "deleted everything" in replies[0].text
    assert await snaps(chat.app) == []  # the row goes at once, its file still on its way
    fetcher.release.set()

    async def settled() -> bool:
        return chat.app.snap_files.in_flight == 0

    await wait_for(settled, "the download to finish")
    assert fetcher.events[-1] == "fetch finished"
    assert files_under(media) == []


async def test_forget_removes_a_stored_file_and_a_waiting_snaps_row(
    backend_chat: Chat, tmp_path: Path
) -> None:
    chat = backend_chat
    fetcher = CountingFetcher()
    media = await open_snap_log(chat, tmp_path, fetcher)
    await chat.send_media("eva", PHOTO)
    await chat.app.snap_files.drain()
    fetcher.error = ConnectionError("away")
    await chat.send_media("eva", replace(PHOTO, file_ref="photo-file-2"))
    await chat.app.snap_files.drain()
    assert [s.fetch_state for s in await snaps(chat.app)] == ["stored", "waiting"]
    assert len(files_under(media)) == 1

    await chat.say("eva", "/forget")
    await chat.tap("eva", "delete")
    assert await snaps(chat.app) == []
    assert files_under(media) == []


# -- reading snaps whose file is not there yet ------------------------------------------------


async def test_report_and_mydata_while_a_file_is_on_its_way(chat: Chat, tmp_path: Path) -> None:
    fetcher = CountingFetcher()
    await chat.onboard("admin", name="Ada")  # an admin reads every event's report
    event = await ready_to_send_snaps(chat.app, "fake", "eva", "chat-eva")
    fetch_with(chat, fetcher, tmp_path / "media")
    await chat.say("eva", "/snap")
    await chat.send_media("eva", PHOTO)

    replies = await chat.say("eva", "/mydata")
    assert "Photos and voice notes you shared: 1" in replies[0].text
    assert replies[-1].attachment is not None
    assert b'"fetch_state": "waiting"' in replies[-1].attachment.content

    def photos(messages: list) -> list:  # type: ignore[type-arg]
        return [m for m in messages if m.attachment and m.attachment.mime_type == "image/jpeg"]

    await chat.say("admin", "/report")
    before = await chat.tap("admin", f"e{event.id}")
    assert "1 billede og 0 stemmebeskeder" in before[0].text  # one photo: the singular
    assert photos(before) == []  # counted, not attached: there is no file yet

    await chat.app.snap_files.drain()
    await chat.say("admin", "/report")
    after = await chat.tap("admin", f"e{event.id}")
    assert [m.attachment.content for m in photos(after)] == [fetcher.content]


# -- the worker itself --------------------------------------------------------------------


async def test_an_outcome_that_cannot_be_recorded_is_not_fetched_again_at_once(
    chat: Chat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that keeps failing must not turn into a download loop."""
    fetcher = CountingFetcher(error=gone())
    await open_snap_log(chat, tmp_path, fetcher)
    await chat.send_media("eva", PHOTO)
    files = chat.app.snap_files

    async def broken(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("the database said no")

    monkeypatch.setattr("storage.repositories.feedback.FeedbackRepository.snap_not_fetched", broken)
    await files.drain()
    await files.drain()
    assert fetcher.calls == ["photo-file-1"]
    (snap,) = await snaps(chat.app)
    assert snap.fetch_state == SnapFetch.WAITING  # kept, to be fetched again later


async def test_the_worker_stops_at_once_even_just_started(chat: Chat, tmp_path: Path) -> None:
    fetcher = SlowFetcher(seconds=8.0)
    await open_snap_log(chat, tmp_path, fetcher)
    files = chat.app.snap_files
    files.start()
    await asyncio.wait_for(files.stop(), DEADLINE)  # before its first look
    files.start()
    await chat.send_media("eva", PHOTO)
    await asyncio.wait_for(fetcher.started.wait(), DEADLINE)
    await asyncio.wait_for(files.stop(), DEADLINE)  # abandons the download on its way
    assert fetcher.events == ["fetch started"]
    (snap,) = await snaps(chat.app)
    assert (snap.fetch_state, snap.fetch_attempts) == (SnapFetch.WAITING, 0)
