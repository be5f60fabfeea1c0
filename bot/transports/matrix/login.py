"""Logging in once and staying the same device: a kept login is restored, a password login
happens only when there is none (or the kept one was revoked)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from aiohttp import ClientError
from nio import AsyncClient, LoginResponse

from bot.log_redaction import also_redact
from bot.settings import ConfigurationError
from bot.transports.matrix.config import MatrixConfig
from bot.transports.matrix.store import Credentials

log = logging.getLogger(__name__)


def reason(exc: BaseException) -> str:
    """What went wrong, in one short line (the exception's own words, else its kind)."""
    words = str(exc).strip().splitlines()
    return words[0] if words else type(exc).__name__


class Login:
    def __init__(self, client: AsyncClient, config: MatrixConfig, credentials_path: Path) -> None:
        self._client = client
        self._config = config
        self._credentials_path = credentials_path

    async def login(self, *, with_password: bool = False) -> None:
        """Restore the kept login, or log in once with the password and keep it."""
        config = self._config
        if self._client.access_token:
            return
        saved = None if with_password else Credentials.load(self._credentials_path)
        if saved is not None and saved.user_id != config.user_id:
            # Its keys, sync position and device are that account's: logging in beside
            # them would mix two accounts' encryption in one folder.
            raise ConfigurationError(
                f"Matrix: the store in {self._config.store_path} belongs to {saved.user_id}, "
                f"not to {config.user_id}; set TMM_MATRIX_STORE_PATH to this account's own "
                "store (an empty folder for a new one)"
            )
        if saved is not None:
            self._restore(saved)
            log.info("matrix: restored login of %s (device %s)", saved.user_id, saved.device_id)
            return
        if config.access_token and config.device_id and not with_password:
            credentials = Credentials(
                config.homeserver, config.user_id, config.device_id, config.access_token
            )
        else:
            if not config.password:
                raise ConfigurationError(
                    "Matrix: no saved login and no TMM_MATRIX_PASSWORD for the first login"
                )
            try:
                response = await self._client.login(config.password, device_name=config.device_name)
            except (ClientError, OSError, TimeoutError) as exc:
                raise ConfigurationError(
                    f"Matrix: cannot reach the homeserver at {config.homeserver} "
                    f"({reason(exc)}); check TMM_MATRIX_HOMESERVER and that the server is up"
                ) from None
            if not isinstance(response, LoginResponse):
                raise ConfigurationError(
                    f"Matrix: the homeserver refused to log in {config.user_id} "
                    f"({getattr(response, 'message', None) or response}); check "
                    "TMM_MATRIX_USER_ID and TMM_MATRIX_PASSWORD"
                )
            credentials = Credentials(
                config.homeserver, response.user_id, response.device_id, response.access_token
            )
            log.info("matrix: logged in as %s, new device %s", response.user_id, response.device_id)
        also_redact(credentials.access_token)
        credentials.save(self._credentials_path)
        if not self._client.access_token:
            self._restore(credentials)

    def _restore(self, credentials: Credentials) -> None:
        """Take up the kept login; this opens nio's encryption store."""
        also_redact(credentials.access_token)
        try:
            self._client.restore_login(
                credentials.user_id, credentials.device_id, credentials.access_token
            )
        except Exception:
            raise ConfigurationError(
                f"Matrix: the encryption store in {self._config.store_path} cannot be opened "
                "with this TMM_MATRIX_STORE_KEY; it was made with another passphrase (or "
                "without one). Start with the passphrase it was made with."
            ) from None

    async def again(self, refused: Any) -> None:
        """The kept token was revoked: log in with the password once more, or give up."""
        if not self._config.password:
            raise ConfigurationError(
                f"Matrix refused the bot's saved login ({refused}); set TMM_MATRIX_PASSWORD "
                "so it can log in again"
            )
        log.warning("matrix: the saved login was revoked; logging in again with the password")
        self._credentials_path.unlink(missing_ok=True)
        client = self._client
        client.access_token = ""
        client.store = None
        client.olm = None
        client.device_id = ""
        await self.login(with_password=True)
