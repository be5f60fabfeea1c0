"""A bot killed (SIGKILL) after keeping a photo and while its file was being fetched: the
person was answered, the snap waits, and the next start fetches it, once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from bot.app import BotApp
from bot.settings import Settings
from storage.models import SnapFetch
from tests.fakes import Chat, RecordingTransport
from tests.snap_support import DEADLINE, FetchingTransport, ready_to_send_snaps, snaps

ROOT = Path(__file__).resolve().parent.parent


def lines_of(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def is_file(path: str) -> bool:
    return Path(path).is_file()


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


async def _child_log_says(log: Path, line: str, child: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + DEADLINE
    while line not in lines_of(log):
        if child.returncode is not None:
            assert child.stderr is not None
            error = (await child.stderr.read())[-3000:]
            raise AssertionError(f"the child stopped early: {error!r}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the child never wrote {line!r}")
        await asyncio.sleep(0.02)


async def test_a_bot_killed_mid_download_leaves_the_snap_waiting_and_the_next_start_fetches_it(
    tmp_path: Path,
) -> None:
    media = tmp_path / "media"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        media_path=media,
        _env_file=None,  # type: ignore[call-arg]
    )
    # eva is at /snap, ready to send a photo (set up with the real clock the child uses)
    recording = RecordingTransport()
    setup = BotApp(settings, [recording])
    await setup.migrate()
    await ready_to_send_snaps(setup, "fake", "eva", "chat-eva")
    await Chat(setup, recording).say("eva", "/snap")
    await setup.close()

    log = tmp_path / "child.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.snap_child",
        settings.database_url,
        str(media),
        str(log),
        cwd=ROOT,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await _child_log_says(log, "fetching photo-file-1", child)
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL

    said = lines_of(log)
    assert said[-1] == "fetching photo-file-1"
    assert any("in the log for Bål i skoven" in line for line in said[:-1])  # answered first

    transport = FetchingTransport()
    restarted = BotApp(settings, [transport])
    (waiting,) = await snaps(restarted)
    assert (waiting.fetch_state, waiting.fetch_attempts) == (SnapFetch.WAITING, 0)
    assert waiting.path is not None
    assert not is_file(waiting.path)

    running = asyncio.create_task(restarted.run())
    try:
        deadline = time.monotonic() + DEADLINE
        while (await snaps(restarted))[0].fetch_state == SnapFetch.WAITING:
            assert not running.done(), "the restarted bot stopped"
            assert time.monotonic() < deadline, "the restarted bot never fetched the file"
            await asyncio.sleep(0.02)
        await restarted.snap_files.drain()  # nothing more is due
    finally:
        await restarted.stop()
        await asyncio.wait_for(running, DEADLINE)

    (stored,) = await snaps(restarted)
    assert stored.fetch_state == SnapFetch.STORED
    assert stored.path == waiting.path
    assert stored.path is not None
    assert files_under(media) == [Path(stored.path)]
    assert await asyncio.to_thread(Path(stored.path).read_bytes) == transport.fetcher.content
    assert transport.fetcher.calls == ["photo-file-1"]  # once
