"""The national axis' operations answered by the gateway (POST /vdxp/<operation>), so that a
department whose software uses the axis' SDK connects by changing only its endpoint.

Callers authenticate with the SDK's signing (`@signed_by_vdxp`), and only signed parameters
are read. Documents and statuses go through the same intake as POST /v1/documents (every
check), and the inbox is the same mailbox as GET /v1/inbox. Every answer is the axis' JSON,
refusals included (`sdk_answers`). `updateStatus` carries transport acknowledgements only
(done, processing, fail); a business status (01-16) is an edXML status sent with sendEdoc.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from aiohttp import web

from gateway.api.auth import VDXP_SIGNED, caller_agency, scheme_of, signed_by_vdxp
from gateway.api.formats import json_response
from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.clock import Clock, iso
from gateway.delivery.mailbox import Mailbox
from gateway.directory import Agency, Directory
from gateway.edxml import StatusMessage
from gateway.errors import (
    BadInput,
    GatewayError,
    NotFound,
    PayloadTooLarge,
    SenderMismatch,
    UnsupportedMessage,
)
from gateway.intake.exchange import Receipt
from gateway.intake.pipeline import Intake
from gateway.intake.submission import Submission
from gateway.log import get_logger
from gateway.metrics import ACCEPTED, REFUSED
from gateway.sizes import LARGE_MESSAGE_BYTES
from gateway.store import messages as store
from gateway.store.db import Database, Tx
from gateway.store.messages import INBOX, DeliveryRecord
from gateway.vdxp import (
    AGENCIES_LIST,
    GET_EDOC,
    MESSAGE_TYPES,
    RECEIVED_LIST,
    SEND_EDOC,
    SERVICE_TYPE,
    TRANSPORT_ACKS,
    UPDATE_STATUS,
    SignedRequest,
    fail_answer,
    hash_file_matches,
    ok_answer,
)

log = get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_LISTED = 10_000
DEFAULT_PAGE = 1000
FILE_PART = "file_doc"  # the SDK's multipart field
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
REASON_CHARS = 300
IN_PLACE_BYTES = LARGE_MESSAGE_BYTES  # hashing a few kB takes µs; a 50 MB upload: a thread
T = TypeVar("T")


async def _off_loop(size: int, work: Callable[[], T]) -> T:
    return work() if size <= IN_PLACE_BYTES else await asyncio.to_thread(work)


def _signed(request: web.Request) -> SignedRequest:
    return request[VDXP_SIGNED]


def _required(signed: SignedRequest, name: str) -> str:
    value = signed.get(name)
    if not value:
        raise BadInput(f"parameter {name} is missing: give it in the signed headers")
    return value


def _message_type(signed: SignedRequest) -> str | None:
    kind = signed.get("messagetype")
    if kind is not None and kind not in MESSAGE_TYPES:
        raise BadInput(f"messagetype={kind!r}: use {' or '.join(MESSAGE_TYPES)}")
    return kind


def _page(signed: SignedRequest) -> tuple[int, int]:
    """(pageSize, pageIndex) of a list call; the SDK's clients mostly send neither."""
    numbers = []
    for name, default in (("pageSize", DEFAULT_PAGE), ("pageIndex", 1)):
        raw = signed.get(name) or str(default)
        if not raw.isdigit() or int(raw) < 1:
            raise BadInput(f"{name}={raw!r}: a whole number from 1")
        numbers.append(int(raw))
    size, index = numbers
    if size * index > MAX_LISTED:
        raise BadInput(f"pageSize x pageIndex: at most {MAX_LISTED} items are listed")
    return size, index


