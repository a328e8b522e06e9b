"""The operations listener: health, readiness and metrics (roles come with later routes)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.api.auth import principal, public, requires
from gateway.api.formats import json_response
from gateway.audit.operators import record_trust_reload
from gateway.bus.base import Bus
from gateway.clock import Clock, system_clock
from gateway.errors import NotFound
from gateway.log import get_logger
from gateway.runtime.diskspace import FreeSpace
from gateway.runtime.lifecycle import Stopping
from gateway.store.db import Database
from gateway.trust.expiry import expiries
from gateway.trust.material import TrustMaterial, TrustReloadFailed

log = get_logger(__name__)
READY_TIMEOUT_S = 2.0


class OpsApi:
    def __init__(
        self,
        *,
        db: Database,
        bus: Bus,
        trust: TrustMaterial | None = None,
        disk: FreeSpace | None = None,
        clock: Clock = system_clock,
        stopping: Stopping | None = None,
    ) -> None:
        self._stopping = stopping or Stopping()
        self._disk = disk
        self._trust = trust
        self._clock = clock
        self._db = db
        self._bus = bus

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/healthz", self.healthz),
            web.get("/readyz", self.readyz),
            web.get("/metrics", self.metrics),
            web.get("/v1/ops/trust", self.trust),
            web.post("/v1/ops/trust/reload", self.reload_trust),
        ]

    @public
    async def healthz(self, request: web.Request) -> web.Response:
        return json_response({"status": "ok"})

    @public
    async def readyz(self, request: web.Request) -> web.Response:
        checks = {"store": self._db.ping(), "bus": self._bus.ping()}
        failing = []
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check, READY_TIMEOUT_S)
            except Exception as exc:
                log.warning("not_ready", component=name, error=str(exc) or type(exc).__name__)
                failing.append(name)
        reasons: dict[str, str] = {}
        if (stopping := self._stopping.reason) is not None:
            failing.append("stopping")
            reasons["stopping"] = stopping
        if self._disk is not None and (shortage := self._disk.shortage()) is not None:
            failing.append("disk")
            reasons["disk"] = shortage
        if failing:
            body = {"status": "unavailable", "failing": failing, "reasons": reasons}
            return json_response(body, status=503)
        return json_response({"status": "ready"})

    @public
    async def metrics(self, request: web.Request) -> web.Response:
        response = web.Response(body=generate_latest())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    @requires("operator")
    async def trust(self, request: web.Request) -> web.Response:
        """When each anchor, intermediate, pinned certificate and CRL runs out, soonest first."""
        if self._trust is None:
            raise NotFound("this gateway has no trust material")
        return json_response([item.row() for item in expiries(self._trust.store)])

    @requires("operator")
    async def reload_trust(self, request: web.Request) -> web.Response:
        """Read the trust material again (anchors, intermediates, CRLs, pins), no restart."""
        if self._trust is None:
            raise NotFound("this gateway has no trust material to reload")
        operator = principal(request).name
        try:
            summary = await self._trust.reload_async()
        except TrustReloadFailed as exc:
            await record_trust_reload(self._db, operator, self._clock(), None, str(exc))
            raise
        await record_trust_reload(self._db, operator, self._clock(), summary, None)
        return json_response({"status": "reloaded", **summary})
