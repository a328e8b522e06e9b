"""From the bus to the recipients' adapters, and the gateway side of the adapter API."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from gateway.adapter_api import (
    Adapter,
    AdapterFactory,
    OptionsError,
    OutboundItem,
    PermanentFailure,
    SubmissionRefused,
    Submitted,
    TemporaryFailure,
)
from gateway.audit import chain as audit
from gateway.audit.events import Event, EventName
from gateway.bus import metrics as bus_metrics
from gateway.bus.base import Bus, ReceivedMessage, Reject, RetryLater, RetryPolicy
from gateway.clock import Clock
from gateway.config import ConfigError, Settings
from gateway.delivery.host import CoreHost, InstanceHost, instances
from gateway.delivery.listeners import Listeners
from gateway.delivery.pacing import Pacing
from gateway.directory import Directory
from gateway.edxml import StatusMessage
from gateway.errors import Forbidden, GatewayError
from gateway.intake.claim import Claim
from gateway.intake.pipeline import Intake
from gateway.intake.submission import Submission
from gateway.log import get_logger
from gateway.store import messages as store
from gateway.store.db import Database, Tx
from gateway.store.messages import DELIVERED, FAILED, INBOX, QUEUED, DeliveryState

log = get_logger(__name__)

ADAPTER_GROUP = "edocgw.adapters"
# A replayed dead letter finds its delivery marked failed and must be able to leave that state.
DELIVERABLE = (QUEUED, FAILED)


class GatewayHost:
    """What adapters may do to the gateway (gateway.adapter_api.AdapterHost)."""

    def __init__(self, db: Database, clock: Clock, intake: Intake, directory: Directory) -> None:
        self._db = db
        self._clock = clock
        self._intake = intake
        self._directory = directory

    async def submit(
        self,
        raw: bytes,
        *,
        sender: str,
        secrecy: str | None = None,
        beyond: Collection[str] | None = None,
    ) -> Submitted:
        caller = self._directory.get(sender)
        if caller is None:
            raise SubmissionRefused(Forbidden(f"{sender} is not in the directory").problem())
        sub = Submission(
            raw=raw,
            caller=caller,
            received_at=self._clock(),
            declared_secrecy=secrecy,
            beyond=None if beyond is None else frozenset(beyond),
        )
        try:
            receipt = await self._intake.submit(sub)
        except GatewayError as error:
            raise SubmissionRefused(error.problem()) from error
        return Submitted(
            message_id=receipt.message_id,
            kind="status" if isinstance(sub.message, StatusMessage) else "edoc",
            document_id=receipt.document_id,
            recipients=tuple(d.recipient for d in receipt.deliveries),
            replayed=receipt.replayed,
            left_to_others=sub.left_to_others,
        )

    async def read_body(self, item: OutboundItem) -> bytes:
        found = await self._db.read(lambda tx: store.body(tx, item.message_id))
        if found is None:
            raise PermanentFailure(f"message {item.message_id} is no longer stored")
        return found

    async def hold_for_pickup(self, item: OutboundItem) -> None:
        await self._move(item, INBOX, {"via": "mailbox"})

    async def confirm_delivered(self, item: OutboundItem, detail: str) -> None:
        await self._move(item, DELIVERED, {"via": "push", "detail": detail})

    async def audit_refusal(
        self, agency: str, instance: str, reason: str, details: Mapping[str, str]
    ) -> None:
        data = {"instance": instance, "reason": reason, **details}
        await audit.record(
            self._db, [Event("adapter_refused", at=self._clock(), actor=agency, data=data)]
        )

    async def record_failure(self, item: OutboundItem, reason: str) -> None:
        await self._move(item, FAILED, {"reason": reason}, event="delivery_failed")

    async def _move(
        self,
        item: OutboundItem,
        to_state: DeliveryState,
        data: dict[str, Any],
        event: EventName = "delivered",
    ) -> None:
        now = self._clock()

        async def unit(tx: Tx) -> None:
            for from_state in DELIVERABLE:
                if await store.move_delivery(tx, item.delivery_id, from_state, to_state, now):
                    entry = Event(
                        event,
                        at=now,
                        actor=item.recipient,
                        message_id=item.message_id,
                        recipient=item.recipient,
                        data={"delivery_id": item.delivery_id, "attempt": item.attempt, **data},
                    )
                    await audit.append(tx, [entry])
                    return

        await self._db.write(unit)


def load_adapters(
    directory: Directory,
    host: CoreHost,
    extra: Mapping[str, AdapterFactory] | None = None,
    base_dir: Path | None = None,
) -> dict[str, Adapter]:
    """One adapter instance per agency, from the `edocgw.adapters` entry points (and `extra`);
    relative paths in their options are relative to `base_dir` (the configuration's)."""
    factories: dict[str, AdapterFactory] = {
        ep.name: ep.load() for ep in entry_points(group=ADAPTER_GROUP)
    }
    factories.update(extra or {})
    adapters: dict[str, Adapter] = {}
    named = instances(directory)
    for agency in directory:
        name = agency.delivery.adapter
        factory = factories.get(name)
        if factory is None:
            raise ConfigError(
                f"agency {agency.id}: delivery.adapter {name!r} is not installed "
                f"(installed: {', '.join(sorted(factories))})"
            )
        try:
            adapters[agency.id] = factory(
                instance=named[agency.id].name,
                agency=agency.id,
                options=agency.delivery.options,
                host=InstanceHost(host, named[agency.id], base_dir or Path.cwd()),
            )
        except OptionsError as exc:
            raise ConfigError(f"agency {agency.id}: delivery: {exc}") from exc
    return adapters


class _InertHost:
    """Lets `check_adapters` build adapters without a running gateway."""

    async def submit(
        self,
        raw: bytes,
        *,
        sender: str,
        secrecy: str | None = None,
        beyond: Collection[str] | None = None,
    ) -> Submitted:
        raise RuntimeError("not running")

    async def read_body(self, item: OutboundItem) -> bytes:
        raise RuntimeError("not running")

    async def hold_for_pickup(self, item: OutboundItem) -> None:
        raise RuntimeError("not running")

    async def confirm_delivered(self, item: OutboundItem, detail: str) -> None:
        raise RuntimeError("not running")

    async def audit_refusal(
        self, agency: str, instance: str, reason: str, details: Mapping[str, str]
    ) -> None:
        raise RuntimeError("not running")


def check_adapters(settings: Settings, base_dir: Path | None = None) -> None:
    """Raise ConfigError if an agency names a missing adapter or gives it bad options."""
    load_adapters(Directory(settings), _InertHost(), base_dir=base_dir)


class Dispatcher:
    """Consumes every agency's queue and hands each claim to the recipient's adapter, paced
    per agency (gateway.delivery.pacing)."""

    def __init__(
        self,
        *,
        bus: Bus,
        db: Database,
        host: GatewayHost,
        adapters: Mapping[str, Adapter],
        retry: RetryPolicy,
        pacing: Pacing,
        listeners: Listeners,
    ) -> None:
        self._bus = bus
        self._db = db
        self._host = host
        self._adapters = adapters
        self._retry = retry
        self._pacing = pacing
        self._listeners = listeners

    async def start(self) -> None:
        queues = list(self._adapters)
        await self._bus.declare(queues)
        for adapter in self._adapters.values():
            await adapter.start()
        await self._pacing.start(self.handle)

    async def close(self) -> None:
        await self._pacing.close()
        for adapter in self._adapters.values():
            await adapter.close()

    async def handle(self, message: ReceivedMessage) -> None:
        claim = Claim.from_bytes(message.body)
        current = await self._db.read(lambda tx: store.delivery(tx, claim.delivery_id))
        if current is None or current.state not in DELIVERABLE:
            # Withdrawn (the bus failed mid-publish) or already delivered: a duplicate claim.
            bus_metrics.HANDLED.labels("duplicate").inc()
            return
        item = OutboundItem(
            delivery_id=claim.delivery_id,
            message_id=claim.message_id,
            kind="status" if claim.kind == "status" else "edoc",
            sender=claim.sender,
            recipient=claim.recipient,
            document_id=claim.document_id,
            priority=claim.priority,
            size=claim.size,
            attempt=message.attempt,
        )
        adapter = self._adapters.get(item.recipient)
        if adapter is None:
            raise Reject(f"no adapter for {item.recipient}")
        await self._deliver(adapter, item)

    async def _deliver(self, adapter: Adapter, item: OutboundItem) -> None:
        try:
            await self._pacing.deliver(adapter, item)
        except TemporaryFailure as exc:  # retry_after_s: until the recipient's retry time
            log.warning(
                "delivery_retry",
                delivery_id=item.delivery_id,
                attempt=item.attempt,
                reason=exc.reason,
            )
            exhausted = self._retry.exhausted(item.attempt)
            bus_metrics.HANDLED.labels("dead_lettered" if exhausted else "retried").inc()
            if exhausted:
                await self._host.record_failure(item, exc.reason)
                await self._listeners.announce("delivery_failed", item, exc.reason)
            raise RetryLater(exc.reason, exc.retry_after_s) from exc
        except PermanentFailure as exc:
            bus_metrics.HANDLED.labels("dead_lettered").inc()
            log.warning("delivery_rejected", delivery_id=item.delivery_id, reason=exc.reason)
            await self._host.record_failure(item, exc.reason)
            await self._listeners.announce("delivery_failed", item, exc.reason)
            raise Reject(exc.reason) from exc
        bus_metrics.HANDLED.labels("delivered").inc()
        await self._listeners.announce("delivered", item)
