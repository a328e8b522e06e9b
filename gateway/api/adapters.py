"""The operator's view of the adapter instances: which agency's system is up, which one the
gateway is backing off from and until when; and the reset that tries one again now."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.api.auth import principal, requires
from gateway.api.formats import json_response
from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.clock import Clock, iso
from gateway.delivery.backoff import BackoffState
from gateway.delivery.pacing import Instance, Pacing
from gateway.errors import NotFound
from gateway.store.db import Database


def _row(instance: Instance, state: BackoffState | None) -> dict[str, Any]:
    state = state or BackoffState(instance.agency, instance.name)
    return {
        "instance": instance.name,
        "agency": instance.agency,
        "adapter": instance.adapter,
        "state": "up" if state.up else "backing_off",
        "failures": state.failures,
        "retry_at": None if state.up or state.retry_at is None else iso(state.retry_at),
        "since": None if state.since is None else iso(state.since),
        "last_error": state.last_error,
    }


class AdaptersApi:
    def __init__(self, *, pacing: Pacing, db: Database, clock: Clock) -> None:
        self._pacing = pacing
        self._db = db
        self._clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/ops/adapters", self.adapters),
            web.post("/v1/ops/adapters/{agency}/reset", self.reset),
        ]

    @requires("operator")
    async def adapters(self, request: web.Request) -> web.Response:
        stored = await self._pacing.stored()  # every node's view, not only this one's
        return json_response([_row(i, stored.get(i.agency)) for i in self._pacing.instances()])

    @requires("operator")
    async def reset(self, request: web.Request) -> web.Response:
        agency = request.match_info["agency"]
        instance = next((i for i in self._pacing.instances() if i.agency == agency), None)
        if instance is None:
            raise NotFound(f"no agency {agency} in the directory")
        state = await self._pacing.reset(agency)
        await self._record(request, instance)
        return json_response(_row(instance, state))

    async def _record(self, request: web.Request, instance: Instance) -> None:
        entry = Event(
            "adapter_reset",
            at=self._clock(),
            actor=principal(request).name,
            recipient=instance.agency,
            data={"instance": instance.name},
        )
        await audit.record(self._db, [entry])
