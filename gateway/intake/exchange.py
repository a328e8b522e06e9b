"""Recording and publishing accepted messages: the last steps of the intake.

The order is what makes "202 means it will arrive" true:
1. record the message, its body and one delivery per recipient (not yet published);
2. publish one claim per delivery and wait for the bus to confirm each durably;
3. mark the message published and append the "accepted" audit events; answer 202.
If the bus refuses (2), the record is withdrawn and the caller gets 503: nothing was accepted.
If the process dies between 1 and 3, the sender got no answer; the record is found unpublished
at start-up (or when the sender retries) and published then. Consumers deliver a claim only
while its delivery is still queued, so a claim published twice is delivered once.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from gateway.audit import chain as audit
from gateway.audit.events import Event
from gateway.bus import metrics as bus_metrics
from gateway.bus.base import Bus, BusError, BusFull
from gateway.clock import Clock, iso
from gateway.edxml.model import Code
from gateway.errors import DuplicateConflict, InsufficientStorage, Unavailable
from gateway.ids import new_id
from gateway.intake.claim import Claim
from gateway.log import get_logger
from gateway.sizes import is_large
from gateway.stats.counting import local_day
from gateway.store import messages as store
from gateway.store.db import Database, StoreError, StoreFull, Tx
from gateway.store.messages import QUEUED, DeliveryRecord, MessageRecord

if TYPE_CHECKING:
    from gateway.intake.submission import Submission

log = get_logger(__name__)


@dataclass(frozen=True)
class Receipt:
    message_id: str
    document_id: str
    deliveries: tuple[DeliveryRecord, ...]
    replayed: bool  # the same bytes were accepted before: the answer is the earlier one


def acceptance_events(
    record: MessageRecord, deliveries: Sequence[DeliveryRecord], tz: ZoneInfo
) -> list[Event]:
    """The audit entries that say a message was accepted: one per recipient (and, for a
    status, one on the trace of the document it answers). Pure, so a recovery can rebuild them."""
    signature = json.loads(record.signature)
    day = local_day(record.received_at, tz)
    entries = [
        Event(
            "accepted",
            at=record.received_at,
            actor=record.sender,
            message_id=record.id,
            recipient=d.recipient,
            data={
                "kind": record.kind,
                "document_id": record.document_id,
                "business_type": record.business_type,
                "paper_copy": record.paper_copy,
                "priority": record.priority,
                "size": record.size,
                "delivery_id": d.delivery_id,
                "signature": signature.get("status"),
                "day": day,
            },
        )
        for d in deliveries
    ]
    if record.kind == "status" and record.reply_to is not None:
        entries.append(
            Event(
                "status",
                at=record.received_at,
                actor=record.sender,
                message_id=record.reply_to,
                recipient=record.sender,
                data={"status_code": record.status_code, "status_id": record.id},
            )
        )
    return entries


def _code_of(code: Code | None) -> str | None:
    """`CodeNumber/CodeNotation` as written on the document (số/ký hiệu), for searches."""
    if code is None or not (code.code_number or code.code_notation):
        return None
    parts = [p for p in (code.code_number, code.code_notation) if p]
    return "/".join(parts)[:120]


class Exchange:
    def __init__(self, db: Database, bus: Bus, clock: Clock, tz: ZoneInfo) -> None:
        self._db = db
        self._bus = bus
        self._clock = clock
        self._tz = tz

    async def accept_document(self, sub: Submission) -> Receipt:
        doc = sub.document
        sender = doc.sender.organ_id
        record = self._record(
            sub,
            kind="edoc",
            document_id=doc.document_id,
            business_type=doc.business_type,
            dedupe_key=f"edoc|{sender}|{doc.business_type}|{doc.document_id}",
            priority=doc.priority,
            paper_copy=doc.paper_copy,
            code=_code_of(doc.code),
        )
        return await self._accept(record, sub.raw, sub.recipients_ids())

    async def accept_status(self, sub: Submission) -> Receipt:
        status = sub.status
        sha = hashlib.sha256(sub.raw).hexdigest()
        record = self._record(
            sub,
            kind="status",
            document_id=status.response_for.document_id,
            business_type=None,
            dedupe_key=f"status|{status.sender.organ_id}|{sha}",
            priority=0,
            paper_copy=False,
            reply_to=sub.original_id,
            status_code=status.status_code,
        )
        return await self._accept(record, sub.raw, sub.recipients_ids())

    async def republish_pending(self, older_than_s: float) -> int:
        """Publish what a dead process recorded but never confirmed; returns how many."""
        before = self._clock() - older_than_s

        async def pending(tx: Tx) -> list[str]:
            return await store.unpublished_before(tx, before)

        count = 0
        for message_id in await self._db.read(pending):
            loaded = await self._db.read(_loader(message_id))
            if loaded is None:
                continue
            record, deliveries = loaded
            await self._publish(deliveries)
            await self._confirm(record, deliveries)
            count += 1
        if count:
            log.info("republished_pending", messages=count)
        return count

    # -- the three steps -------------------------------------------------------------------------

    def _record(self, sub: Submission, **fields: Any) -> MessageRecord:
        return MessageRecord(
            id=new_id(),
            sender=sub.caller.id,
            sha256=hashlib.sha256(sub.raw).hexdigest(),
            size=len(sub.raw),
            received_at=sub.received_at,
            signature=json.dumps(sub.signature, sort_keys=True),
            **{"reply_to": None, "status_code": None, **fields},
        )

    async def _accept(self, record: MessageRecord, raw: bytes, to: Sequence[str]) -> Receipt:
        deliveries = tuple(
            DeliveryRecord(
                delivery_id=new_id(),
                message_id=record.id,
                recipient=recipient,
                sender=record.sender,
                kind=record.kind,
                document_id=record.document_id,
                priority=record.priority,
                size=record.size,
                received_at=record.received_at,
                state=QUEUED,
            )
            for recipient in to
        )
        earlier = await self._store(record, raw, deliveries)
        if earlier is not None:
            return await self._resend(record, *earlier)
        try:
            await self._publish(deliveries)
        except (Unavailable, InsufficientStorage):
            await self._withdraw(record)
            raise
        await self._confirm(record, deliveries)
        return Receipt(record.id, record.document_id, deliveries, replayed=False)

    async def _store(
        self, record: MessageRecord, raw: bytes, deliveries: Sequence[DeliveryRecord]
    ) -> tuple[MessageRecord, bool] | None:
        """Record the message, or return the one already holding its dedupe key."""

        async def unit(tx: Tx) -> tuple[MessageRecord, bool] | None:
            if await store.insert_message(tx, record, raw, deliveries):
                return None
            # Taken earlier, or by another node whose transaction the insert waited for.
            earlier = await store.by_dedupe_key(tx, record.dedupe_key)
            if earlier is None:  # and withdrawn since, its bus having failed
                raise StoreError(f"the record holding {record.dedupe_key} was just withdrawn")
            return earlier

        try:
            return await self._db.write(unit, large=is_large(len(raw)))
        except StoreFull as exc:
            log.error("store_full", error=str(exc))
            raise InsufficientStorage(
                "the gateway's disk is full; send again once the operator has made room"
            ) from exc
        except StoreError as exc:
            log.error("store_failed", error=str(exc))
            raise Unavailable("the gateway's store is not answering; send again later") from exc

    async def _resend(
        self, record: MessageRecord, earlier: MessageRecord, published: bool
    ) -> Receipt:
        if earlier.sha256 != record.sha256:
            what = (
                f"DocumentId {earlier.document_id!r} with BussinessDocType {earlier.business_type}"
                if earlier.kind == "edoc"
                else "this status"
            )
            raise DuplicateConflict(
                f"{what} was already accepted from {earlier.sender} at {iso(earlier.received_at)}"
                " with other content; send an update (2) or replacement (3) to change it",
                existing_id=earlier.id,
            )
        loaded = await self._db.read(_loader(earlier.id))
        assert loaded is not None
        deliveries = loaded[1]
        if not published:  # the first attempt died before the bus confirmed: finish its work
            await self._publish(deliveries)
            await self._confirm(earlier, deliveries)
        return Receipt(earlier.id, earlier.document_id, tuple(deliveries), replayed=True)

    async def _publish(self, deliveries: Sequence[DeliveryRecord]) -> None:
        started = time.perf_counter()
        try:
            await self._bus.publish([Claim.of(d).to_message() for d in deliveries])
        except BusError as exc:
            bus_metrics.PUBLISH_FAILURES.inc()
            log.error("publish_failed", error=str(exc))
            if isinstance(exc, BusFull):
                raise InsufficientStorage(
                    "the message bus's disk is full; send again once the operator has made room"
                ) from exc
            raise Unavailable("the message bus is not answering; nothing was accepted") from exc
        bus_metrics.CONFIRM_SECONDS.observe(time.perf_counter() - started)
        bus_metrics.PUBLISHED.inc(len(deliveries))

    async def _confirm(self, record: MessageRecord, deliveries: Sequence[DeliveryRecord]) -> None:
        async def unit(tx: Tx) -> None:
            if await store.mark_published(tx, record.id):
                await audit.append(tx, acceptance_events(record, deliveries, self._tz))

        try:
            await self._db.write(unit)
        except StoreError as exc:
            # Published but not confirmed: the sender has no receipt, and the same bytes again
            # finish the work (the dispatcher moves a delivery once, so none comes twice).
            log.error("confirm_failed", message_id=record.id, error=str(exc))
            detail = "could not record the acceptance; send the same bytes again for the receipt"
            if isinstance(exc, StoreFull):
                raise InsufficientStorage(f"the gateway's disk is full and {detail}") from exc
            raise Unavailable(f"the gateway's store {detail}") from exc

    async def _withdraw(self, record: MessageRecord) -> None:
        try:
            await self._db.write(lambda tx: store.delete_unpublished(tx, record.id))
        except StoreError as exc:  # start-up recovery will publish it; the sender will resend
            log.error("withdraw_failed", message_id=record.id, error=str(exc))


def _loader(message_id: str) -> Any:
    async def load(tx: Tx) -> tuple[MessageRecord, list[DeliveryRecord]] | None:
        record = await store.by_id(tx, message_id)
        if record is None:
            return None
        return record, await store.deliveries_of(tx, message_id)

    return load
