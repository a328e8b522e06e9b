"""Fakes of the Bus and Database protocols for service tests (no broker, no process kill).

`FakeBus` keeps what was published in memory and can be down. `CrashingDatabase` runs units on a
real in-process SQLite store (units are SQL: a fake of every statement would test the fake) and
can die before a given write, as the process would: the write does not happen, and the
`Crash` it raises is no Exception, so no service code catches it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from gateway.adapter_api import AdapterHost, OutboundItem
from gateway.bus.base import (
    BusUnavailable,
    DeadLetter,
    Handler,
    OutgoingMessage,
    QueueStats,
    Subscription,
)
from gateway.store.db import Database, Unit

T = TypeVar("T")


class FakeBus:
    def __init__(self) -> None:
        self.published: list[OutgoingMessage] = []
        self.down = False
        self.confirms_lost = False  # the broker takes the claims but the confirms never come

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def ping(self) -> None:
        if self.down:
            raise BusUnavailable("the fake broker is down")

    async def declare(self, queues: Sequence[str]) -> None:
        pass

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        await self.ping()
        self.published.extend(messages)
        if self.confirms_lost:
            raise BusUnavailable("the fake broker's confirms timed out")

    async def subscribe(
        self, queues: Sequence[str], handler: Handler, *, prefetch: int = 32
    ) -> Subscription:
        raise NotImplementedError("service tests hand messages to the handler themselves")

    async def queue_stats(self, queues: Sequence[str]) -> list[QueueStats]:
        return []

    async def dead_letters(self, queue: str | None = None, limit: int = 100) -> list[DeadLetter]:
        return []

    async def replay(self, dead_letter_id: str) -> None:
        raise NotImplementedError

    async def purge_dead(self, queue: str) -> int:
        return 0


class Crash(BaseException):
    """The process died here."""


class CrashingDatabase:
    def __init__(self, inner: Database) -> None:
        self.inner = inner
        self.writes = 0
        self.crash_before_write: int | None = None  # 1 = the next write

    async def write(self, unit: Unit[T], *, large: bool = False) -> T:
        self.writes += 1
        if self.crash_before_write == self.writes:
            raise Crash(f"the process died before write {self.writes}")
        return await self.inner.write(unit, large=large)

    async def read(self, unit: Unit[T]) -> T:
        return await self.inner.read(unit)

    async def scan(self, unit: Unit[T]) -> T:
        return await self.inner.scan(unit)

    async def ping(self) -> None:
        await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()


class PushAdapter:
    """Delivers every item at once and confirms it, as a webhook adapter whose receiver
    answered would."""

    def __init__(self, host: AdapterHost) -> None:
        self.host = host
        self.delivered: list[str] = []

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def deliver(self, item: OutboundItem) -> None:
        self.delivered.append(item.delivery_id)
        await self.host.confirm_delivered(item, "200 OK")
