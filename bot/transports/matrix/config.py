"""How the Matrix transport is set up: the homeserver, the account, the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.settings import ConfigurationError, Settings


@dataclass(frozen=True)
class MatrixConfig:
    homeserver: str
    user_id: str
    store_path: Path
    password: str | None = None
    # Encrypts the Olm/Megolm keys nio keeps in store_path; without it nio uses a fixed,
    # public default and only the folder's permissions protect the keys.
    store_key: str | None = None
    device_name: str = "Tæl mig med"
    rooms: tuple[str, ...] = ()
    max_retries: int = 3
    sync_timeout_ms: int = 30_000
    timeline_limit: int | None = None
    # A token made elsewhere (an admin tool, a test): used instead of a password login.
    access_token: str | None = None
    device_id: str | None = None
    # Largest file people send that is downloaded (the snap limit); None reads any size.
    max_download_bytes: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MatrixConfig:
        assert settings.matrix_homeserver
        assert settings.matrix_user_id
        if not settings.matrix_homeserver.startswith(("https://", "http://")):
            raise ConfigurationError(
                f"TMM_MATRIX_HOMESERVER should be the homeserver's address with https://, "
                f"e.g. https://matrix.example.org (got {settings.matrix_homeserver!r})"
            )
        password = settings.matrix_password
        return cls(
            homeserver=settings.matrix_homeserver.rstrip("/"),
            user_id=settings.matrix_user_id,
            store_path=settings.matrix_store_path,
            password=password.get_secret_value() if password else None,
            store_key=(
                settings.matrix_store_key.get_secret_value() if settings.matrix_store_key else None
            ),
            device_name=settings.matrix_device_name,
            rooms=tuple(settings.matrix_rooms),
            max_retries=settings.matrix_max_retries,
            sync_timeout_ms=settings.matrix_sync_timeout_ms,
            max_download_bytes=settings.feedback_options().max_snap_bytes,
        )
