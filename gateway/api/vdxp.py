"""The national axis' operations answered by the gateway (POST /vdxp/<operation>), so that a
department whose software uses the axis' SDK connects by changing only its endpoint.

Callers authenticate with the SDK's signing (`@signed_by_vdxp`), and only signed parameters
are read. Documents and statuses go through the same intake as POST /v1/documents (every
check), and the inbox is the same mailbox as GET /v1/inbox. Every answer is the axis' JSON in
ASCII, refusals included (`sdk_answers`). `updateStatus` carries transport acknowledgements
only (done, processing, fail); a business status (01-16) is an edXML status sent with sendEdoc.
A replayed signature is refused unless the call is idempotent (`vdxp_replays`).
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable
from typing import TypeVar

import structlog
from aiohttp import web

from gateway.api.auth import VDXP_SIGNED, caller_agency, signed_by_vdxp
from gateway.api.declarations import declared_secrecy
from gateway.api.vdxp_answers import sdk_answers, sdk_response
from gateway.api.vdxp_lists import (
    directory_rows,
    page_of,
    received_item,
    sent_item,
    sent_rows,
)
from gateway.api.vdxp_replays import ReplayGuard
from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.clock import Clock
from gateway.delivery.mailbox import Mailbox
from gateway.directory import Agency, Directory
from gateway.edxml import StatusMessage
from gateway.errors import (
    BadInput,
    Forbidden,
    NotFound,
    SenderMismatch,
    Unauthorized,
    UnsupportedMessage,
)
from gateway.intake.exchange import Receipt
from gateway.intake.pipeline import Intake
from gateway.intake.submission import Submission
from gateway.log import get_logger
from gateway.metrics import ACCEPTED
from gateway.sizes import LARGE_MESSAGE_BYTES
from gateway.store import messages as store
from gateway.store.db import Database
from gateway.store.messages import INBOX, DeliveryRecord
from gateway.vdxp import (
    AGENCIES_LIST,
    DELETE_AGENCY,
    GET_EDOC,
    MESSAGE_TYPES,
    PREFIX,
    RECEIVED_LIST,
    REGISTER_AGENCY,
    SEND_EDOC,
    SENT_LIST,
    SYNCHRONIZE_UNIT,
    TRANSPORT_ACKS,
    UPDATE_STATUS,
    SignedRequest,
    hash_file_matches,
    ok_answer,
)

__all__ = ["VdxpFacade", "sdk_answers"]
log = get_logger(__name__)
SUPPORTED = (
    SEND_EDOC,
    RECEIVED_LIST,
    GET_EDOC,
    UPDATE_STATUS,
    AGENCIES_LIST,
    SENT_LIST,
    SYNCHRONIZE_UNIT,
)
# acknowledgements that change nothing when repeated: their replay is answered, not refused
REPEATABLE_ACKS = ("done", "processing")
FILE_PART = "file_doc"  # the SDK's multipart field
# the signed parameter `secrecy` = Edoc-Secrecy; its headers (bare and prefixed, repeated or not)
# are declarations too, beside any Edoc-Secrecy header
SECRECY_PARAMETER = "secrecy"
SECRECY_PARAMETER_HEADERS = (SECRECY_PARAMETER, PREFIX + SECRECY_PARAMETER)
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
        self._replays = ReplayGuard(db, clock)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"/vdxp/{SEND_EDOC}", self.send_edoc),
            web.post(f"/vdxp/{RECEIVED_LIST}", self.received_list),
            web.post(f"/vdxp/{GET_EDOC}", self.get_edoc),
            web.post(f"/vdxp/{UPDATE_STATUS}", self.update_status),
            web.post(f"/vdxp/{AGENCIES_LIST}", self.agencies_list),
            web.post(f"/vdxp/{SENT_LIST}", self.sent_list),
            web.post(f"/vdxp/{SYNCHRONIZE_UNIT}", self.agencies_list),
            web.post(f"/vdxp/{REGISTER_AGENCY}", self.administration),
            web.post(f"/vdxp/{DELETE_AGENCY}", self.administration),
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
            declared_secrecy=declared_secrecy(
                request, also=SECRECY_PARAMETER_HEADERS, signed=signed.get(SECRECY_PARAMETER)
            ),
        )
        receipt = await self._submit(sub, kind)
        structlog.contextvars.bind_contextvars(
            document_id=receipt.document_id, message_id=receipt.message_id
        )
        if not receipt.replayed:
            ACCEPTED.labels(
                kind="status" if isinstance(sub.message, StatusMessage) else "edoc"
            ).inc()
        return sdk_response(ok_answer(DocId=receipt.message_id))

    async def _submit(self, sub: Submission, kind: str | None) -> Receipt:
        if kind == "edoc":
            return await self._intake.submit_document(sub)
        if kind == "status":
            return await self._intake.submit_status(sub)
        return await self._intake.submit(sub)

    async def _upload(self, request: web.Request, signed: SignedRequest) -> bytes:
        declared = signed.get("hash-file")
        if not declared:
            # the SDK signs headers only: the signed hash of the file is what binds the body
            raise Unauthorized(
                "sendEdoc must sign the parameter hash-file (the SHA-256 of the file, as the "
                "SDK sends it): without it the signature does not cover the uploaded file"
            )
        raw = await request.read()
        if request.content_type.startswith("multipart/"):
            raw = _file_part(raw, request.headers.get("Content-Type", "")) or raw
        return await _off_loop(len(raw), lambda: _matching_file(declared, raw))

    async def _once(self, signed: SignedRequest) -> None:
        """Refuse a signature seen before: replayed, a read would hand the caller's documents
        to whoever holds the headers."""
        if not await self._replays.first_sighting(signed):
            raise Unauthorized(
                "this signed call was received already (a replay); sign each call afresh: "
                "the SDK stamps its timestamp once per service object, so build one per call"
            )

    @signed_by_vdxp
    async def received_list(self, request: web.Request) -> web.Response:
        signed = _signed(request)
        agency = caller_agency(request)
        kind = _message_type(signed)
        size, index = page_of(signed)
        await self._once(signed)
        page = await self._mailbox.list(agency.id, kind, size * index, None)
        chosen = page.items[size * (index - 1) :]
        return sdk_response(ok_answer(data=[received_item(d) for d in chosen]))

    @signed_by_vdxp
    async def sent_list(self, request: web.Request) -> web.Response:
        """What the caller sent, newest first, with each recipient's state (docs/vdxp.md)."""
        signed = _signed(request)
        agency = caller_agency(request)
        kind = _message_type(signed)
        size, index = page_of(signed)
        await self._once(signed)
        rows = await self._db.read(lambda tx: sent_rows(tx, agency.id, kind, size * index))
        chosen = rows[size * (index - 1) :]
        return sdk_response(ok_answer(data=[sent_item(row) for row in chosen]))

    @signed_by_vdxp
    async def get_edoc(self, request: web.Request) -> web.Response:
        signed = _signed(request)
        delivery_id = _required(signed, "docId")
        await self._once(signed)
        item, body = await self._mailbox.fetch(caller_agency(request).id, delivery_id)
        structlog.contextvars.bind_contextvars(document_id=item.document_id)
        data = await _off_loop(len(body), lambda: base64.b64encode(body).decode())
        return sdk_response(ok_answer(data=data))

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
        if ack not in REPEATABLE_ACKS:
            await self._once(signed)
        if ack == "done":
            await self._mailbox.ack(agency.id, delivery_id)
        else:
            item = await self._waiting(agency, delivery_id)
            if ack == "fail":
                await self._record_fail(item, signed.get("description") or "")
        return sdk_response(ok_answer())

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
        await audit.record(self._db, [entry])

    @signed_by_vdxp
    async def agencies_list(self, request: web.Request) -> web.Response:
        """getAgenciesList, and getSynchronizeUnit: the gateway keeps no history of its
        directory, so synchronising is reading it whole (docs/vdxp.md). Not guarded against
        replays: the directory is no secret, and the SDK's users read it often."""
        return sdk_response(ok_answer(data=directory_rows(self._directory)))

    @signed_by_vdxp
    async def administration(self, request: web.Request) -> web.Response:
        raise Forbidden(
            f"{request.path.rsplit('/', 1)[-1]}: the directory of this gateway is managed by "
            "the city's operators (its configuration); ask them to add, change or remove an "
            "agency"
        )

    @signed_by_vdxp
    async def unsupported(self, request: web.Request) -> web.Response:
        raise NotFound(
            f"operation {request.match_info['operation']!r} is not offered by this gateway; "
            f"it answers {', '.join(SUPPORTED)}"
        )
