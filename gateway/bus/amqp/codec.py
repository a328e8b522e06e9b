"""How bus messages travel as AMQP messages, and how they are read back.

The bus message id is the AMQP `message_id`, its priority the AMQP `priority` property (quorum
queues ignore it: routing to the urgent twin is what orders delivery). The bus's own bookkeeping
rides in headers prefixed `x-edocgw-`, always as integers or strings: aio-pika would send a
Python float as a 32-bit float, which turns a timestamp into nonsense. Headers starting with
`x-` belong to the broker or to the bus and are never handed to a handler.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from gateway.bus.base import DeadLetter, OutgoingMessage, ReceivedMessage

ATTEMPT = "x-edocgw-attempt"  # the attempt number of the next delivery; absent means 1
PUBLISHED_MS = "x-edocgw-published-ms"  # when the message was first published (unix ms)
DEAD_ID = "x-edocgw-dead-id"
DEAD_REASON = "x-edocgw-dead-reason"
DEAD_AT_MS = "x-edocgw-dead-at-ms"
DEAD_ATTEMPTS = "x-edocgw-dead-attempts"

PRIORITIES = 4  # 0 normal, 1-3 urgent, as on the embedded bus
MAX_REASON = 1000  # characters of a failure reason kept with a dead letter


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Envelope:
    """A bus message between deliveries: what a retry, a dead letter or a replay carries on."""

    message_id: str
    body: bytes
    priority: int
    headers: Mapping[str, str]
    attempt: int = 1
    published_ms: int = field(default_factory=now_ms)

    @property
    def urgent(self) -> bool:
        return self.priority > 0

    def amqp(self, **extra: Any) -> aio_pika.Message:
        headers: dict[str, Any] = {**self.headers, PUBLISHED_MS: self.published_ms}
        if self.attempt != 1:
            headers[ATTEMPT] = self.attempt
        headers.update(extra)
        return aio_pika.Message(
            self.body,
            headers=headers,
            message_id=self.message_id,
            priority=self.priority,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )


def outgoing(message: OutgoingMessage, delay_header: str) -> Envelope:
    if not 0 <= message.priority < PRIORITIES:
        raise ValueError(f"priority must be 0 to {PRIORITIES - 1}, not {message.priority}")
    for key in message.headers:
        if key.startswith("x-") or key == delay_header:
            raise ValueError(f"header {key!r} is reserved for the broker and the bus")
    return Envelope(message.message_id, message.body, message.priority, dict(message.headers))


def envelope(message: AbstractIncomingMessage, delay_header: str) -> Envelope:
    raw = message.headers or {}
    user = {
        key: _text(value)
        for key, value in raw.items()
        if not key.startswith("x-") and key != delay_header
    }
    priority = message.priority or 0
    return Envelope(
        message_id=message.message_id or "",
        body=message.body,
        priority=min(max(priority, 0), PRIORITIES - 1),
        headers=user,
        attempt=max(1, _int(raw.get(ATTEMPT), 1)),
        published_ms=_int(raw.get(PUBLISHED_MS), now_ms()),
    )


def received(queue: str, env: Envelope) -> ReceivedMessage:
    return ReceivedMessage(
        queue=queue,
        message_id=env.message_id,
        body=env.body,
        priority=env.priority,
        headers=env.headers,
        attempt=env.attempt,
    )


def dead_headers(attempts: int, reason: str) -> dict[str, Any]:
    return {
        DEAD_ID: uuid.uuid4().hex,
        DEAD_REASON: reason[:MAX_REASON],
        DEAD_AT_MS: now_ms(),
        DEAD_ATTEMPTS: attempts,
    }


def dead_letter(queue: str, message: AbstractIncomingMessage, delay_header: str) -> DeadLetter:
    """Read a message of a dead-letter queue: one the bus buried, or one RabbitMQ moved there."""
    raw = message.headers or {}
    env = envelope(message, delay_header)
    token = raw.get(DEAD_ID)
    if token is not None:
        return DeadLetter(
            id=dead_letter_id(queue, _text(token)),
            queue=queue,
            message_id=env.message_id,
            priority=env.priority,
            attempts=_int(raw.get(DEAD_ATTEMPTS), env.attempt),
            reason=_text(raw.get(DEAD_REASON, "")),
            dead_at=_int(raw.get(DEAD_AT_MS), 0) / 1000,
            size=len(message.body),
        )
    # Dead-lettered by RabbitMQ (x-delivery-limit): no id of ours, so derive a stable one.
    death = _first_death(raw)
    dead_at = death.get("time")
    at = dead_at.timestamp() if isinstance(dead_at, datetime) else 0.0
    digest = hashlib.sha256(
        f"{env.message_id}|{env.published_ms}|{at}|{death.get('count')}".encode()
    ).hexdigest()[:32]
    why = _text(death.get("reason", "unknown"))
    return DeadLetter(
        id=dead_letter_id(queue, f"b{digest}"),
        queue=queue,
        message_id=env.message_id,
        priority=env.priority,
        attempts=env.attempt,
        reason=f"dead-lettered by RabbitMQ: {why}"
        + (" (delivered too often without being settled)" if why == "delivery_limit" else ""),
        dead_at=at,
        size=len(message.body),
    )


def dead_letter_id(queue: str, token: str) -> str:
    return f"{queue}:{token}"


def split_dead_letter_id(dead_letter_id: str) -> tuple[str, str] | None:
    queue, sep, token = dead_letter_id.rpartition(":")
    return (queue, token) if sep and queue and token else None


def _first_death(headers: Mapping[str, Any]) -> Mapping[str, Any]:
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], Mapping):
        return deaths[0]
    return {}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
