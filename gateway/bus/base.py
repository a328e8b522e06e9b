"""The message bus contract shared by the embedded bus and the RabbitMQ bus.

One queue per destination agency (named by its organ id). Messages are small: the gateway puts
a claim on a stored document on the bus, never the document itself. Delivery is at least once:
a handler that returns acknowledges the message; a handler that raises asks for a retry later,
and after `RetryPolicy.max_attempts` the message is dead-lettered, where an operator can see it
and replay it. A message handed to a handler and not acknowledged when the process dies is
delivered again after restart, so handlers must be idempotent on `message_id`.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

URGENT = 1  # priorities are 0 (normal) to 3 (hỏa tốc); anything above 0 is urgent


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; the delay before attempt n+1 after attempt n failed."""

    max_attempts: int = 10
    initial_delay_s: float = 1.0
    max_delay_s: float = 3600.0
    multiplier: float = 2.0
    jitter: float = 0.2  # +/- this fraction of the delay

    def delay_after(self, attempt: int, rng: random.Random | None = None) -> float:
        base = min(self.max_delay_s, self.initial_delay_s * self.multiplier ** (attempt - 1))
        spread = base * self.jitter
        return max(0.0, base + (rng or random).uniform(-spread, spread))

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts


@dataclass(frozen=True)
class OutgoingMessage:
    queue: str
    message_id: str
    body: bytes
    priority: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReceivedMessage:
    queue: str
    message_id: str
    body: bytes
    priority: int
    headers: Mapping[str, str]
    attempt: int  # 1 on the first delivery


@dataclass(frozen=True)
class QueueStats:
    queue: str
    ready: int
    in_flight: int
    dead: int
    oldest_age_s: float | None
    waiting_retry: int = 0  # failed once, held back until their retry time


@dataclass(frozen=True)
class DeadLetter:
    id: str
    queue: str
    message_id: str
    priority: int
    attempts: int
    reason: str
    dead_at: float  # unix seconds
    size: int


class BusError(Exception):
    """Root of the bus's own errors."""


class BusUnavailable(BusError):
    """The bus could not make the message durable; nothing was published."""


class Unroutable(BusError):
    """No queue is bound for the destination: publishing would drop the message."""


class DeadLetterNotFound(BusError):
    pass


class RetryLater(Exception):
    """Raised by a handler: the destination is temporarily unable to take the message."""

    def __init__(self, reason: str, delay_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay_s = delay_s


class Reject(Exception):
    """Raised by a handler: the message can never be delivered; dead-letter it now."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Handler = Callable[[ReceivedMessage], Awaitable[None]]


class Subscription(Protocol):
    async def cancel(self) -> None:
        """Stop receiving; messages in a handler finish first, unacknowledged ones are kept."""


class Bus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise BusUnavailable unless the bus can take messages now."""

    async def declare(self, queues: Sequence[str]) -> None:
        """Create the queues (idempotent). Publishing to an undeclared queue raises Unroutable."""

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Return only once every message is durable; raise BusUnavailable or Unroutable."""

    async def subscribe(
        self, queues: Sequence[str], handler: Handler, *, prefetch: int = 32
    ) -> Subscription:
        """Deliver messages of these queues to `handler`, urgent ones ahead of normal ones."""

    async def queue_stats(self, queues: Sequence[str]) -> list[QueueStats]: ...

    async def dead_letters(
        self, queue: str | None = None, limit: int = 100
    ) -> list[DeadLetter]: ...

    async def replay(self, dead_letter_id: str) -> None:
        """Put a dead letter back on its queue with a fresh attempt count."""

    async def purge_dead(self, queue: str) -> int: ...