def _file_part(raw: bytes, content_type: str) -> bytes | None:
    """The `file_doc` part (or else the first) of a genuine multipart body; None if the body is
    not one: SDKVXP 2.0.1 announces multipart, then overrides the type and writes the bare file.
    Its boundary (`===<millis>===`) is not quoted, which the email package does not read."""
    found = _BOUNDARY.search(content_type)
    delimiter = b"--" + found.group(1).encode("latin-1", "replace") if found else b""
    if not delimiter or not raw.startswith(delimiter):
        return None
    parts = []
    for chunk in raw.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, blank, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if blank:
            parts.append((head, content.removesuffix(b"\r\n")))
    named = [content for head, content in parts if f'name="{FILE_PART}"'.encode() in head]
    chosen = named or [content for _, content in parts]
    return chosen[0] if chosen else None


def _matching_file(declared: str, raw: bytes) -> bytes:
    if hash_file_matches(declared, raw):
        return raw
    # SDKVXP 2.0.1 writes CRLF after the file; its hash-file is of the file alone
    if raw.endswith(b"\r\n") and hash_file_matches(declared, raw[:-2]):
        return raw[:-2]
    raise BadInput("hash-file is not the SHA-256 of the uploaded file: it was altered or cut")


class VdxpFacade:
    def __init__(
        self, *, intake: Intake, mailbox: Mailbox, directory: Directory, db: Database, clock: Clock
    ) -> None:
        self._intake = intake
        self._mailbox = mailbox
        self._directory = directory
        self._db = db
        self._clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"/vdxp/{SEND_EDOC}", self.send_edoc),
            web.post(f"/vdxp/{RECEIVED_LIST}", self.received_list),
            web.post(f"/vdxp/{GET_EDOC}", self.get_edoc),
            web.post(f"/vdxp/{UPDATE_STATUS}", self.update_status),
            web.post(f"/vdxp/{AGENCIES_LIST}", self.agencies_list),
            web.post("/vdxp/{operation}", self.unsupported),
        ]

    @signed_by_vdxp
    async def send_edoc(self, request: web.Request) -> web.Response:
        signed = _signed(request)
        agency = caller_agency(request)
        declared = signed.get("from")
        if declared and declared not in (agency.id, signed.systemid):
            raise SenderMismatch(
                f"parameter from={declared!r}, but the call is signed by {signed.systemid} "
                f"({agency.id}): an agency sends only in its own name"
            )
        kind = _message_type(signed)
        sub = Submission(
            raw=await self._upload(request, signed),
            caller=agency,
            received_at=self._clock(),
            declared_secrecy=signed.get("secrecy"),
        )
        receipt = await self._submit(sub, kind)
        structlog.contextvars.bind_contextvars(
            document_id=receipt.document_id, message_id=receipt.message_id
        )
        if not receipt.replayed:
            ACCEPTED.labels(
                kind="status" if isinstance(sub.message, StatusMessage) else "edoc"
            ).inc()
        return json_response(ok_answer(DocId=receipt.message_id))

    async def _submit(self, sub: Submission, kind: str | None) -> Receipt:
        if kind == "edoc":
            return await self._intake.submit_document(sub)
        if kind == "status":
            return await self._intake.submit_status(sub)
        return await self._intake.submit(sub)

    async def _upload(self, request: web.Request, signed: SignedRequest) -> bytes:
        raw = await request.read()
        if request.content_type.startswith("multipart/"):
            raw = _file_part(raw, request.headers.get("Content-Type", "")) or raw
        declared = signed.get("hash-file")
        if declared is None:
            return raw
        return await _off_loop(len(raw), lambda: _matching_file(declared, raw))

    @signed_by_vdxp
    async def received_list(self, request: web.Request) -> web.Response:
        signed = _signed(request)
        agency = caller_agency(request)
        kind = _message_type(signed)
        size, index = _page(signed)
        page = await self._mailbox.list(agency.id, kind, size * index, None)
        chosen = page.items[size * (index - 1) :]
        return json_response(ok_answer(data=[_list_item(d) for d in chosen]))

    @signed_by_vdxp
    async def get_edoc(self, request: web.Request) -> web.Response:
        delivery_id = _required(_signed(request), "docId")
        item, body = await self._mailbox.fetch(caller_agency(request).id, delivery_id)
        structlog.contextvars.bind_contextvars(document_id=item.document_id)
        data = await _off_loop(len(body), lambda: base64.b64encode(body).decode())
        return json_response(ok_answer(data=data))

    @signed_by_vdxp
    async def update_status(self, request: web.Request) -> web.Response:
        signed = _signed(request)
        agency = caller_agency(request)
        delivery_id = _required(signed, "docId")
        ack = _required(signed, "status")
        if ack not in TRANSPORT_ACKS:
            raise UnsupportedMessage(
                f"status={ack!r}: updateStatus acknowledges a transfer "
                f"({', '.join(TRANSPORT_ACKS)}); a processing status (01-16) is an edXML "
                "status message: send it with sendEdoc and messagetype=status"
            )
        if ack == "done":
            await self._mailbox.ack(agency.id, delivery_id)
        else:
            item = await self._waiting(agency, delivery_id)
            if ack == "fail":
                await self._record_fail(item, signed.get("description") or "")
        return json_response(ok_answer())

    async def _waiting(self, agency: Agency, delivery_id: str) -> DeliveryRecord:
        item = await self._db.read(lambda tx: store.delivery(tx, delivery_id))
        if item is None or item.recipient != agency.id or item.state != INBOX:
            raise NotFound(f"no delivery {delivery_id} waits in the inbox of {agency.id}")
        return item

    async def _record_fail(self, item: DeliveryRecord, reason: str) -> None:
        """The recipient's system could not take the item: it stays in the inbox (nothing is
        lost, the next listing offers it again) and the sender's trace shows the report."""
        entry = Event(
            "transport_fail",
            at=self._clock(),
            actor=item.recipient,
            message_id=item.message_id,
            recipient=item.recipient,
            data={"delivery_id": item.delivery_id, "via": "vdxp", "reason": reason[:REASON_CHARS]},
        )

        async def unit(tx: Tx) -> None:
            await audit.append(tx, [entry])

        await self._db.write(unit)

    @signed_by_vdxp
    async def agencies_list(self, request: web.Request) -> web.Response:
        rows = [
            {"id": a.id, "code": a.id, "name": a.name, "pid": "", "mail": ""}
            for a in self._directory
        ]
        return json_response(ok_answer(data=rows))

    @signed_by_vdxp
    async def unsupported(self, request: web.Request) -> web.Response:
        supported = (SEND_EDOC, RECEIVED_LIST, GET_EDOC, UPDATE_STATUS, AGENCIES_LIST)
        raise NotFound(
            f"operation {request.match_info['operation']!r} is not offered by this gateway; "
            f"it answers {', '.join(supported)}"
        )


