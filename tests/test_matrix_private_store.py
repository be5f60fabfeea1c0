"""The Matrix store is the owner's alone: the folder 0700, every file 0600, nio's too."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.transports.matrix import MatrixConfig, MatrixTransport
from bot.transports.matrix.store import SyncToken


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_store_folder_and_its_files_are_private(tmp_path: Path) -> None:
    store = tmp_path / "store"
    transport = MatrixTransport(
        MatrixConfig(
            "http://127.0.0.1:1",
            "@bot:x",
            store,
            store_key="a long passphrase",
            access_token="token",
            device_id="DEVICE",
        )
    )
    await transport.login()  # no network: a kept token; nio makes its database now
    SyncToken(store / "next_batch").save("s1_2_3")
    await transport.client.close()
    assert mode(store) == 0o700
    files = [path for path in store.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"credentials.json", "next_batch"}
    assert any(path.suffix == ".db" for path in files), "nio's database is in the store"
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}


def test_a_store_left_open_before_is_closed_at_start(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o755)
    old = store / "bot_DEVICE.db"
    old.write_bytes(b"")
    old.chmod(0o644)
    MatrixTransport(MatrixConfig("http://127.0.0.1:1", "@bot:x", store))
    assert mode(store) == 0o700
    assert mode(old) == 0o600
