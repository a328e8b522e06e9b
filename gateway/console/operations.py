"""The operators' pages: the overview (both roles), queues and adapters, dead letters, trust.

They call the objects the ops API calls (the bus, the pacing, the trust material), never the
API over HTTP, and audit each action under the signed-in user's name.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from cryptography import x509

from gateway.bus.base import Bus, DeadLetterNotFound
from gateway.clock import Clock
from gateway.console import activity
from gateway.console.alerts import Alert, firing
from gateway.console.charts import time_chart
from gateway.console.guard import page
from gateway.console.record import ActionLog
from gateway.console.views import VIEWER, Renderer, redirect
from gateway.delivery.backlog import Backlog
from gateway.delivery.pacing import Pacing
from gateway.directory import Directory
from gateway.errors import BadInput, NotFound
from gateway.log import get_logger
from gateway.store import messages as store
from gateway.store.db import Database, Tx
from gateway.trust.certs import subject
from gateway.trust.expiry import expiries
from gateway.trust.material import TrustMaterial

log = get_logger(__name__)
READY_TIMEOUT_S = 2.0
MAX_DEAD_LETTERS = 1000
OPERATOR = "operator"


def _expiry(cert: x509.Certificate) -> dict[str, Any]:
    return {"subject": subject(cert), "until": cert.not_valid_after_utc.timestamp()}


class Operations:
    def __init__(
        self,
        *,
        db: Database,
        bus: Bus,
        pacing: Pacing,
        backlog: Backlog,
        trust: TrustMaterial,
        directory: Directory,
        clock: Clock,
        actions: ActionLog,
        renderer: Renderer,
    ) -> None:
        self._db = db
        self._bus = bus
        self._pacing = pacing
        self._backlog = backlog
        self._trust = trust
        self._directory = directory
        self._clock = clock
        self._actions = actions
        self._renderer = renderer

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.overview),
            web.get("/queues", self.queues),
            web.post("/queues/{agency}/reset", self.reset),
            web.get("/dead-letters", self.dead_letters),
            web.post("/dead-letters/{id}/replay", self.replay),
            web.get("/dead-letters/purge", self.purge_confirm),
            web.post("/dead-letters/purge", self.purge),
            web.get("/trust", self.trust),
            web.post("/trust/reload", self.reload),
        ]

    def _agency(self, raw: object, *, required: bool) -> str | None:
        if raw is None or raw == "":
            if required:
                raise BadInput("agency: choose an agency")
            return None
        if not isinstance(raw, str) or self._directory.get(raw) is None:
            raise NotFound(f"no agency {str(raw)[:64]} in the directory")
        return raw

    async def _failing(self) -> list[str]:
        checks = {"store": self._db.ping(), "bus": self._bus.ping()}
        failing = []
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check, READY_TIMEOUT_S)
            except Exception:  # not ready, whatever the reason; /readyz logs it
                failing.append(name)
        return failing

    @page(OPERATOR, "auditor")
    async def overview(self, request: web.Request) -> web.Response:
        now = self._clock()
        hour_start, day_start = now - 3600 + 60 - now % 60, now - 86400 + 3600 - now % 3600

        async def unit(tx: Tx) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
            hour = await activity.counts_over(tx, hour_start, 60, 60)
            day = await activity.counts_over(tx, day_start, 3600, 24)
            return hour, day

        hour, day = await self._db.scan(unit)
        when = self._renderer.when
        failing = await self._failing()
        context = {
            "failing": failing,
            "alerts": await self._alerts(failing, now),
            "hour": time_chart(hour, when(hour_start), when(now)),
            "day": time_chart(day, when(day_start), when(now)),
        }
        return self._renderer.render(request, "overview.html", context)

    async def _alerts(self, failing: list[str], now: float) -> list[Alert]:
        backlog = []
        if not failing:  # a store or a bus that does not answer: not ready says it all
            try:
                backlog = await self._backlog.agencies()
            except Exception as exc:  # the page still shows; the gauges' watcher logs it too
                log.warning("console_backlog_unavailable", error=str(exc) or type(exc).__name__)
        return firing(failing, backlog, expiries(self._trust.store), now)

    @page(OPERATOR)
    async def queues(self, request: web.Request) -> web.Response:
        stats = {s.queue: s for s in await self._bus.queue_stats(self._directory.ids())}
        stored = await self._pacing.stored()
        rows = []
        for instance in self._pacing.instances():
            state = stored.get(instance.agency)
            up = state is None or state.up
            rows.append(
                {
                    "agency": instance.agency,
                    "queue": stats.get(instance.agency),
                    "adapter": instance.name,
                    "state": "up" if up else "backing_off",
                    "retry_at": None if up or state is None else state.retry_at,
                    "last_error": None if state is None else state.last_error,
                }
            )
        done = request.query.get("done")
        return self._renderer.render(request, "queues.html", {"rows": rows, "done": done})

    @page(OPERATOR)
    async def reset(self, request: web.Request) -> web.Response:
        agency = request.match_info["agency"]
        instance = next((i for i in self._pacing.instances() if i.agency == agency), None)
        if instance is None:
            raise NotFound(f"no agency {agency[:64]} in the directory")
        await self._pacing.reset(agency)
        user = request[VIEWER].name
        await self._actions.record("adapter_reset", user, recipient=agency, instance=instance.name)
        return redirect(f"/queues?done={agency}")

    @page(OPERATOR)
    async def dead_letters(self, request: web.Request) -> web.Response:
        agency = self._agency(request.query.get("agency"), required=False)
        letters = await self._bus.dead_letters(agency, MAX_DEAD_LETTERS)
        context = {
            "letters": letters,
            "agency": agency,
            "agencies": list(self._directory),
            "message": request.query.get("message"),
            "replayed": request.query.get("replayed"),
            "purged": request.query.get("purged"),
        }
        return self._renderer.render(request, "dead_letters.html", context)

    @page(OPERATOR)
    async def replay(self, request: web.Request) -> web.Response:
        letter_id = request.match_info["id"]
        letter = next(
            (d for d in await self._bus.dead_letters(None, MAX_DEAD_LETTERS) if d.id == letter_id),
            None,
        )
        try:
            await self._bus.replay(letter_id)
        except DeadLetterNotFound:
            raise NotFound(f"no dead letter {letter_id[:64]}") from None
        if letter is not None:
            delivery = await self._db.read(lambda tx: store.delivery(tx, letter.message_id))
            await self._actions.record(
                "replayed",
                request[VIEWER].name,
                recipient=letter.queue,
                message_id=None if delivery is None else delivery.message_id,
                delivery_id=letter.message_id,
            )
        return redirect(f"/dead-letters?replayed={letter_id}")

    @page(OPERATOR)
    async def purge_confirm(self, request: web.Request) -> web.Response:
        agency = self._agency(request.query.get("agency"), required=True)
        count = len(await self._bus.dead_letters(agency, MAX_DEAD_LETTERS))
        return self._renderer.render(
            request, "purge_confirm.html", {"agency": agency, "count": count}
        )

    @page(OPERATOR)
    async def purge(self, request: web.Request) -> web.Response:
        form = await request.post()
        agency = self._agency(form.get("agency"), required=True)
        assert agency is not None
        purged = await self._bus.purge_dead(agency)
        user = request[VIEWER].name
        await self._actions.record("dead_letters_purged", user, recipient=agency, count=purged)
        return redirect(f"/dead-letters?purged={purged}&agency={agency}")

    @page(OPERATOR)
    async def trust(self, request: web.Request) -> web.Response:
        store_ = self._trust.store
        crls = [
            {
                "issuer": subject(item.issuer),
                "this_update": item.crl.last_update_utc.timestamp(),
                "next_update": None
                if item.crl.next_update_utc is None
                else item.crl.next_update_utc.timestamp(),
                "revoked": len(item.crl),
            }
            for item in store_.crls
        ]
        context = {
            "anchors": [_expiry(c) for c in store_.anchors],
            "intermediates": [_expiry(c) for c in store_.intermediates],
            "crls": crls,
            "now": self._clock(),
            "reloaded": "reloaded" in request.query,
        }
        return self._renderer.render(request, "trust.html", context)

    @page(OPERATOR)
    async def reload(self, request: web.Request) -> web.Response:
        summary = await self._trust.reload_async()  # TrustReloadFailed: said on a page
        await self._actions.record(
            "trust_reloaded",
            request[VIEWER].name,
            anchors=len(summary["anchors"]),
            crls=len(summary["crls"]),
        )
        return redirect("/trust?reloaded=1")
