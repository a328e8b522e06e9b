"""The RabbitMQ topology of the bus: names, arguments and the delay ladder (docs/rabbitmq.md).

Everything is derived from a prefix (default `edocgw`) and the bus queue names (organ ids):

- `<p>.work` (topic): publishes go here with routing key `normal.<q>` or `urgent.<q>`;
  quorum queues `<p>.normal.<q>` and `<p>.urgent.<q>` are bound by those keys.
- `<p>.dead` (topic): dead letters, routing key `<q>`, into the quorum queue `<p>.dead.<q>`.
  The work queues name it as their dead-letter exchange, so RabbitMQ itself moves a message
  there when it exceeds `x-delivery-limit` (a poison message that keeps killing consumers).
- `<p>.delay` (headers): a retry is published here with the header `edocgw-delay: <ms>` and its
  original routing key; the matching queue `<p>.delay.<ms>` holds it for `x-message-ttl` ms,
  then dead-letters it back to `<p>.work` under that routing key.

Quorum queues in RabbitMQ 3.10 have no message priorities, hence the urgent twin of each queue.
At-least-once dead-lettering (`x-dead-letter-strategy`) requires `x-overflow: reject-publish`;
no queue has a length limit, so that overflow rule never refuses anything.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

# Retry delays are rounded up to one of these (milliseconds): a fixed set of shared delay
# queues, each with one TTL, so that messages in a delay queue expire in the order they entered.
DELAY_LADDER_MS: tuple[int, ...] = (
    50,
    100,
    250,
    500,
    1_000,
    2_000,
    4_000,
    8_000,
    15_000,
    30_000,
    60_000,
    120_000,
    240_000,
    480_000,
    900_000,
    1_800_000,
    3_600_000,
)

DELAY_HEADER = "edocgw-delay"  # headers exchanges ignore keys starting with "x-" when matching

NORMAL, URGENT = "normal", "urgent"
_MAX_NAME = 255  # AMQP short string: queue names and routing keys


@dataclass(frozen=True)
class Topology:
    prefix: str = "edocgw"
    delivery_limit: int = 20

    @property
    def work_exchange(self) -> str:
        return f"{self.prefix}.work"

    @property
    def dead_exchange(self) -> str:
        return f"{self.prefix}.dead"

    @property
    def delay_exchange(self) -> str:
        return f"{self.prefix}.delay"

    def routing_key(self, queue: str, urgent: bool) -> str:
        return f"{URGENT if urgent else NORMAL}.{queue}"

    def work_queue(self, queue: str, urgent: bool) -> str:
        return f"{self.prefix}.{self.routing_key(queue, urgent)}"

    def dead_queue(self, queue: str) -> str:
        return f"{self.prefix}.dead.{queue}"

    def delay_queue(self, delay_ms: int) -> str:
        return f"{self.prefix}.delay.{delay_ms}"

    def check_queue_name(self, queue: str) -> None:
        if not isinstance(queue, str) or not queue:
            raise ValueError(f"a queue name must be a non-empty string, not {queue!r}")
        if any(c in queue for c in "*#") or any(ord(c) < 0x21 for c in queue):
            raise ValueError(f"queue name {queue!r} holds a wildcard, a space or a control char")
        longest = len(self.work_queue(queue, urgent=True).encode())
        if longest > _MAX_NAME:
            raise ValueError(f"queue name {queue!r} is too long for RabbitMQ names")

    # --- arguments ------------------------------------------------------------------------
    def work_arguments(self, queue: str) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": self.dead_exchange,
            "x-dead-letter-routing-key": queue,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    def dead_arguments(self) -> dict[str, Any]:
        return {"x-queue-type": "quorum"}

    def delay_arguments(self, delay_ms: int) -> dict[str, Any]:
        # No x-dead-letter-routing-key: a message goes back under the key it was published with.
        return {
            "x-queue-type": "quorum",
            "x-message-ttl": delay_ms,
            "x-dead-letter-exchange": self.work_exchange,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }


def delay_step(delay_s: float) -> int:
    """The ladder step (ms) a retry delay is rounded up to; the longest step caps it."""
    wanted = max(0, int(delay_s * 1000 + 0.999))
    index = bisect.bisect_left(DELAY_LADDER_MS, wanted)
    return DELAY_LADDER_MS[min(index, len(DELAY_LADDER_MS) - 1)]
