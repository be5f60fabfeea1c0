"""The optional HTTP listener for operators (`TMM_HTTP_PORT`): `GET /healthz` says whether
the bot is well (200) or not (503), as JSON; `GET /metrics` is for Prometheus.

Healthy means: the database answers, and every transport is connected. The outbox backlog
and the event jobs' last run are reported beside, for a person or a dashboard to judge.
It listens on 127.0.0.1 unless told otherwise: it is for the operator, not the internet.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import OUTBOX_ROWS, REGISTRY, SCHEDULER_LAST_RUN
from storage.repositories.health import WAITING
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

DATABASE_PATIENCE_SECONDS = 5.0
Connected = Callable[[], Mapping[str, bool]]


class HealthServer:
    def __init__(
        self, uow: UnitOfWorkFactory, connected: Connected, *, listen: str, port: int
    ) -> None:
        self._uow = uow
        self._connected = connected
        self._listen = listen
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port = port  # the real one once started (0 asks for a free port)

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.application(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._listen, self._port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or ()
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("health and metrics on http://%s:%s/healthz", self._listen, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _outbox(self) -> dict[tuple[str, str], int] | None:
        try:
            async with asyncio.timeout(DATABASE_PATIENCE_SECONDS), self._uow() as uow:
                await uow.health.ping()
                return await uow.health.outbox_by_status()
        except Exception as exc:  # the answer is "not healthy", never an error page
            log.warning("health: the database did not answer: %s", type(exc).__name__)
            return None

    async def _healthz(self, request: web.Request) -> web.Response:
        outbox = await self._outbox()
        transports = dict(self._connected())
        last_run = SCHEDULER_LAST_RUN._value.get()
        body: dict[str, Any] = {
            "database": outbox is not None,
            "transports": transports,
            "outbox_waiting": (
                sum(count for (status, _), count in outbox.items() if status in WAITING)
                if outbox is not None
                else None
            ),
            "scheduler_last_run_seconds_ago": (
                round(time.time() - last_run, 1) if last_run else None
            ),
        }
        healthy = outbox is not None and all(transports.values())
        body["healthy"] = healthy
        return web.json_response(body, status=200 if healthy else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        outbox = await self._outbox()
        if outbox is not None:
            OUTBOX_ROWS.clear()
            for (status, platform), count in outbox.items():
                OUTBOX_ROWS.labels(status=status, platform=platform).set(count)
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
