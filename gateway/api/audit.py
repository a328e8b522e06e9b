"""The auditor's calls on the ops listener: statistics, the monthly report, the audit log."""

from __future__ import annotations

from datetime import date
from typing import cast, get_args

from aiohttp import web

from gateway.api.auth import requires
from gateway.api.formats import json_response, stats_response
from gateway.audit import chain as audit
from gateway.directory import Directory
from gateway.errors import BadInput, NotFound
from gateway.stats import details as drill
from gateway.stats import integrity
from gateway.stats.page import monthly_page
from gateway.stats.report import FIRST_DAY, LAST_DAY, Statistics, StatsQuery
from gateway.store.db import Database, Row, Tx

MAX_EVENTS_PAGE = 1000


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name, str(default))
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20) or not low <= int(raw) <= high:
        raise BadInput(f"{name}={raw[:40]!r}: give a whole number from {low} to {high}")
    return int(raw)


def _month(month: str) -> tuple[date, date]:
    """The first and last day of `month` (YYYY-MM), within the days statistics cover."""
    try:
        start = date.fromisoformat(f"{month}-01") if len(month) == 7 else None
    except ValueError:
        start = None
    if start is None:
        raise BadInput(f"month={month[:40]!r}: give a month as YYYY-MM")
    if not FIRST_DAY <= start <= LAST_DAY:
        raise BadInput(f"month={month}: give a month from {FIRST_DAY:%Y-%m} to {LAST_DAY:%Y-%m}")
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, date.fromordinal(following.toordinal() - 1)


class AuditApi:
    def __init__(self, *, db: Database, statistics: Statistics, directory: Directory) -> None:
        self._db = db
        self._statistics = statistics
        self._directory = directory

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/stats/exchanges", self.exchanges),
            web.get("/v1/stats/exchanges/details", self.details),
            web.get("/v1/reports/monthly", self.monthly),
            web.get("/v1/audit/events", self.events),
            web.get("/v1/audit/verify", self.verify),
        ]

    @requires("auditor")
    async def exchanges(self, request: web.Request) -> web.Response:
        query = StatsQuery.from_params(request.query, self._statistics.today())
        report = await self._statistics.report(query)
        return await stats_response(report, query, "exchanges")

    @requires("auditor")
    async def details(self, request: web.Request) -> web.Response:
        query = self._details_query(request)
        return json_response(await self._db.scan(lambda tx: drill.page(tx, query)))

    def _details_query(self, request: web.Request) -> drill.DetailsQuery:
        agency = request.query.get("agency")
        if agency is None:
            raise BadInput("agency: name the sending agency whose figure to open")
        if self._directory.get(agency) is None:
            raise NotFound(f"no agency {agency} in the directory")
        kind = request.query.get("kind", "electronic")
        if kind not in get_args(drill.Kind):
            raise BadInput(f"kind={kind!r}: use one of {', '.join(get_args(drill.Kind))}")
        range_query = StatsQuery.from_params(
            {k: v for k, v in request.query.items() if k in ("from", "to")} | {"period": "month"},
            self._statistics.today(),
        )
        return drill.DetailsQuery(
            sender=agency,
            start=range_query.start,
            end=range_query.end,
            kind=cast(drill.Kind, kind),
            limit=_int_param(request, "limit", 100, 1, drill.MAX_PAGE),
            after=request.query.get("after"),
        )

    @requires("auditor")
    async def monthly(self, request: web.Request) -> web.Response:
        today = self._statistics.today()
        month = request.query.get("month", f"{today:%Y-%m}")
        start, end = _month(month)
        query = StatsQuery(start, end, "month", "agency", "json")
        report = await self._statistics.report(query)
        names = {agency.id: agency.name for agency in self._directory}
        page = monthly_page(month, report.rows, names, self._statistics.target, report.city)
        return web.Response(
            text=page, content_type="text/html", charset="utf-8", headers=report.stamp.headers()
        )

    @requires("auditor")
    async def events(self, request: web.Request) -> web.Response:
        after = _int_param(request, "after", 0, 0, 2**62)
        limit = _int_param(request, "limit", 100, 1, MAX_EVENTS_PAGE)

        async def unit(tx: Tx) -> list[Row]:
            return await audit.page(tx, after, limit)

        rows = await self._db.scan(unit)
        entries = [audit.entry_view(row) for row in rows]
        following = entries[-1]["seq"] if len(entries) == limit else None
        return json_response({"events": entries, "next": following})

    @requires("auditor")
    async def verify(self, request: web.Request) -> web.Response:
        """Walk the chain and recount the statistics from it in the same pass and snapshot (a
        scan: off the event loop on SQLite); every counter that differs is listed."""
        return json_response((await integrity.check(self._db)).as_dict())
