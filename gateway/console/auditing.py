"""The auditors' pages: statistics with their downloads, the audit log and its verification.

The figures come from the objects the ops API uses (gateway.stats.report.Statistics, the audit
chain), so the page and the API cannot disagree.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, get_args
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from gateway.api.formats import stats_response
from gateway.audit import chain as audit
from gateway.audit.events import EventName
from gateway.audit.verification import verify_chain
from gateway.clock import Clock
from gateway.console import activity
from gateway.console.charts import ratio_chart
from gateway.console.guard import page
from gateway.console.periods import KINDS, Selection, summed, worst_first
from gateway.console.record import ActionLog
from gateway.console.views import VIEWER, Renderer
from gateway.directory import Directory
from gateway.errors import BadInput
from gateway.stats.report import Statistics, StatsQuery
from gateway.store.db import Database, Row, Tx

AUDITOR = "auditor"
EVENTS_PAGE = 50
MAX_FILTER = 300
# each figure of a row and the drill-down kind that lists the exchanges behind it; "with a
# paper copy" is a part of the electronic ones, which the list marks
FIGURES = (
    ("electronic", "electronic"),
    ("paper", "paper"),
    ("secret_excluded", "secret"),
    ("with_paper_copy", "electronic"),
    ("undelivered", "undelivered"),
)


class Auditing:
    def __init__(
        self,
        *,
        db: Database,
        statistics: Statistics,
        directory: Directory,
        clock: Clock,
        actions: ActionLog,
        renderer: Renderer,
    ) -> None:
        self._db = db
        self._statistics = statistics
        self._directory = directory
        self._names = {agency.id: agency.name for agency in directory}
        self._clock = clock
        self._actions = actions
        self._renderer = renderer

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/stats", self.stats),
            web.get("/stats/download", self.download),
            web.get("/audit", self.audit_log),
            web.post("/audit/verify", self.verify),
        ]

    def _today(self) -> date:
        return datetime.fromtimestamp(self._clock(), self._statistics.tz).date()

    @page(AUDITOR)
    async def stats(self, request: web.Request) -> web.Response:
        chosen = Selection.read(request.query, self._today())
        query = StatsQuery(chosen.start, chosen.end, chosen.period, chosen.by, "json")
        target = self._statistics.target
        report = await self._statistics.report(query)  # its city-wide rows: the same snapshot
        rows = summed(report.rows, chosen.by, target)
        worst_first(rows, self._names, chosen.by)
        totals = summed(report.city, None, target)
        label = self._renderer.name_of if chosen.by == "agency" else str
        chart = ratio_chart(
            [(label(r[chosen.by]) or r[chosen.by], r["ratio"], r["meets_target"]) for r in rows],
            target,
        )
        download = {
            "from": chosen.start.isoformat(),
            "to": chosen.end.isoformat(),
            "period": chosen.period,
            "by": chosen.by,
        }
        context = {
            "chosen": chosen,
            "kinds": KINDS,
            "figures": FIGURES,
            "rows": rows,
            "total": totals[0] if totals else None,
            "target": target,
            "chart": chart,
            "download": download,
            "drill": urlencode({"from": download["from"], "to": download["to"]}),
        }
        return self._renderer.render(request, "stats.html", context)

    @page(AUDITOR)
    async def download(self, request: web.Request) -> web.Response:
        """The API's CSV and XLSX, authorised by the session instead of a bearer token."""
        query = StatsQuery.from_params(request.query, self._today())
        if query.format == "json":
            raise BadInput("format: choose csv or xlsx")
        report = await self._statistics.report(query)
        return await stats_response(report, query, "exchanges")

    def _filter(self, request: web.Request) -> activity.EventFilter:
        query = request.query
        text = {
            name: (query.get(name) or "").strip()[:MAX_FILTER] or None
            for name in ("event", "actor", "recipient", "message_id")
        }
        if text["event"] is not None and text["event"] not in get_args(EventName):
            raise BadInput(f"event={text['event'][:40]!r}: choose an event from the list")
        before = query.get("before") or None
        if before is not None and (not before.isdigit() or len(before) > 18):
            raise BadInput("before: give an entry number")
        tz = self._statistics.tz
        return activity.EventFilter(
            **text,
            since=_midnight(query.get("since"), "since", tz, 0),
            until=_midnight(query.get("until"), "until", tz, 1),
            before=None if before is None else int(before),
        )

    async def _entries(self, where: activity.EventFilter) -> list[Row]:
        async def unit(tx: Tx) -> list[Row]:
            return list(await activity.entries(tx, where, EVENTS_PAGE))

        return await self._db.scan(unit)

    async def _audit_page(
        self, request: web.Request, verification: audit.Verification | None
    ) -> web.Response:
        where = self._filter(request)
        rows = [audit.entry_view(row) for row in await self._entries(where)]
        older = None
        if len(rows) == EVENTS_PAGE:
            older = str(request.rel_url.update_query(before=str(rows[-1]["seq"])))
        context: dict[str, Any] = {
            "entries": rows,
            "where": where,
            "query": request.query,
            "event_names": get_args(EventName),
            "agencies": list(self._directory),
            "older": older,
            "verification": verification,
        }
        return self._renderer.render(request, "audit.html", context)

    @page(AUDITOR)
    async def audit_log(self, request: web.Request) -> web.Response:
        return await self._audit_page(request, None)

    @page(AUDITOR)
    async def verify(self, request: web.Request) -> web.Response:
        result = await verify_chain(self._db)
        await self._actions.record(
            "audit_verified",
            request[VIEWER].name,
            ok=result.ok,
            events=result.events,
            head=result.head,
        )
        return await self._audit_page(request, result)


def _midnight(raw: str | None, name: str, tz: ZoneInfo, days_after: int) -> float | None:
    """The start of a local day (or of the day after it, for an inclusive end)."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"{name}={raw[:20]!r}: give a date as YYYY-MM-DD") from None
    day = date.fromordinal(day.toordinal() + days_after)
    return datetime.combine(day, time(), tz).timestamp()
