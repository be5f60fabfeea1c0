"""The fake Bot API as a process of its own, for a bot started by hand against it.

    python -m tests.fake_api_server [--port 8081] [--latency-ms 50 150] [--seed 1]
        [--flood 30] [--arrivals arrivals.jsonl] [--realtime]

Prints its URL (the bot's `TMM_TELEGRAM_API_BASE_URL`); every message that arrives is
appended to `--arrivals` as a JSON line (chat, method, text, monotonic time) as it arrives,
so what reached the platform is known even if the bot is killed. `POST /_control/update`
with an update's JSON hands it to the bot's next getUpdates; `GET /_control/wire` answers
with every arrival (`[time, method, text]` per chat) and every refusal (times per chat), and
`GET /_control/arrived` with how many messages have arrived, `GET /_control/requests` with
how many requests came of each method, `GET /_control/chats` with the chats that got any.

`--realtime` runs it under the kernel's round-robin real-time policy where allowed (root):
Telegram's flood control runs on Telegram's machines, not on the cores the bot shares, and a
fake that waits for a core stamps arrivals late and in bunches, refusing what Telegram would
take. Its first line then says `realtime` after the URL (`shared` when not allowed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fake_api_wire import Arrival, FloodControl
from tests.telegram_fake_api import FakeBotAPI

REALTIME_PRIORITY = 10  # of 1-99: above every ordinary process, below the kernel's own


def scheduling() -> str:
    """Asks for real-time scheduling; says which this process got."""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(REALTIME_PRIORITY))
    except (PermissionError, AttributeError, OSError):
        return "shared"
    return "realtime"


async def serve(args: argparse.Namespace) -> None:
    latency = (args.latency_ms[0] / 1000, args.latency_ms[1] / 1000) if args.latency_ms else None
    flood = FloodControl(per_second=args.flood) if args.flood else None
    fake = FakeBotAPI(flood=flood, latency=latency, seed=args.seed)
    if args.arrivals:
        out = Path(args.arrivals).open("a", encoding="utf-8")  # noqa: SIM115, ASYNC230 - at start, for good

        def write(chat_id: str, arrival: Arrival) -> None:
            record = {"chat": chat_id, "method": arrival.method, "text": arrival.text}
            out.write(json.dumps({**record, "at": arrival.at}) + "\n")
            out.flush()

        fake.on_arrival.append(write)
    control = web.Application()

    async def push(request: web.Request) -> web.Response:
        update: dict[str, Any] = await request.json()
        return web.json_response({"update_id": fake.push_update(update)})

    async def wire(request: web.Request) -> web.Response:
        arrived = {
            chat: [[a.at, a.method, a.text] for a in items]
            for chat, items in fake.wire.arrived.items()
        }
        return web.json_response({"arrived": arrived, "refused": fake.wire.refused})

    async def count(request: web.Request) -> web.Response:
        return web.json_response(sum(len(items) for items in fake.wire.arrived.values()))

    async def requests(request: web.Request) -> web.Response:
        return web.json_response(Counter(fake.requests))

    async def chats(request: web.Request) -> web.Response:
        return web.json_response([chat for chat, items in fake.wire.arrived.items() if items])

    control.router.add_post("/update", push)
    control.router.add_get("/requests", requests)
    control.router.add_get("/chats", chats)
    control.router.add_get("/wire", wire)
    control.router.add_get("/arrived", count)
    url = await fake.start(port=args.port, extra={"/_control/": control})
    print(f"{url} {scheduling()}" if args.realtime else url, flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_api_server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, nargs=2, metavar=("LOW", "HIGH"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--flood", type=int, default=0, help="messages a second overall")
    parser.add_argument("--arrivals", help="a JSON-lines file of what arrived")
    parser.add_argument("--realtime", action="store_true", help="real-time scheduling (root)")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
