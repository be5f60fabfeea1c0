"""What the bot keeps in its store folder beside nio's crypto store: the login (so a restart
is the same device) and the sync position (so a restart neither skips nor repeats)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


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
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.__dict__, handle)
        tmp.replace(path)


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
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(token)
        tmp.replace(self._path)
