"""deploy/proxy/: Debian's nginx in front of two real bot processes (webhook mode) on one
PostgreSQL. Every update posted to the proxy is handled once, by either process, and a
process killed with SIGKILL costs nothing: the proxy posts to the other one.

nginx is Debian's package, unpacked by `make proxy-nginx` (run here when it is missing).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from benchmarks.scale_out import SECRET_HEADERS, bot_process_env, free_port
from storage.clock import FrozenClock
from storage.models import InboxUpdate, OutboxMessage
from tests.conftest import _empty_all_tables
from tests.fault_transport import Database
from tests.telegram_fake_api import FakeBotAPI

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "proxy" / "taelmigmed-webhook.conf"
NGINX = ROOT / ".cache" / "nginx" / "usr" / "sbin" / "nginx"


def nginx_binary() -> Path:
    if not NGINX.exists():
        made = subprocess.run(
            ["make", "--no-print-directory", "proxy-nginx"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0 or not NGINX.exists():
            raise RuntimeError(f"could not get Debian's nginx (make proxy-nginx):\n{made.stderr}")
    return NGINX


def render(folder: Path, listen: int, ports: list[int]) -> Path:
    """The repository's configuration, with this test's ports, in a minimal main file."""
    site = CONFIG.read_text(encoding="utf-8")
    servers = "\n".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports
    )
    upstreams = r"(?m)^    server 127\.0\.0\.1:\d+ .*\n(?:    server .*\n)*"
    site = re.sub(upstreams, servers + "\n", site)
    site = site.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{listen};")
    (folder / "site.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    main = folder / "nginx.conf"
    main.write_text(
        f"""
worker_processes 1;
daemon off;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 128; }}
http {{
    access_log off;
{temp}
    uwsgi_temp_path {folder / "uwsgi"};
    scgi_temp_path {folder / "scgi"};
    include {folder / "site.conf"};
}}
""",
        encoding="utf-8",
    )
    return main


@pytest.fixture
async def database(postgres_url: str, clock: FrozenClock) -> AsyncIterator[Database]:
    await asyncio.to_thread(asyncio.run, _empty_all_tables(postgres_url))
    db = Database(postgres_url, clock)
    try:
        yield db
    finally:
        await db.close()


async def post_all(proxy: str, fake: FakeBotAPI, users: range, first_id: int) -> list[int]:
    async with httpx.AsyncClient(timeout=30, headers=SECRET_HEADERS) as client:
        statuses = []
        for n, user in enumerate(users):
            update = fake.message_update(user, "/help")
            update["update_id"] = first_id + n
            response = await client.post(f"{proxy}/telegram", json=update)
            statuses.append(response.status_code)
    return statuses


async def handled(db: Database) -> int:
    async with db.uow() as work:
        count = await work.session.scalar(
            select(func.count(InboxUpdate.id)).where(InboxUpdate.handled_at.is_not(None))
        )
    return int(count or 0)


async def until(condition: object, what: str, limit: float = 60) -> None:
    """A guard against a hang, not a speed check."""
    deadline = time.monotonic() + limit
    while not await condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        await asyncio.sleep(0.05)


async def test_two_processes_behind_nginx_one_killed(
    postgres_url: str, database: Database, tmp_path: Path
) -> None:
    binary = nginx_binary()
    fake = FakeBotAPI()
    api = await fake.start()
    listen, ports = free_port(), [free_port(), free_port()]
    main = render(tmp_path, listen, ports)
    proxy = f"http://127.0.0.1:{listen}"
    nginx = await asyncio.create_subprocess_exec(
        str(binary), "-p", str(tmp_path), "-c", str(main), stderr=asyncio.subprocess.PIPE
    )
    bots: list[asyncio.subprocess.Process] = []
    try:
        for port in ports:
            env = bot_process_env(postgres_url, api, port, 30)
            env["TMM_TELEGRAM_WEBHOOK_URL"] = f"{proxy}/telegram"
            bots.append(
                await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", cwd=ROOT, env=env
                )
            )

        async def webhooks_set() -> bool:
            assert all(b.returncode is None for b in bots), "a bot process ended"
            assert nginx.returncode is None, "nginx ended"
            return fake.requests.count("setWebhook") == 2

        await until(webhooks_set, "both processes set the webhook")
        assert {str(p.get("url")) for m, p in fake.sent if m == "setWebhook"} == {
            f"{proxy}/telegram"
        }

        assert await post_all(proxy, fake, range(1000, 1020), 1) == [200] * 20

        async def first_answered() -> bool:
            return await handled(database) == 20 and len(fake.sent_messages()) >= 20

        # (killed with a reply on its way, that one would be in doubt: not what this checks)
        await until(first_answered, "the first 20 updates handled and answered")
        bots[0].send_signal(signal.SIGKILL)
        await bots[0].wait()

        assert await post_all(proxy, fake, range(2000, 2020), 100) == [200] * 20

        async def all_handled() -> bool:
            return await handled(database) == 40 and len(fake.sent_messages()) >= 40

        await until(all_handled, "the next 20 handled by the survivor")
        await asyncio.sleep(0.5)  # anything sent twice would show by now
    finally:
        for bot in bots:
            with contextlib.suppress(ProcessLookupError):
                bot.send_signal(signal.SIGTERM)
        for bot in bots:
            await bot.wait()
        with contextlib.suppress(ProcessLookupError):
            nginx.send_signal(signal.SIGQUIT)
        await nginx.wait()
        await fake.stop()

    replies = Counter(str(p.get("chat_id")) for _, p in fake.sent_messages())
    users = {str(u) for u in [*range(1000, 1020), *range(2000, 2020)]}
    assert set(replies) == users  # everyone answered, through whichever process
    assert len(set(replies.values())) == 1  # and nobody twice
    async with database.uow() as work:
        owners = await work.session.scalars(select(OutboxMessage.owner).distinct())
        assert len({o for o in owners if o}) == 2  # both processes answered people
