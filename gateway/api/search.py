"""The operator's and auditor's look-ups on the ops listener: messages and their traces,
refusals per agency, the directory. Metadata only, never a body."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, get_args
from zoneinfo import ZoneInfo

from aiohttp import web

from gateway.api.auth import requires
from gateway.api.formats import json_response
from gateway.audit import search
from gateway.directory import Directory
from gateway.errors import BadInput, NotFound
from gateway.intake import refusals
from gateway.store.db import Database
from gateway.store.messages import DeliveryState

MAX_PAGE = 100
MAX_TEXT = 300


def _limit(request: web.Request, default: int = 50) -> int:
    raw = request.query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise BadInput(f"limit={raw!r}: give a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def _day_start(request: web.Request, name: str, tz: ZoneInfo, days_after: int = 0) -> float | None:
    """The start of the local day `name` names (plus `days_after`), in unix seconds."""
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        day = date.fromisoformat(raw) + timedelta(days=days_after)
    except (ValueError, OverflowError):
        raise BadInput(f"{name}={raw!r}: give a date as YYYY-MM-DD") from None
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


class SearchApi:
    def __init__(self, *, db: Database, directory: Directory, tz: ZoneInfo) -> None:
        self._db = db
        self._directory = directory
        self._tz = tz

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/ops/messages", self.messages),
            web.get("/v1/ops/messages/{id}", self.message),
            web.get("/v1/ops/refusals", self.refusals),
            web.get("/v1/ops/agencies", self.agencies),
        ]

    def _text(self, request: web.Request, name: str) -> str | None:
        value = request.query.get(name)
        if value is not None and not 0 < len(value) <= MAX_TEXT:
            raise BadInput(f"{name}: give 1 to {MAX_TEXT} characters")
        return value

    def _agency(self, request: web.Request, name: str) -> str | None:
        agency = self._text(request, name)
        if agency is not None and self._directory.get(agency) is None:
            raise NotFound(f"{name}={agency}: no such agency in the directory")
        return agency

    @requires("operator", "auditor")
    async def messages(self, request: web.Request) -> web.Response:
        """`?document_id=&code=&from=&to=&since=&until=&state=&limit=&after=`, newest first."""
        state = request.query.get("state")
        if state is not None and state not in get_args(DeliveryState):
            raise BadInput(f"state={state!r}: use one of {', '.join(get_args(DeliveryState))}")
        found: dict[str, Any] = {
            "document_id": self._text(request, "document_id"),
            "code": self._text(request, "code"),
            "sender": self._agency(request, "from"),
            "recipient": self._agency(request, "to"),
            "since": _day_start(request, "since", self._tz),
            "until": _day_start(request, "until", self._tz, days_after=1),  # inclusive
            "state": state,
        }
        query = search.Search(
            filters={k: v for k, v in found.items() if v is not None},
            limit=_limit(request),
            after=request.query.get("after"),
        )
        return json_response(await self._db.read(lambda tx: search.search(tx, query)))

    @requires("operator", "auditor")
    async def message(self, request: web.Request) -> web.Response:
        message_id = request.match_info["id"]
        found = await self._db.read(lambda tx: search.one(tx, message_id))
        if found is None:
            raise NotFound(f"no message {message_id}")
        return json_response(found)

    @requires("operator")
    async def refusals(self, request: web.Request) -> web.Response:
        """`?agency=&code=&since=&limit=&after=`: recent refusals, newest first."""
        after = request.query.get("after")
        if after is not None and not after.isdigit():
            raise BadInput("after: give the `next` of the previous page")
        query = refusals.RefusalQuery(
            agency=self._agency(request, "agency"),
            code=self._text(request, "code"),
            since=_day_start(request, "since", self._tz),
            limit=_limit(request),
            before=None if after is None else int(after),
        )
        return json_response(await self._db.scan(lambda tx: refusals.recent(tx, query)))

    @requires("operator", "auditor")
    async def agencies(self, request: web.Request) -> web.Response:
        return json_response(
            [
                {"id": a.id, "name": a.name, "group": a.group, "delivery": a.delivery.adapter}
                for a in self._directory
            ]
        )
