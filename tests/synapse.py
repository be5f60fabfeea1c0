"""A throwaway Synapse homeserver for end-to-end tests, on 127.0.0.1 in a temporary folder.

Reusable by later features (invitations, reminders, feedback): start one `Synapse`, then
`register("anna")` people and drive them with nio clients (see `tests/matrix_people.py`).
If the server does not come up, `start()` raises with the tail of its log, so the tests
fail loudly instead of being skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import signedjson.key

SERVER_NAME = "localhost"
START_TIMEOUT_SECONDS = 90.0

_RELAXED = {"per_second": 1000, "burst_count": 1000}

_LOG_CONFIG = """\
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: {log_file}
root:
  level: WARNING
  handlers: [file]
loggers:
  synapse.storage.SQL:
    level: WARNING
disable_existing_loggers: false
"""


class SynapseFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class RegisteredUser:
    user_id: str
    access_token: str
    device_id: str
    password: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, port: int, shared_secret: str) -> Path:
    """A minimal homeserver.yaml: SQLite, one client listener, no federation, lax limits."""
    folder.mkdir(parents=True, exist_ok=True)
    key_path = folder / f"{SERVER_NAME}.signing.key"
    with key_path.open("w") as handle:
        signedjson.key.write_signing_keys(handle, [signedjson.key.generate_signing_key("a_test")])
    log_config = folder / "log.yaml"
    log_config.write_text(_LOG_CONFIG.format(log_file=folder / "homeserver.log"))
    config: dict[str, Any] = {
        "server_name": SERVER_NAME,
        "pid_file": str(folder / "homeserver.pid"),
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(folder / "homeserver.db")}},
        "log_config": str(log_config),
        "media_store_path": str(folder / "media"),
        "signing_key_path": str(key_path),
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "enable_registration": False,
        "bcrypt_rounds": 4,
        "federation_domain_whitelist": [],
        "url_preview_enabled": False,
        "dynamic_thumbnails": False,
        "enable_metrics": False,
        "presence": {"enabled": False},
        "rc_message": _RELAXED,
        "rc_registration": _RELAXED,
        "rc_login": {
            "address": _RELAXED,
            "account": _RELAXED,
            "failed_attempts": _RELAXED,
        },
        "rc_joins": {"local": _RELAXED, "remote": _RELAXED},
        "rc_joins_per_room": _RELAXED,
        "rc_invites": {"per_room": _RELAXED, "per_user": _RELAXED, "per_issuer": _RELAXED},
        "rc_admin_redaction": _RELAXED,
        "rc_3pid_validation": _RELAXED,
        "rc_key_requests": _RELAXED,
        "rc_room_creation": _RELAXED,
        "rc_media_create": _RELAXED,
    }
    path = folder / "homeserver.yaml"
    # JSON is valid YAML, so no YAML writer is needed.
    path.write_text(json.dumps(config, indent=2))
    return path


class Synapse:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.shared_secret = secrets.token_hex(16)
        self.config_path = write_config(folder, self.port, self.shared_secret)
        self._process: subprocess.Popen[bytes] | None = None
        self._stdout = folder / "stdout.log"
        self._users: dict[str, RegisteredUser] = {}

    def start(self) -> None:
        env = {**os.environ, "SYNAPSE_NO_TLS": "1"}
        with self._stdout.open("wb") as out:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
                cwd=self.folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SynapseFailed(f"Synapse exited with {self._process.returncode}\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise SynapseFailed(f"Synapse did not answer in {START_TIMEOUT_SECONDS}s\n{self.log()}")

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def log(self, tail: int = 60) -> str:
        parts = []
        for path in (self._stdout, self.folder / "homeserver.log"):
            with contextlib.suppress(OSError):
                lines = path.read_text(errors="replace").splitlines()[-tail:]
                parts.append(f"--- {path.name} ---\n" + "\n".join(lines))
        return "\n".join(parts)

    # -- the admin API ---------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return dict(json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            raise SynapseFailed(f"{method} {path}: {exc.code} {exc.read()!r}") from exc

    def register(self, localpart: str, *, admin: bool = False) -> RegisteredUser:
        """A user made through the shared-secret admin API; the same one when asked again."""
        if localpart in self._users:
            return self._users[localpart]
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        password = secrets.token_urlsafe(12)
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode()]))
        mac.update(b"\x00admin" if admin else b"\x00notadmin")
        result = self._request(
            "POST",
            "/_synapse/admin/v1/register",
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        user = RegisteredUser(
            result["user_id"], result["access_token"], result["device_id"], password
        )
        self._users[localpart] = user
        return user

    def override_ratelimit(
        self,
        admin: RegisteredUser,
        user_id: str,
        *,
        messages_per_second: int = 0,
        burst_count: int = 0,
    ) -> None:
        """What an admin does for the bot account (see the Matrix notes): by default
        exempt from the limits; with numbers, limited to them."""
        self._request(
            "POST",
            f"/_synapse/admin/v1/users/{urllib.request.quote(user_id)}/override_ratelimit",
            {"messages_per_second": messages_per_second, "burst_count": burst_count},
            token=admin.access_token,
        )

    def remove_ratelimit_override(self, admin: RegisteredUser, user_id: str) -> None:
        """The account back under the homeserver's own limits (`rc_message`)."""
        self._request(
            "DELETE",
            f"/_synapse/admin/v1/users/{urllib.request.quote(user_id)}/override_ratelimit",
            token=admin.access_token,
        )

    def limit_messages(self, per_second: float, burst_count: int) -> None:
        """`rc_message` for every account without an override; before `start`."""
        config = json.loads(self.config_path.read_text())
        config["rc_message"] = {"per_second": per_second, "burst_count": burst_count}
        self.config_path.write_text(json.dumps(config, indent=2))

    def room_events(self, room_id: str, token: str) -> list[dict[str, Any]]:
        """Every event of a room as the homeserver keeps it (newest first), as one of its
        members reads it; not what a client happened to see."""
        events: list[dict[str, Any]] = []
        path = f"/_matrix/client/v3/rooms/{urllib.request.quote(room_id)}/messages?dir=b&limit=500"
        page = self._request("GET", path, token=token)
        events.extend(page.get("chunk", []))
        while page.get("end") and page.get("chunk"):
            more = f"{path}&from={urllib.request.quote(str(page['end']))}"
            page = self._request("GET", more, token=token)
            events.extend(page.get("chunk", []))
        return events
