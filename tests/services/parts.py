"""The intake, the exchange and the dispatcher built as gateway.app builds them, on fakes
(tests/services/fakes.py), with a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from gateway.app import retry_policy
from gateway.audit import chain as audit
from gateway.bus.base import ReceivedMessage
from gateway.config import Settings
from gateway.delivery.backoff import BackoffPolicy
from gateway.delivery.dispatcher import Dispatcher, GatewayHost
from gateway.delivery.listeners import Listeners
from gateway.delivery.pacing import Pacing
from gateway.directory import Directory
from gateway.edxml import XmlLimits
from gateway.intake.exchange import Exchange
from gateway.intake.pipeline import Intake, build_intake
from gateway.intake.refusals import RefusalLog
from gateway.intake.submission import Submission
from tests.services.fakes import CrashingDatabase, FakeBus, PushAdapter

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = 1_790_000_000.0


async def signatures_not_checked(sub: Submission) -> None:
    """The signature step is trust's (tests/trust); these tests are about what comes after."""


@dataclass
class Services:
    settings: Settings
    db: CrashingDatabase
    bus: FakeBus
    directory: Directory
    exchange: Exchange
    intake: Intake
    adapters: dict[str, PushAdapter]
    dispatcher: Dispatcher

    def restarted(self) -> Services:
        """The same store a minute after the process died: a new process, a new bus link."""
        return build(self.settings, CrashingDatabase(self.db.inner), FakeBus(), now=NOW + 60)

    async def audited(self, event: str) -> int:
        rows = await self.db.read(lambda tx: audit.page(tx, 0, 1000))
        return sum(1 for row in rows if row["event"] == event)


def build(settings: Settings, db: CrashingDatabase, bus: FakeBus, now: float = NOW) -> Services:
    def clock() -> float:
        return now

    directory = Directory(settings)
    exchange = Exchange(db, bus, clock, TZ)
    limits = XmlLimits(max_bytes=settings.limits.max_document_bytes)
    intake = build_intake(
        directory=directory,
        db=db,
        exchange=exchange,
        refusals=RefusalLog(db, clock, TZ),
        limits=limits,
        max_recipients=settings.limits.max_recipients,
        signatures=signatures_not_checked,
    )
    host = GatewayHost(db, clock, intake, directory)
    adapters = {agency.id: PushAdapter(host) for agency in directory}
    pacing = Pacing(
        bus=bus,
        db=db,
        clock=clock,
        policy=BackoffPolicy.of(settings.adapters),
        instances={},
        prefetch=1,
    )
    dispatcher = Dispatcher(
        bus=bus,
        db=db,
        host=host,
        adapters=adapters,
        retry=retry_policy(settings),
        pacing=pacing,
        listeners=Listeners(adapters, clock),
    )
    return Services(settings, db, bus, directory, exchange, intake, adapters, dispatcher)


def received(services: Services, index: int, attempt: int = 1) -> ReceivedMessage:
    """The `index`th claim the bus got, as a consumer receives it."""
    sent = services.bus.published[index]
    return ReceivedMessage(
        queue=sent.queue,
        message_id=sent.message_id,
        body=sent.body,
        priority=sent.priority,
        headers=dict(sent.headers),
        attempt=attempt,
    )