def _list_item(d: DeliveryRecord) -> dict[str, Any]:
    return {
        "docId": d.delivery_id,
        "serviceType": SERVICE_TYPE,
        "messageType": d.kind,
        "from": d.sender,
        "to": d.recipient,
        "created_time": iso(d.received_at),
        "updated_time": iso(d.received_at),
        "status": "pending",
        "status_desc": "waiting for the recipient's acknowledgement",
    }


@web.middleware
async def sdk_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The façade's refusals as the axis answers them: FAIL, the HTTP status the agency API
    would have used as ErrorCode, and `<problem code>: <detail>` as ErrorDesc. HTTP 200, as
    SDK clients read the JSON whatever the status but some of their HTTP stacks throw on 4xx."""
    if scheme_of(request.match_info.handler) != "vdxp":
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge as exc:
        error: GatewayError = PayloadTooLarge(f"the body is larger than accepted ({exc.text})")
    except GatewayError as refused:
        error = refused
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unexpected_error", path=request.path)
        error = GatewayError("the gateway failed; the error is logged")
    REFUSED.labels(code=error.code).inc()
    log.info("refused", code=error.code, status=error.status, detail=error.detail, via="vdxp")
    return json_response(fail_answer(str(error.status), f"{error.code}: {error.detail}"))
