"""The agency API (DESIGN §4.3): what department systems call, with their bearer token."""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from gateway.api.auth import caller_agency, requires
from gateway.api.declarations import declared_secrecy
from gateway.api.formats import json_response, stats_response
from gateway.audit.trace import trace
from gateway.clock import Clock, iso
from gateway.delivery.mailbox import Mailbox
from gateway.directory import Directory
from gateway.errors import BadInput, PayloadTooLarge, UnsupportedMessage
from gateway.intake.exchange import Receipt
from gateway.intake.pipeline import Intake
from gateway.intake.submission import Submission
from gateway.metrics import ACCEPTED
from gateway.runtime.diskspace import FreeSpace
from gateway.stats import paper
from gateway.stats.paper import PaperRegister
from gateway.stats.report import Statistics, StatsQuery
from gateway.store.db import Database

XML_TYPES = ("application/xml", "text/xml", "application/edxml+xml", "application/octet-stream")
MAX_PAGE = 1000


def _receipt_body(receipt: Receipt) -> dict[str, Any]:
    return {
        "id": receipt.message_id,
        "document_id": receipt.document_id,
        "recipients": [
            {"organ_id": d.recipient, "delivery_id": d.delivery_id, "state": "queued"}
            for d in receipt.deliveries
        ],
    }


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "100")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not 1 <= int(raw) <= MAX_PAGE:
        raise BadInput(f"limit={raw[:40]!r}: give a whole number from 1 to {MAX_PAGE}")
    return int(raw)


async def _bounded_body(request: web.Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to be over `limit` bytes."""
    too_large = PayloadTooLarge(f"the body is over {limit} bytes; send at most that")
    if (request.content_length or 0) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


class AgencyApi:
    def __init__(
        self,
        *,
        intake: Intake,
        mailbox: Mailbox,
        directory: Directory,
        db: Database,
        clock: Clock,
        paper: PaperRegister,
        statistics: Statistics,
        disk: FreeSpace | None = None,
    ) -> None:
        self._disk = disk
        self._intake = intake
        self._mailbox = mailbox
        self._directory = directory
        self._db = db
        self._clock = clock
        self._paper = paper
        self._statistics = statistics

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/documents", self.submit_document),
            web.post("/v1/statuses", self.submit_status),
            web.get("/v1/inbox", self.list_inbox),
            web.get("/v1/inbox/{delivery_id}", self.fetch),
            web.post("/v1/inbox/{delivery_id}/ack", self.ack),
            web.get("/v1/documents/{id}/trace", self.trace),
            web.get("/v1/agencies", self.agencies),
            web.post("/v1/paper-dispatches", self.declare_paper),
            web.get("/v1/stats/mine", self.my_stats),
        ]

    async def _submission(self, request: web.Request) -> Submission:
        media = request.content_type
        if request.body_exists and media not in XML_TYPES:
            raise UnsupportedMessage(f"Content-Type {media!r}: send edXML as application/xml")
        raw = await request.read()
        return Submission(
            raw=raw,
            caller=caller_agency(request),
            received_at=self._clock(),
            declared_secrecy=declared_secrecy(request),
        )

    @requires("agency")
    async def submit_document(self, request: web.Request) -> web.Response:
        if self._disk is not None:
            self._disk.require_room()
        sub = await self._submission(request)
        receipt = await self._intake.submit_document(sub)
        structlog.contextvars.bind_contextvars(
            document_id=receipt.document_id, message_id=receipt.message_id
        )
        if not receipt.replayed:
            ACCEPTED.labels(kind="edoc").inc()
            if self._disk is not None:
                self._disk.spent(len(sub.raw))
        return json_response(_receipt_body(receipt), status=200 if receipt.replayed else 202)

    @requires("agency")
    async def submit_status(self, request: web.Request) -> web.Response:
        sub = await self._submission(request)
        receipt = await self._intake.submit_status(sub)
        structlog.contextvars.bind_contextvars(
            document_id=receipt.document_id, message_id=receipt.message_id
        )
        if not receipt.replayed:
            ACCEPTED.labels(kind="status").inc()
        body = {"id": receipt.message_id, "to": receipt.deliveries[0].recipient}
        return json_response(body, status=200 if receipt.replayed else 202)

    @requires("agency")
    async def list_inbox(self, request: web.Request) -> web.Response:
        kind = request.query.get("kind")
        if kind not in (None, "edoc", "status"):
            raise BadInput(f"kind={kind!r}: use edoc or status")
        page = await self._mailbox.list(
            caller_agency(request).id, kind, _limit(request), request.query.get("after")
        )
        items = [
            {
                "delivery_id": d.delivery_id,
                "kind": d.kind,
                "from": d.sender,
                "document_id": d.document_id,
                "priority": d.priority,
                "received_at": iso(d.received_at),
                "size": d.size,
            }
            for d in page.items
        ]
        return json_response({"items": items, "next": page.next_cursor})

    @requires("agency")
    async def fetch(self, request: web.Request) -> web.Response:
        delivery_id = request.match_info["delivery_id"]
        item, body = await self._mailbox.fetch(caller_agency(request).id, delivery_id)
        structlog.contextvars.bind_contextvars(document_id=item.document_id)
        headers = {
            "Edoc-Delivery-Id": item.delivery_id,
            "Edoc-Kind": item.kind,
            "Edoc-From": item.sender,
            "Edoc-Message-Id": item.message_id,
        }
        return web.Response(
            body=body, content_type="application/xml", charset="utf-8", headers=headers
        )

    @requires("agency")
    async def ack(self, request: web.Request) -> web.Response:
        await self._mailbox.ack(caller_agency(request).id, request.match_info["delivery_id"])
        return web.Response(status=204)

    @requires("agency")
    async def trace(self, request: web.Request) -> web.Response:
        view = await trace(self._db, request.match_info["id"], caller_agency(request).id)
        return json_response(view)

    @requires("agency")
    async def agencies(self, request: web.Request) -> web.Response:
        rows = [{"id": a.id, "name": a.name, "group": a.group} for a in self._directory]
        return json_response(rows)

    @requires("agency")
    async def declare_paper(self, request: web.Request) -> web.Response:
        if request.content_type not in ("text/csv", "application/json"):
            raise UnsupportedMessage("send application/json or a text/csv paper register")
        raw = await _bounded_body(request, paper.MAX_BODY_BYTES)
        if request.content_type == "text/csv":
            dispatches = paper.from_csv(paper.csv_text(raw, request.charset))
        else:
            dispatches = paper.from_json(paper.json_body(raw))
        declared = await self._paper.declare(caller_agency(request).id, dispatches)
        return json_response({"declared": declared.declared, "already": declared.already}, 201)

    @requires("agency")
    async def my_stats(self, request: web.Request) -> web.Response:
        query = StatsQuery.from_params(request.query, self._statistics.today())
        if query.by != "agency":
            raise BadInput("by: an agency reads its own figures, by agency only")
        agency = caller_agency(request).id
        report = await self._statistics.report(query, sender=agency)
        return await stats_response(report, query, f"exchanges-{agency}")
