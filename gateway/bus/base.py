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
from typing import Literal, Protocol

import structlog

log = structlog.get_logger("gateway.bus")

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


class BusFull(BusUnavailable):
    """The bus's disk is full: nothing was published."""


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


# --- settling a handled message: the same decision and attempt numbering on every bus ---------
@dataclass(frozen=True, slots=True)
class Outcome:
    """What a handler's return or exception asks of the bus."""

    kind: Literal["ack", "retry", "reject"]
    reason: str = ""
    delay_s: float | None = None


ACK = Outcome("ack")


async def outcome_of(handler: Handler, message: ReceivedMessage) -> Outcome:
    """Run `handler` on `message` and read what it asks: an unexpected exception is a retry."""
    try:
        await handler(message)
    except RetryLater as exc:
        return Outcome("retry", exc.reason, exc.delay_s)
    except Reject as exc:
        return Outcome("reject", exc.reason)
    except Exception as exc:
        log.warning(
            "bus.handler_failed",
            queue=message.queue,
            message_id=message.message_id,
            attempt=message.attempt,
            error_type=type(exc).__name__,
        )
        return Outcome("retry", f"{type(exc).__name__}: {exc}")
    return ACK


@dataclass(frozen=True, slots=True)
class Settlement:
    """What becomes of a message after delivery number `attempt` (1 on the first): `ack` removes
    it, `retry` delivers it again as attempt `attempt + 1` after `delay_s`, `dead` moves it to
    the dead letters, which record `attempt` attempts."""

    action: Literal["ack", "retry", "dead"]
    attempt: int
    delay_s: float = 0.0
    reason: str = ""

    @property
    def next_attempt(self) -> int:
        return self.attempt + 1


def settlement(outcome: Outcome, attempt: int, policy: RetryPolicy) -> Settlement:
    """Retry or dead-letter: a retry while `policy` allows another attempt, else a dead letter
    (a rejection goes there at once)."""
    if outcome.kind == "ack":
        return Settlement("ack", attempt)
    if outcome.kind == "retry" and not policy.exhausted(attempt):
        delay = outcome.delay_s if outcome.delay_s is not None else policy.delay_after(attempt)
        return Settlement("retry", attempt, max(0.0, delay), outcome.reason)
    return Settlement("dead", attempt, reason=outcome.reason)
