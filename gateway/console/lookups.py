"""The look-ups of the console: message search and a message's timeline (both roles), the
refusals (operators), the exchanges behind a statistics figure (auditors).

Each page calls the function the ops API calls (gateway.audit.search, gateway.intake.refusals,
gateway.stats.details) in the same kind of transaction, so a page lists what the API lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, cast, get_args

from aiohttp import web

from gateway.audit import search
from gateway.clock import Clock
from gateway.console.days import day_of, midnight, shown
from gateway.console.guard import page
from gateway.console.views import Renderer
from gateway.directory import Directory
from gateway.errors import BadInput, NotFound
from gateway.intake import refusals
from gateway.stats import details as drill
from gateway.stats.report import Statistics, StatsQuery
from gateway.store.db import Database
from gateway.store.messages import DeliveryState

OPERATOR, AUDITOR = "operator", "auditor"
PAGE = 50  # messages or refusals a page
DETAILS_PAGE = 100
MAX_TEXT = 300
MAX_CURSOR = 400
STATES: tuple[str, ...] = get_args(DeliveryState)
KINDS: tuple[str, ...] = get_args(drill.Kind)


def _text(query: Mapping[str, str], name: str) -> str | None:
    value = (query.get(name) or "").strip()
    if len(value) > MAX_TEXT:
        raise BadInput(f"{name}: give at most {MAX_TEXT} characters")
    return value or None


def _cursor(query: Mapping[str, str]) -> str | None:
    after = query.get("after") or None
    if after is not None and len(after) > MAX_CURSOR:
        raise BadInput("after: give the `next` of the previous page")
    return after


def _choice(query: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = query.get(name) or None
    if value is not None and value not in allowed:
        raise BadInput(f"{name}={value[:40]!r}: use one of {', '.join(allowed)}")
    return value


def _next_url(request: web.Request, following: object) -> str | None:
    if following is None:
        return None
    return str(request.rel_url.update_query(after=str(following)))


class Lookups:
    def __init__(
        self,
        *,
        db: Database,
        statistics: Statistics,
        directory: Directory,
        clock: Clock,
        renderer: Renderer,
    ) -> None:
        self._db = db
        self._statistics = statistics
        self._directory = directory
        self._clock = clock
        self._renderer = renderer

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/messages", self.messages),
            web.get("/messages/{id}", self.message),
            web.get("/refusals", self.refusals),
            web.get("/stats/details", self.details),
        ]

    def _agency(self, query: Mapping[str, str], name: str) -> str | None:
        agency = _text(query, name)
        if agency is not None and self._directory.get(agency) is None:
            raise NotFound(f"{name}={agency[:64]}: no such agency in the directory")
        return agency

    def _common(self, request: web.Request) -> dict[str, Any]:
        return {"query": request.query, "agencies": list(self._directory)}

    @page(OPERATOR, AUDITOR)
    async def messages(self, request: web.Request) -> web.Response:
        """`?document_id=&code=&from=&to=&since=&until=&state=&after=`, newest first."""
        query = request.query
        tz = self._statistics.tz
        since, until = day_of(query.get("since"), "since"), day_of(query.get("until"), "until")
        found: dict[str, Any] = {
            "document_id": _text(query, "document_id"),
            "code": _text(query, "code"),
            "sender": self._agency(query, "from"),
            "recipient": self._agency(query, "to"),
            "since": midnight(since, tz),
            "until": midnight(until, tz, days_after=1),  # the last day included
            "state": _choice(query, "state", STATES),
        }
        wanted = search.Search(
            filters={k: v for k, v in found.items() if v is not None},
            limit=PAGE,
            after=_cursor(query),
        )
        result = await self._db.read(lambda tx: search.search(tx, wanted))
        context = self._common(request) | {
            "items": result["items"],
            "following": _next_url(request, result["next"]),
            "states": STATES,
            "since": shown(since),
            "until": shown(until),
        }
        return self._renderer.render(request, "messages.html", context)

    @page(OPERATOR, AUDITOR)
    async def message(self, request: web.Request) -> web.Response:
        message_id = request.match_info["id"]
        if len(message_id) > MAX_TEXT:
            raise BadInput(f"id: give at most {MAX_TEXT} characters")
        found = await self._db.read(lambda tx: search.one(tx, message_id))
        if found is None:
            raise NotFound(f"no message {message_id[:64]}")
        return self._renderer.render(request, "message.html", {"m": found})

    @page(OPERATOR)
    async def refusals(self, request: web.Request) -> web.Response:
        """`?agency=&code=&since=&after=`: newest first."""
        query = request.query
        after = _cursor(query)
        if after is not None and not (after.isdigit() and len(after) <= 18):
            raise BadInput("after: give the `next` of the previous page")
        since = day_of(query.get("since"), "since")
        wanted = refusals.RefusalQuery(
            agency=self._agency(query, "agency"),
            code=_text(query, "code"),
            since=midnight(since, self._statistics.tz),
            limit=PAGE,
            before=None if after is None else int(after),
        )
        result = await self._db.scan(lambda tx: refusals.recent(tx, wanted))
        context = self._common(request) | {
            "items": result["items"],
            "following": _next_url(request, result["next"]),
            "since": shown(since),
        }
        return self._renderer.render(request, "refusals.html", context)

    def _today(self) -> date:
        return datetime.fromtimestamp(self._clock(), self._statistics.tz).date()

    def _details_query(self, query: Mapping[str, str]) -> drill.DetailsQuery:
        """As `/v1/stats/exchanges/details` reads it (the same defaults and checks)."""
        agency = self._agency(query, "agency")
        if agency is None:
            raise BadInput("agency: name the sending agency whose figure to open")
        kind = _choice(query, "kind", KINDS) or "electronic"
        days = {n: day_of(query.get(n), n) for n in ("from", "to")}
        params = {n: d.isoformat() for n, d in days.items() if d is not None}
        span = StatsQuery.from_params(params | {"period": "month"}, self._today())
        return drill.DetailsQuery(
            sender=agency,
            start=span.start,
            end=span.end,
            kind=cast(drill.Kind, kind),
            limit=DETAILS_PAGE,
            after=_cursor(query),
        )

    @page(AUDITOR)
    async def details(self, request: web.Request) -> web.Response:
        wanted = self._details_query(request.query)
        result = await self._db.scan(lambda tx: drill.page(tx, wanted))
        range_ = {"from": wanted.start.isoformat(), "to": wanted.end.isoformat()}
        context = {
            "wanted": wanted,
            "items": result["items"],
            "following": _next_url(request, result["next"]),
            "kinds": KINDS,
            "range": range_,
            "start": shown(wanted.start),
            "end": shown(wanted.end),
        }
        return self._renderer.render(request, "details.html", context)
