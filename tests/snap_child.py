"""The bot in a process of its own, keeping one photo and starting to fetch its file, for
the test that kills it with SIGKILL between the two.

    python -m tests.snap_child <database url> <media folder> <log file>

Its one transport hands the bot a photo from eva (who is at /snap). Every reply it sends,
and the start of the download, are appended to the log file (flushed and synced before
going on), so the parent knows the snap was kept and answered, and that its download had
begun, when it kills this process. The download never finishes.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from pathlib import Path

from bot.app import BotApp
from bot.settings import Settings
from bot.transports.base import Dispatch
from conversations.core.messages import (
    ChatRef,
    ChoiceEcho,
    Inbound,
    Media,
    MediaKind,
    OutMessage,
    Sent,
)

EVA = ChatRef("fake", "chat-eva", "eva")
PHOTO = Media(MediaKind.PHOTO, "photo-file-1", "image/jpeg", 120_000, "Bålet")


class PhotoOnce:
    platform = "fake"

    def __init__(self, log: str) -> None:
        self._log = open(log, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as we do
        self._ids = itertools.count(1)

    def _note(self, line: str) -> None:
        self._log.write(line + "\n")
        self._log.flush()
        os.fsync(self._log.fileno())

    async def run(self, dispatch: Dispatch) -> None:
        await dispatch(Inbound(EVA, "photo-update-1", media=PHOTO))
        await asyncio.Event().wait()  # until killed

    async def stop(self) -> None:
        return None

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        self._note(f"reply to {ref.user_id}: {message.text}")
        return Sent(str(next(self._ids)))

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        return None

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        return None

    async def fetch(self, file_ref: str) -> bytes:
        self._note(f"fetching {file_ref}")
        await asyncio.Event().wait()  # a download that is still on its way when we die
        raise AssertionError("unreachable")


async def main(url: str, media: str, log: str) -> None:
    settings = Settings(database_url=url, media_path=Path(media), _env_file=None)  # type: ignore[call-arg]
    await BotApp(settings, [PhotoOnce(log)]).run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
