"""Consuming from RabbitMQ: one subscription, its channels, its local buffer and its handlers.

A subscription opens two robust channels: one consuming the urgent twins, one the normal
queues, each with a per-consumer prefetch (quorum queues refuse a channel-wide one). What
RabbitMQ delivers lands in a local heap ordered by (priority, arrival); at most `prefetch`
handlers run at a time and always take the head, so an urgent message waits only for the next
free handler, however long the normal backlog. When a subscription starts, it first takes the
urgent backlog (as far as its urgent prefetch reaches) before it consumes any normal message.

A message is acknowledged only after its handler returned, or after its retry or dead-letter
copy was confirmed by RabbitMQ; anything else (a crash, a cancelled handler, a lost channel)
leaves it unacknowledged and RabbitMQ delivers it again. A message buffered from a channel that
has since closed is dropped here: RabbitMQ has already put it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

import aiormq
import structlog
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractRobustChannel,
    AbstractRobustConnection,
    AbstractRobustQueue,
)

from gateway.bus.amqp import codec
from gateway.bus.amqp.topology import DELAY_HEADER, Topology
from gateway.bus.base import Handler, Outcome, RetryPolicy, outcome_of, settlement

log = structlog.get_logger("gateway.bus.amqp")

# Settles a message elsewhere: (queue, envelope, attempt, delay_s) for a retry,
# (queue, envelope, attempts, reason) for a dead letter. Both raise BusError on failure.
Retry = Callable[[str, codec.Envelope, int, float], Awaitable[None]]
Bury = Callable[[str, codec.Envelope, int, str], Awaitable[None]]


@dataclass(frozen=True)
class ConsumerTuning:
    close_grace_s: float
    settle_backoff_s: float
    urgent_first_wait_s: float
    operation_timeout_s: float


class Ledger:
    """The deliveries this process holds, per bus queue: RabbitMQ counts them as unacked."""

    def __init__(self) -> None:
        self._held: dict[str, dict[int, int]] = {}
        self._tokens = itertools.count()

    def hold(self, queue: str, published_ms: int) -> int:
        token = next(self._tokens)
        self._held.setdefault(queue, {})[token] = published_ms
        return token

    def release(self, queue: str, token: int) -> None:
        self._held.get(queue, {}).pop(token, None)

    def count(self, queue: str) -> int:
        return len(self._held.get(queue, ()))

    def oldest_ms(self, queue: str) -> int | None:
        return min(self._held.get(queue, {}).values(), default=None)


@dataclass(eq=False, slots=True)
class _Held:
    queue: str
    message: AbstractIncomingMessage
    env: codec.Envelope
    token: int
    released: bool = field(default=False)


def channel_open(message: AbstractIncomingMessage) -> bool:
    try:
        return not message.channel.is_closed
    except aiormq.exceptions.ChannelInvalidStateError:
        return False


class RabbitSubscription:
    def __init__(
        self,
        *,
        connection: AbstractRobustConnection,
        topology: Topology,
        queues: tuple[str, ...],
        handler: Handler,
        prefetch: int,
        urgent_prefetch: int,
        retry_policy: RetryPolicy,
        retry: Retry,
        bury: Bury,
        ledger: Ledger,
        tuning: ConsumerTuning,
        on_stopped: Callable[[RabbitSubscription], None],
    ) -> None:
        self.queues = queues
        self._connection = connection
        self._topology = topology
        self._handler = handler
        self._prefetch = prefetch
        self._urgent_prefetch = urgent_prefetch
        self._policy = retry_policy
        self._retry = retry
        self._bury = bury
        self._ledger = ledger
        self._tuning = tuning
        self._on_stopped = on_stopped
        self._channels: list[AbstractRobustChannel] = []
        self._consumers: list[tuple[AbstractRobustQueue, str]] = []
        self._heap: list[tuple[int, int, _Held]] = []
        self._order = itertools.count()
        self._urgent_arrived: Counter[str] = Counter()
        self._arrival = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._drained = False
        self._dispatcher: asyncio.Task[None] | None = None
        self._stopped: asyncio.Task[None] | None = None
        self._consumers_cancelled = asyncio.Event()

    # --- starting -----------------------------------------------------------------------------
    async def start(self, urgent_backlog: Mapping[str, int]) -> None:
        """Consume the urgent twins, wait for their backlog to arrive, then the normal queues."""
        urgent = await self._open_channel(max(self._prefetch, self._urgent_prefetch))
        for name in self.queues:
            await self._consume(urgent, name, is_urgent=True)
        await self._await_urgent(urgent_backlog)
        normal = await self._open_channel(self._prefetch)
        for name in self.queues:
            await self._consume(normal, name, is_urgent=False)
        self._dispatcher = asyncio.create_task(self._dispatch(), name=f"amqp-dispatch{self.queues}")

    async def _open_channel(self, prefetch: int) -> AbstractRobustChannel:
        channel = await self._connection.channel(publisher_confirms=False)
        self._channels.append(channel)
        channel.reopen_callbacks.add(self._drop_stale)
        # Per consumer, and restored with the channel after a reconnection.
        await channel.set_qos(prefetch_count=prefetch)
        return channel

    async def _consume(self, channel: AbstractRobustChannel, name: str, *, is_urgent: bool) -> None:
        # Declared (not looked up) on the consuming channel so that a reconnection re-declares
        # it before consuming again; the arguments are the ones `declare` used.
        queue = await channel.declare_queue(
            self._topology.work_queue(name, is_urgent),
            durable=True,
            arguments=self._topology.work_arguments(name),
        )
        callback = partial(self._on_message, name, is_urgent)
        tag = await queue.consume(callback)
        self._consumers.append((queue, tag))

    async def _await_urgent(self, backlog: Mapping[str, int]) -> None:
        limit = max(self._prefetch, self._urgent_prefetch)
        wanted = {name: min(count, limit) for name, count in backlog.items() if count > 0}

        def arrived() -> bool:
            return all(self._urgent_arrived[name] >= n for name, n in wanted.items())

        # Bounded: another node may be taking the same backlog.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._tuning.urgent_first_wait_s):
                while not arrived():
                    self._arrival.clear()
                    await self._arrival.wait()

    # --- receiving and dispatching ------------------------------------------------------------
    async def _on_message(
        self, name: str, is_urgent: bool, message: AbstractIncomingMessage
    ) -> None:
        if self._drained:  # arrived after cancel() handed the buffer back
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)
            return
        env = codec.envelope(message, DELAY_HEADER)
        held = _Held(name, message, env, self._ledger.hold(name, env.published_ms))
        heapq.heappush(self._heap, (-env.priority, next(self._order), held))
        if is_urgent:
            self._urgent_arrived[name] += 1
            self._arrival.set()
        self._wake.set()

    async def _dispatch(self) -> None:
        try:
            while not self._stopping:
                self._wake.clear()
                while len(self._tasks) < self._prefetch and self._heap and not self._stopping:
                    _, _, held = heapq.heappop(self._heap)
                    if not channel_open(held.message):  # RabbitMQ has put it back already
                        self._release(held)
                        continue
                    task = asyncio.create_task(self._handle(held))
                    self._tasks.add(task)
                    task.add_done_callback(self._finished)
                await self._wake.wait()
        except Exception:
            log.exception("bus.dispatcher_crashed", queues=list(self.queues))
            raise

    def _drop_stale(self, *_args: object) -> None:
        """A channel was reopened: what it had delivered is back in RabbitMQ's hands."""
        stale = [entry for entry in self._heap if not channel_open(entry[2].message)]
        if stale:
            self._heap = [entry for entry in self._heap if channel_open(entry[2].message)]
            heapq.heapify(self._heap)
            for entry in stale:
                self._release(entry[2])
            log.info("bus.buffer_dropped", queues=list(self.queues), count=len(stale))

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("bus.settle_crashed", error=repr(task.exception()))

    def _release(self, held: _Held) -> None:
        if not held.released:
            held.released = True
            self._ledger.release(held.queue, held.token)

    # --- handling and settling ----------------------------------------------------------------
    async def _handle(self, held: _Held) -> None:
        try:
            outcome = await outcome_of(self._handler, codec.received(held.queue, held.env))
            await self._settle(held, outcome)
        finally:  # a cancelled handler leaves its message unacknowledged: RabbitMQ redelivers it
            self._release(held)

    async def _settle(self, held: _Held, outcome: Outcome) -> None:
        message = held.message
        if not channel_open(message):
            log.warning("bus.settle_lost", queue=held.queue, message_id=held.env.message_id)
            return
        decided = settlement(outcome, held.env.attempt, self._policy)
        try:
            if decided.action == "retry":
                await self._retry(held.queue, held.env, decided.next_attempt, decided.delay_s)
            elif decided.action == "dead":
                await self._bury(held.queue, held.env, decided.attempt, decided.reason)
                log.warning(
                    "bus.dead_lettered",
                    queue=held.queue,
                    message_id=held.env.message_id,
                    attempts=decided.attempt,
                    reason=decided.reason[:200],
                )
            self._release(held)  # settled: its copy (if any) is durable
            if self._stopping:
                # An ack frees a prefetch slot: let RabbitMQ learn first that this consumer is
                # going, or it would send another message only to have it handed back.
                await self._consumers_cancelled.wait()
            await message.ack()
        except Exception as exc:  # BusError or a lost channel: hand it back, later
            log.error(
                "bus.settle_failed",
                queue=held.queue,
                message_id=held.env.message_id,
                outcome=outcome.kind,
                error=str(exc) or type(exc).__name__,
            )
            await asyncio.sleep(self._tuning.settle_backoff_s)
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)

    # --- stopping -----------------------------------------------------------------------------
    async def cancel(self) -> None:
        if self._stopped is None:
            self._stopped = asyncio.create_task(self._stop())
        await asyncio.shield(self._stopped)

    async def _stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._dispatcher is not None:
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        connected = self._connection.connected.is_set()
        if connected:
            for queue, tag in self._consumers:
                await self._quietly(queue.cancel(tag))
        self._consumers_cancelled.set()
        self._drained = True
        await self._hand_back_buffer(connected)
        await self._finish_running()
        for channel in self._channels:
            await self._quietly(channel.close())
        self._on_stopped(self)

    async def _hand_back_buffer(self, connected: bool) -> None:
        # In arrival order: RabbitMQ puts returned messages back at the head in the order they
        # come back, so each queue keeps its order.
        buffered = sorted((order, held) for _, order, held in self._heap)
        self._heap.clear()
        for _, held in buffered:
            if connected and channel_open(held.message):
                await self._quietly(held.message.nack(requeue=True))
            self._release(held)

    async def _finish_running(self) -> None:
        running = set(self._tasks)
        if not running:
            return
        _, pending = await asyncio.wait(running, timeout=self._tuning.close_grace_s)
        if pending:
            log.warning("bus.handlers_abandoned", queues=list(self.queues), count=len(pending))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _quietly(self, operation: Awaitable[object]) -> None:
        """Best effort while stopping: RabbitMQ requeues whatever a dead channel held."""
        try:
            async with asyncio.timeout(self._tuning.operation_timeout_s):
                await operation
        except Exception as exc:
            log.debug("bus.stop_step_failed", error=str(exc) or type(exc).__name__)
