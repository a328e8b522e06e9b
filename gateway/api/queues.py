"""The operator's view of the bus: each agency's backlog, dead letters, replay and purge."""

from __future__ import annotations

from aiohttp import web

from gateway.api.auth import principal, requires
from gateway.api.formats import json_response
from gateway.audit import chain as audit
from gateway.audit import search
from gateway.audit.events import Event, EventName
from gateway.audit.operators import mark_purged
from gateway.bus.base import Bus, DeadLetterNotFound
from gateway.clock import Clock, iso
from gateway.delivery.backlog import AgencyBacklog, Backlog
from gateway.directory import Directory
from gateway.errors import BadInput, NotFound
from gateway.store import messages as store
from gateway.store.db import Database

MAX_LIST = 1000
MAX_PURGE_TRACED = 10_000


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _when(value: float | None) -> str | None:
    return None if value is None else iso(value)


def backlog_row(row: AgencyBacklog) -> dict[str, object]:
    """One agency's line of `GET /v1/ops/queues`: the bus's side, then the adapter's."""
    return {
        "agency": row.agency,
        "ready": row.bus.ready,
        "in_flight": row.bus.in_flight,
        "waiting_retry": row.bus.waiting_retry,
        "dead": row.bus.dead,
        "oldest_age_s": _seconds(row.bus.oldest_age_s),
        "adapter": row.adapter,
        "uncollected": row.uncollected,
        "uncollected_oldest_age_s": _seconds(row.uncollected_oldest_age_s),
        "last_listed_at": _when(row.last_listed_at),
        "last_fetched_at": _when(row.last_fetched_at),
        "state": row.state,
        "failures": row.backoff.failures,
        "last_error": row.backoff.last_error,
        "next_attempt_at": _when(row.next_attempt_at),
    }


class QueuesApi:
    def __init__(self, *, bus: Bus, db: Database, directory: Directory, clock: Clock) -> None:
        self._bus = bus
        self._db = db
        self._directory = directory
        self._clock = clock
        self._backlog = Backlog(bus=bus, db=db, directory=directory, clock=clock)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/ops/queues", self.queues),
            web.get("/v1/ops/dead-letters", self.dead_letters),
            web.post("/v1/ops/dead-letters/{id}/replay", self.replay),
            web.delete("/v1/ops/dead-letters", self.purge),
        ]

    def _agency(self, request: web.Request, required: bool) -> str | None:
        agency = request.query.get("agency")
        if agency is None and required:
            raise BadInput("agency: name the agency whose dead letters to purge")
        if agency is not None and self._directory.get(agency) is None:
            raise NotFound(f"no agency {agency} in the directory")
        return agency

    @requires("operator")
    async def queues(self, request: web.Request) -> web.Response:
        return json_response([backlog_row(row) for row in await self._backlog.agencies()])

    @requires("operator")
    async def dead_letters(self, request: web.Request) -> web.Response:
        raw_limit = request.query.get("limit", "100")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIST:
            raise BadInput(f"limit={raw_limit!r}: give a whole number from 1 to {MAX_LIST}")
        found = await self._bus.dead_letters(self._agency(request, False), int(raw_limit))
        ids = [d.message_id for d in found]
        about = await self._db.read(lambda tx: search.about_deliveries(tx, ids))
        rows = [
            {
                "id": d.id,
                "agency": d.queue,
                "delivery_id": d.message_id,
                **about.get(d.message_id, {}),  # message_id, from, document_id, code
                "priority": d.priority,
                "attempts": d.attempts,
                "reason": d.reason,
                "dead_at": iso(d.dead_at),
                "size": d.size,
            }
            for d in found
        ]
        return json_response(rows)

    @requires("operator")
    async def replay(self, request: web.Request) -> web.Response:
        dead_letter_id = request.match_info["id"]
        letters = {d.id: d for d in await self._bus.dead_letters(None, MAX_LIST)}
        try:
            await self._bus.replay(dead_letter_id)
        except DeadLetterNotFound:
            raise NotFound(f"no dead letter {dead_letter_id}") from None
        letter = letters.get(dead_letter_id)
        if letter is not None:
            await self._record(
                "replayed", request, letter.message_id, letter.queue, dead_letter_id=letter.id
            )
        return json_response({"id": dead_letter_id, "status": "replayed"}, 202)

    @requires("operator")
    async def purge(self, request: web.Request) -> web.Response:
        agency = self._agency(request, True)
        assert agency is not None
        letters = await self._bus.dead_letters(agency, MAX_PURGE_TRACED)
        purged = await self._bus.purge_dead(agency)
        # Each purged letter's trace says so (the first MAX_PURGE_TRACED; the count says all).
        await mark_purged(self._db, letters, principal(request).name, self._clock())
        await self._record("dead_letters_purged", request, None, agency, count=purged)
        return json_response({"agency": agency, "purged": purged})

    async def _record(
        self,
        event: EventName,
        request: web.Request,
        delivery_id: str | None,
        agency: str,
        **data: int | str,
    ) -> None:
        now = self._clock()
        operator = principal(request).name
        delivery = None
        if delivery_id is not None:
            delivery = await self._db.read(lambda tx: store.delivery(tx, delivery_id))
        entry = Event(
            event,
            at=now,
            actor=operator,
            message_id=None if delivery is None else delivery.message_id,
            recipient=agency,
            data={"delivery_id": delivery_id, **data} if delivery_id else dict(data),
        )
        await audit.record(self._db, [entry])
