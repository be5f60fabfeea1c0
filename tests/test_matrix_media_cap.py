"""A Matrix download stops at the size limit: a large file is never read whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp import web

from bot.transports.matrix import MatrixConfig, MatrixTransport
from conversations.core.media import TooLarge
from conversations.core.messages import Media, MediaKind
from storage.models import SnapFetch
from tests.fakes import Chat
from tests.snap_support import CountingFetcher, ready_to_send_snaps, snaps
from tests.test_feedback import fetch_with

CHUNK = 64 * 1024
LIMIT = 256 * 1024
HUGE = 64 * 1024 * 1024  # far beyond what socket buffers can hold


@dataclass
class Served:
    url: str
    written: int = 0
    finished: bool = False
    authorization: str = ""


@pytest.fixture
async def homeserver() -> AsyncIterator[Served]:
    """A content repository that streams files of the size the media id says, in chunks,
    without announcing it (`chunked_…`) or announcing it (`declared_…`)."""
    served = Served(url="")

    async def download(request: web.Request) -> web.StreamResponse:
        served.authorization = request.headers.get("Authorization", "")
        name = request.match_info["media_id"]
        size = int(name.split("_")[1])
        response = web.StreamResponse()
        if name.startswith("declared"):
            response.content_length = size
        await response.prepare(request)
        sent = 0
        while sent < size:
            piece = min(CHUNK, size - sent)
            await response.write(b"x" * piece)
            sent += piece
            served.written = sent
        served.finished = True
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/_matrix/client/v1/media/download/{server}/{media_id}", download)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    served.url = f"http://127.0.0.1:{port}"
    try:
        yield served
    finally:
        await runner.cleanup()


def transport(homeserver: Served, tmp_path: Path) -> MatrixTransport:
    config = MatrixConfig(
        homeserver.url,
        "@bot:x",
        tmp_path / "store",
        access_token="the-token",
        device_id="DEVICE",
        max_download_bytes=LIMIT,
    )
    matrix = MatrixTransport(config)
    matrix.client.access_token = "the-token"
    return matrix


async def test_a_file_within_the_limit_is_read_whole(homeserver: Served, tmp_path: Path) -> None:
    matrix = transport(homeserver, tmp_path)
    content = await matrix.fetch(f"mxc://x/chunked_{LIMIT}")
    assert content == b"x" * LIMIT
    assert homeserver.authorization == "Bearer the-token"
    await matrix.client.close()


async def test_a_file_past_the_limit_is_stopped_while_it_streams(
    homeserver: Served, tmp_path: Path
) -> None:
    matrix = transport(homeserver, tmp_path)
    with pytest.raises(TooLarge) as refused:
        await matrix.fetch(f"mxc://x/chunked_{HUGE}")
    assert refused.value.limit == LIMIT
    assert not homeserver.finished
    assert homeserver.written < HUGE // 4
    await matrix.client.close()


async def test_a_declared_size_past_the_limit_is_refused_before_reading(
    homeserver: Served, tmp_path: Path
) -> None:
    matrix = transport(homeserver, tmp_path)
    with pytest.raises(TooLarge):
        await matrix.fetch(f"mxc://x/declared_{HUGE}")
    assert not homeserver.finished
    await matrix.client.close()


async def test_a_download_stopped_at_the_limit_is_refused_with_a_word(
    chat: Chat, tmp_path: Path
) -> None:
    limit = 1024 * 1024
    fetcher = CountingFetcher(error=TooLarge(limit))
    fetch_with(chat, fetcher, tmp_path / "media")
    await ready_to_send_snaps(chat.app, "fake", "eva", "chat-eva")
    await chat.say("eva", "/snap")
    files = chat.app.snap_files
    files.options = replace(files.options, max_snap_bytes=limit)
    await chat.send_media("eva", Media(MediaKind.PHOTO, "photo-file-1", "image/jpeg", None))
    await files.drain()
    (snap,) = await snaps(chat.app)
    assert snap.fetch_state == SnapFetch.TOO_LARGE
    (delivered,) = await chat.deliver_outbox()
    assert "too large to keep: I can keep up to 1 MB" in delivered.message.text
    assert list((tmp_path / "media").rglob("*.*")) == []
