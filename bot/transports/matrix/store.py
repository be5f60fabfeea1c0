"""What the bot keeps in its store folder beside nio's crypto store: the login (so a restart
is the same device) and the sync position (so a restart neither skips nor repeats).

The folder holds the bot's login and its encryption keys, so it is the owner's alone:
the folder 0700 and every file in it 0600, including the ones nio makes itself."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

STORE_FOLDER_MODE = 0o700
STORE_FILE_MODE = 0o600


def keep_private(folder: Path) -> None:
    """Create the store folder for the owner only, and close what is already in it (a
    store from before, nio's database and its journal files)."""
    folder.mkdir(mode=STORE_FOLDER_MODE, parents=True, exist_ok=True)
    folder.chmod(STORE_FOLDER_MODE)
    for path in folder.rglob("*"):
        path.chmod(STORE_FOLDER_MODE if path.is_dir() else STORE_FILE_MODE)


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, STORE_FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    tmp.replace(path)


@dataclass
class Credentials:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str

    @classmethod
    def load(cls, path: Path) -> Credentials | None:
        try:
            data = json.loads(path.read_text())
            return cls(
                str(data["homeserver"]),
                str(data["user_id"]),
                str(data["device_id"]),
                str(data["access_token"]),
            )
        except (OSError, ValueError, KeyError):
            return None

    def save(self, path: Path) -> None:
        """Readable by the owner only: the token is the bot's login."""
        _write_private(path, json.dumps(self.__dict__))


class SyncToken:
    """The `next_batch` of the last sync whose events were all handled."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> str | None:
        try:
            token = self._path.read_text().strip()
        except OSError:
            return None
        return token or None

    def save(self, token: str) -> None:
        _write_private(self._path, token)
