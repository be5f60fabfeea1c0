"""End to end on Telegram (the project's fake Bot API): a photo sent to /snap is answered at
once and ends up as a file, fetched with getFile and the file download afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from storage.models import SnapFetch
from tests.snap_support import ready_to_send_snaps, wait_until_stored
from tests.telegram_fake_api import FakeBotAPI
from tests.telegram_support import RunningBot

TOKEN = "4242:FAKE-token-for-tests"
EVA = 4711
BIG = b"\xff\xd8\xff\xe0 the fire, large " + bytes(range(256)) * 8
SMALL = b"\xff\xd8\xff\xe0 the fire, a thumbnail"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()


def photo_update(fake: FakeBotAPI, user_id: int) -> dict[str, Any]:
    update = fake.message_update(user_id, "")
    message = update["message"]
    del message["text"]
    message["caption"] = "Bålet"
    message["photo"] = [
        {"file_id": "thumb-1", "file_unique_id": "t1", "width": 90, "height": 67,
         "file_size": len(SMALL)},
        {"file_id": "photo-1", "file_unique_id": "p1", "width": 1280, "height": 960,
         "file_size": len(BIG)},
    ]  # fmt: skip
    return update


async def test_a_photo_sent_to_snap_on_telegram_ends_up_as_a_file(
    fake: FakeBotAPI, database_url: str, tmp_path: Path
) -> None:
    fake.files.update({"photo-1": BIG, "thumb-1": SMALL})
    settings = Settings(
        database_url=database_url,
        media_path=tmp_path / "media",
        _env_file=None,  # type: ignore[call-arg]
    )
    running = RunningBot(settings, fake.url, TOKEN)
    await running.start()
    try:
        await ready_to_send_snaps(running.app, "telegram", str(EVA), str(EVA))
        fake.push_update(fake.message_update(EVA, "/snap"))
        await running.wait_handled(1)
        assert "Send photos or voice notes" in fake.sent_to(EVA, "sendMessage")[-1]["text"]

        fake.push_update(photo_update(fake, EVA))
        await running.wait_handled(2)
        assert "in the log for Bål i skoven" in fake.sent_to(EVA, "sendMessage")[-1]["text"]

        (snap,) = await wait_until_stored(running.app)
    finally:
        await running.stop()
    assert (snap.platform, snap.file_ref, snap.caption) == ("telegram", "photo-1", "Bålet")
    assert snap.fetch_state == SnapFetch.STORED
    assert snap.path is not None
    assert Path(snap.path).is_relative_to(tmp_path / "media")
    assert await asyncio.to_thread(Path(snap.path).read_bytes) == BIG
    assert snap.size == len(BIG)
    # the download came after the answer, through the Bot API's two steps
    assert fake.requests.count("getFile") == 1
    answered = max(i for i, m in enumerate(fake.requests) if m == "sendMessage")
    assert fake.requests.index("getFile") > answered
