"""RabbitBus: the bus on RabbitMQ (aio-pika), for several gateway nodes.

The topology is in `_amqp_topology.py` and docs/rabbitmq.md; consuming in `_amqp_consumer.py`.

- Publishing: one robust channel in confirm mode, `mandatory=True`. Concurrent publishes share
  it and their confirms overlap (awaiting each confirm before the next publish would cap this
  machine near 1,000 messages/s). A returned message raises Unroutable; a nack, a timeout or a
  lost connection raises BusUnavailable; while the connection is down publishing fails at once.
- Retries are copies published to a delay queue (rounded up to a step of the delay ladder) with
  the next attempt number in a header, then the original is acknowledged. Dead letters are
  copies published to the agency's dead-letter queue with the reason, then acknowledged.
  RabbitMQ dead-letters by itself a message delivered `delivery_limit` times without being
  settled: a poison message that kills its consumers.
- Operator calls use short-lived plain channels: queue depths come from passive declares (ready
  messages only); `in_flight`, `oldest_age_s` and `waiting_retry` are what this process holds,
  since RabbitMQ tells none of them without its management API. Listing dead letters takes
  them without acknowledging and hands them back; replaying republishes one and acknowledges it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection
from aio_pika.message import IncomingMessage
from aiormq.abc import AbstractChannel, DeliveredMessage
from pamqp import commands as spec
from pamqp.common import FieldValue
from yarl import URL

from gateway.bus.amqp import codec
from gateway.bus.amqp.consumer import ConsumerTuning, Ledger, RabbitSubscription
from gateway.bus.amqp.topology import DELAY_HEADER, DELAY_LADDER_MS, Topology, delay_step
from gateway.bus.base import (
    BusError,
    BusUnavailable,
    DeadLetter,
    DeadLetterNotFound,
    Handler,
    OutgoingMessage,
    QueueStats,
    RetryPolicy,
    Subscription,
    Unroutable,
)
from gateway.bus.retries import PendingRetries

__all__ = ["RabbitBus", "RabbitTuning"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RabbitTuning:
    prefix: str = "edocgw"  # of every exchange and queue name
    # Deliveries without a settlement (consumer died, channel lost) before RabbitMQ
    # dead-letters the message; failed attempts are counted apart, by RetryPolicy.
    delivery_limit: int = 20
    urgent_prefetch: int = (
        16  # urgent deliveries a subscription holds per queue (at least prefetch)
    )
    publish_timeout_s: float = 10.0
    operation_timeout_s: float = 10.0
    ping_timeout_s: float = 2.0
    connect_timeout_s: float = 10.0
    reconnect_interval_s: float = 1.0
    heartbeat_s: int = 15
    close_grace_s: float = 30.0
    settle_backoff_s: float = 1.0
    urgent_first_wait_s: float = 2.0
    publisher_channels: int = 4
    dead_scan_limit: int = 10_000  # dead letters a replay looks through for the one it wants


_HAND_BACK_WAIT_S = 2.0
_COUNT_LANES = 8  # channels asking queue depths at once
_DEFAULT_RETRY = RetryPolicy()
_DEFAULT_TUNING = RabbitTuning()
_State = Literal["new", "started", "closing", "closed"]


class RabbitBus:
    def __init__(
        self,
        url: str,
        *,
        retry: RetryPolicy = _DEFAULT_RETRY,
        tuning: RabbitTuning = _DEFAULT_TUNING,
    ) -> None:
        self._url = URL(url)
        self._retry = retry
        self._tuning = tuning
        self.topology = Topology(tuning.prefix, tuning.delivery_limit)
        self._state: _State = "new"
        self._connection: AbstractRobustConnection | None = None
        self._publishers: list[_Publisher] = []
        self._next_publisher = itertools.count()
        self._queues: set[str] = set()
        self._subscriptions: set[RabbitSubscription] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._ledger = Ledger()
        self._retries = PendingRetries()
        self._lost = False

    def __repr__(self) -> str:
        return f"RabbitBus({self.where!r}, {self._state})"

    @property
    def where(self) -> str:
        """host:port/vhost, for messages and logs (never the credentials)."""
        return f"{self._url.host}:{self._url.port or 5672}{self._url.path or '/'}"

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self._state == "started":
            return
        if self._state != "new":
            raise BusUnavailable(f"{self!r} cannot be started again; create a new RabbitBus")
        connection = aio_pika.RobustConnection(
            self._connection_url(),
            reconnect_interval=self._tuning.reconnect_interval_s,
            client_properties={"connection_name": _connection_name()},
        )
        self._connection = connection
        try:
            # Bounded as a whole: a broker that accepts connections but does not answer (still
            # starting, overloaded) must not hold up the gateway's start for ever.
            async with asyncio.timeout(
                self._tuning.connect_timeout_s + 2 * self._tuning.operation_timeout_s
            ):
                await connection.connect(timeout=self._tuning.connect_timeout_s)
                for _ in range(self._tuning.publisher_channels):
                    self._publishers.append(await self._open_publisher(connection))
                await self._declare_shared()
        except BaseException as exc:
            self._state = "closed"
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._tuning.operation_timeout_s):
                    await connection.close()
            if isinstance(exc, Exception) and not isinstance(exc, BusError):
                where = self.where
                raise BusUnavailable(f"cannot start on RabbitMQ at {where}: {_why(exc)}") from exc
            raise
        connection.close_callbacks.add(self._on_connection_lost)
        connection.reconnect_callbacks.add(self._on_reconnected)
        self._state = "started"
        log.info("bus.started", rabbitmq=self.where, prefix=self.topology.prefix)

    def _connection_url(self) -> URL:
        if "heartbeat" in self._url.query:
            return self._url
        return self._url.update_query(heartbeat=str(self._tuning.heartbeat_s))

    async def _open_publisher(self, connection: AbstractRobustConnection) -> _Publisher:
        # Exchanges are declared through this robust channel, so a reconnection re-declares them.
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        topo = self.topology
        exchanges: dict[str, AbstractExchange] = {}
        for name, kind in (
            (topo.work_exchange, aio_pika.ExchangeType.TOPIC),
            (topo.dead_exchange, aio_pika.ExchangeType.TOPIC),
            (topo.delay_exchange, aio_pika.ExchangeType.HEADERS),
        ):
            exchanges[name] = await channel.declare_exchange(name, kind, durable=True)
        return _Publisher(channel, exchanges)

    async def close(self) -> None:
        """Stop subscriptions (running handlers finish and settle), then disconnect."""
        if self._state in ("closing", "closed"):
            return
        started = self._state == "started"
        self._state = "closing"
        try:
            if started:
                await asyncio.gather(*(sub.cancel() for sub in list(self._subscriptions)))
            for task in list(self._background):
                task.cancel()
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self._tuning.operation_timeout_s):
                        await self._connection.close()
        finally:
            self._state = "closed"
            log.info("bus.closed", rabbitmq=self.where)

    def _on_connection_lost(self, _: object, exc: BaseException | None = None) -> None:
        # Called again for every failed reconnection attempt: say it once per outage.
        if self._state == "started" and not self._lost:
            self._lost = True
            log.warning("bus.connection_lost", rabbitmq=self.where, error=_why(exc))

    def _on_reconnected(self, _: object) -> None:
        # The broker may have come back without our topology (a new node): declare it again.
        self._lost = False
        log.info("bus.reconnected", rabbitmq=self.where)
        task = asyncio.create_task(self._redeclare())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _redeclare(self) -> None:
        try:
            await self._declare_shared()
            await self._declare_queues(sorted(self._queues))
        except Exception as exc:
            log.error("bus.redeclare_failed", rabbitmq=self.where, error=_why(exc))

    async def ping(self) -> None:
        channel = await self._publisher_channel()
        try:
            async with asyncio.timeout(self._tuning.ping_timeout_s):
                await channel.exchange_declare(self.topology.work_exchange, passive=True)
        except Exception as exc:
            raise BusUnavailable(f"RabbitMQ at {self.where} is not answering: {_why(exc)}") from exc

    # --- topology -------------------------------------------------------------------------
    async def declare(self, queues: Sequence[str]) -> None:
        self._require_started()
        names = list(dict.fromkeys(queues))
        for name in names:
            self.topology.check_queue_name(name)
        new = [name for name in names if name not in self._queues]
        if new:
            await self._declare_queues(new)
            self._queues.update(new)

    async def _declare_shared(self) -> None:
        topo, timeout = self.topology, self._tuning.operation_timeout_s
        async with self._plain_channel() as ch:
            for step in DELAY_LADDER_MS:
                name = topo.delay_queue(step)
                args = topo.delay_arguments(step)
                await ch.queue_declare(name, durable=True, arguments=args, timeout=timeout)
                binding: dict[str, FieldValue] = {"x-match": "all", DELAY_HEADER: str(step)}
                await ch.queue_bind(name, topo.delay_exchange, arguments=binding, timeout=timeout)

    async def _declare_queues(self, names: Sequence[str]) -> None:
        topo, timeout = self.topology, self._tuning.operation_timeout_s
        async with self._plain_channel() as ch:
            for name in names:
                args = topo.work_arguments(name)
                for urgent in (False, True):
                    queue, key = topo.work_queue(name, urgent), topo.routing_key(name, urgent)
                    await ch.queue_declare(queue, durable=True, arguments=args, timeout=timeout)
                    await ch.queue_bind(queue, topo.work_exchange, key, timeout=timeout)
                dead = topo.dead_queue(name)
                args = topo.dead_arguments()
                await ch.queue_declare(dead, durable=True, arguments=args, timeout=timeout)
                await ch.queue_bind(dead, topo.dead_exchange, name, timeout=timeout)

    # --- publishing -----------------------------------------------------------------------
    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self._require_started()
        envelopes = []
        for message in messages:
            self.topology.check_queue_name(message.queue)
            envelopes.append((message.queue, codec.outgoing(message, DELAY_HEADER)))
        if not envelopes:
            return
        self._require_connected()
        # One channel for the whole call: its messages reach their queues in the order given.
        exchange = self._exchange(self.topology.work_exchange)
        results = await asyncio.gather(
            *(
                self._send(exchange, self.topology.routing_key(queue, env.urgent), env.amqp())
                for queue, env in envelopes
            ),
            return_exceptions=True,
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            unroutable = [f for f in failures if isinstance(f, Unroutable)]
            raise (unroutable or failures)[0]

    async def _send(
        self, exchange: AbstractExchange, routing_key: str, message: aio_pika.Message
    ) -> None:
        try:
            async with asyncio.timeout(self._tuning.publish_timeout_s):
                await exchange.publish(message, routing_key, mandatory=True)
        except aiormq.exceptions.PublishError as exc:
            raise Unroutable(f"no queue is bound to {routing_key!r} on {exchange.name}") from exc
        except aiormq.exceptions.DeliveryError as exc:
            raise BusUnavailable(f"RabbitMQ refused to store a message for {routing_key}") from exc
        except TimeoutError as exc:
            raise BusUnavailable(
                f"RabbitMQ did not confirm within {self._tuning.publish_timeout_s}s"
            ) from exc
        except aio_pika.exceptions.CONNECTION_EXCEPTIONS as exc:
            raise BusUnavailable(f"RabbitMQ at {self.where}: {_why(exc)}") from exc

    async def _publish_retry(
        self, queue: str, env: codec.Envelope, attempt: int, delay_s: float
    ) -> None:
        step = delay_step(delay_s)
        message = replace(env, attempt=attempt).amqp(**{DELAY_HEADER: str(step)})
        routing_key = self.topology.routing_key(queue, env.urgent)
        await self._send(self._exchange(self.topology.delay_exchange), routing_key, message)
        self._retries.add(queue, codec.now_ms() + step)
        log.debug("bus.retry_scheduled", queue=queue, attempt=attempt, delay_ms=step)

    async def _publish_dead(
        self, queue: str, env: codec.Envelope, attempts: int, reason: str
    ) -> None:
        message = env.amqp(**codec.dead_headers(attempts, reason))
        await self._send(self._exchange(self.topology.dead_exchange), queue, message)

    # --- consuming ------------------------------------------------------------------------
    async def subscribe(
        self, queues: Sequence[str], handler: Handler, *, prefetch: int = 32
    ) -> Subscription:
        connection = self._require_started()
        if prefetch < 1:
            raise ValueError(f"prefetch must be at least 1, not {prefetch}")
        names = tuple(dict.fromkeys(queues))
        if not names:
            raise Unroutable("cannot subscribe to no queue at all")
        backlog = await self._urgent_backlog(names)
        t = self._tuning
        subscription = RabbitSubscription(
            connection=connection,
            topology=self.topology,
            queues=names,
            handler=handler,
            prefetch=prefetch,
            urgent_prefetch=t.urgent_prefetch,
            retry_policy=self._retry,
            retry=self._publish_retry,
            bury=self._publish_dead,
            ledger=self._ledger,
            tuning=ConsumerTuning(
                t.close_grace_s, t.settle_backoff_s, t.urgent_first_wait_s, t.operation_timeout_s
            ),
            on_stopped=self._subscriptions.discard,
        )
        self._subscriptions.add(subscription)
        try:
            await subscription.start(backlog)
        except BaseException as exc:
            await subscription.cancel()
            if isinstance(exc, Exception) and not isinstance(exc, BusError):
                raise BusUnavailable(f"cannot consume {list(names)}: {_why(exc)}") from exc
            raise
        self._queues.update(names)
        return subscription

    async def _urgent_backlog(self, names: Sequence[str]) -> dict[str, int]:
        """Ready urgent messages per queue; Unroutable if a queue was never declared."""
        topo = self.topology
        counts = await self._ready_counts(
            [topo.work_queue(n, urgent) for n in names for urgent in (False, True)]
        )
        missing = [
            n for n in names if None in (counts[topo.work_queue(n, u)] for u in (False, True))
        ]
        if missing:
            raise Unroutable(f"cannot subscribe to undeclared queues {missing}")
        return {n: counts[topo.work_queue(n, urgent=True)] or 0 for n in names}

    async def _ready_counts(self, rabbit_queues: Sequence[str]) -> dict[str, int | None]:
        """Passive declares, spread over a few channels: one channel answers one at a time."""
        counts: dict[str, int | None] = {}
        lanes = max(1, min(_COUNT_LANES, len(rabbit_queues)))

        async def lane(names: Sequence[str]) -> None:
            async with self._operations() as ops:
                for name in names:
                    counts[name] = await ops.ready(name)

        await asyncio.gather(*(lane(rabbit_queues[k::lanes]) for k in range(lanes)))
        return counts

    # --- operations -----------------------------------------------------------------------
    async def queue_stats(self, queues: Sequence[str]) -> list[QueueStats]:
        self._require_started()
        topo = self.topology
        counts = await self._ready_counts(
            [
                name
                for q in queues
                for name in (
                    topo.work_queue(q, False),
                    topo.work_queue(q, True),
                    topo.dead_queue(q),
                )
            ]
        )
        now = codec.now_ms()
        stats: list[QueueStats] = []
        for q in queues:
            oldest = self._ledger.oldest_ms(q)
            stats.append(
                QueueStats(
                    queue=q,
                    ready=(counts[topo.work_queue(q, False)] or 0)
                    + (counts[topo.work_queue(q, True)] or 0),
                    in_flight=self._ledger.count(q),
                    dead=counts[topo.dead_queue(q)] or 0,
                    oldest_age_s=None if oldest is None else max(0.0, (now - oldest) / 1000),
                    waiting_retry=self._retries.count(q, now),
                )
            )
        return stats

    async def dead_letters(self, queue: str | None = None, limit: int = 100) -> list[DeadLetter]:
        self._require_started()
        if limit < 0:
            raise ValueError(f"limit must not be negative, not {limit}")
        names = [queue] if queue is not None else sorted(self._queues)
        letters: list[DeadLetter] = []
        for name in names:
            if len(letters) >= limit:
                break
            # One channel per queue: closing it hands back what was only looked at.
            async with self._operations() as ops:
                for raw in await ops.take(self.topology.dead_queue(name), limit - len(letters)):
                    letters.append(codec.dead_letter(name, IncomingMessage(raw), DELAY_HEADER))
                await ops.hand_back()
        return letters

    async def replay(self, dead_letter_id: str) -> None:
        self._require_started()
        parsed = codec.split_dead_letter_id(dead_letter_id)
        if parsed is None:
            raise DeadLetterNotFound(f"no dead letter {dead_letter_id!r}")
        name = parsed[0]
        async with self._operations() as ops:
            found = await ops.find(
                self.topology.dead_queue(name),
                lambda raw: (
                    codec.dead_letter(name, IncomingMessage(raw), DELAY_HEADER).id == dead_letter_id
                ),
                self._tuning.dead_scan_limit,
            )
            if found is None:
                await ops.hand_back()
                raise DeadLetterNotFound(f"no dead letter {dead_letter_id!r}")
            env = codec.envelope(IncomingMessage(found), DELAY_HEADER)
            fresh = replace(env, attempt=1, published_ms=codec.now_ms())
            routing_key = self.topology.routing_key(name, fresh.urgent)
            await self._send(self._exchange(self.topology.work_exchange), routing_key, fresh.amqp())
            await ops.ack(found)
            await ops.hand_back()
        log.info("bus.replayed", queue=name, message_id=env.message_id)

    async def purge_dead(self, queue: str) -> int:
        self._require_started()
        async with self._operations() as ops:
            count = await ops.purge(self.topology.dead_queue(queue))
        log.info("bus.dead_purged", queue=queue, count=count)
        return count

    # --- helpers --------------------------------------------------------------------------
    def _require_started(self) -> AbstractRobustConnection:
        if self._state != "started" or self._connection is None:
            raise BusUnavailable(f"{self!r} is not open")
        return self._connection

    def _require_connected(self) -> AbstractRobustConnection:
        connection = self._connection
        if connection is None or self._state == "closed":
            raise BusUnavailable(f"{self!r} is not open")
        if connection.is_closed or not connection.connected.is_set():
            raise BusUnavailable(f"RabbitMQ at {self.where} is not connected (reconnecting)")
        return connection

    def _exchange(self, name: str) -> AbstractExchange:
        """The exchange on the next publishing channel: each channel is one process in RabbitMQ,
        so confirms come faster from several than from one."""
        start = next(self._next_publisher)
        for offset in range(len(self._publishers)):
            publisher = self._publishers[(start + offset) % len(self._publishers)]
            if not publisher.channel.is_closed:  # after a reconnection, until it is restored
                return publisher.exchanges[name]
        raise BusUnavailable(f"RabbitMQ at {self.where}: no publishing channel is open (yet)")

    async def _publisher_channel(self) -> AbstractChannel:
        self._require_started()
        self._require_connected()
        if any(p.channel.is_closed for p in self._publishers):
            raise BusUnavailable(f"RabbitMQ at {self.where}: channels are being restored")
        try:
            async with asyncio.timeout(self._tuning.ping_timeout_s):
                return await self._publishers[0].channel.get_underlay_channel()
        except Exception as exc:
            raise BusUnavailable(f"RabbitMQ at {self.where}: {_why(exc)}") from exc

    @contextlib.asynccontextmanager
    async def _plain_channel(self) -> AsyncIterator[AbstractChannel]:
        async with self._operations() as ops:
            yield await ops.channel()

    @contextlib.asynccontextmanager
    async def _operations(self) -> AsyncIterator[_Operations]:
        connection = self._require_connected()
        ops = _Operations(connection, self._tuning.operation_timeout_s)
        try:
            yield ops
        except BusError:
            raise
        except aiormq.exceptions.ChannelPreconditionFailed as exc:
            raise BusUnavailable(
                f"RabbitMQ refused a declaration ({_why(exc)}): a queue or exchange exists with"
                " other arguments; see docs/rabbitmq.md"
            ) from exc
        except (TimeoutError, *aio_pika.exceptions.CONNECTION_EXCEPTIONS) as exc:
            raise BusUnavailable(f"RabbitMQ at {self.where}: {_why(exc)}") from exc
        finally:
            await ops.close()


@dataclass(frozen=True)
class _Publisher:
    channel: AbstractRobustChannel
    exchanges: dict[str, AbstractExchange]


class _Operations:
    """Short-lived plain channels for declarations and operator calls.

    A passive declare of a missing queue makes RabbitMQ close the channel; the next call opens
    another. Messages taken from a queue and not acknowledged go back when handed back (or
    when the channel closes).
    """

    def __init__(self, connection: AbstractRobustConnection, timeout_s: float) -> None:
        self._connection = connection
        self._timeout_s = timeout_s
        self._channel: AbstractChannel | None = None
        self._taken: list[tuple[str, DeliveredMessage]] = []

    async def channel(self) -> AbstractChannel:
        if self._channel is None or self._channel.is_closed:
            transport = self._connection.transport
            if transport is None:
                raise BusUnavailable("RabbitMQ is not connected")
            async with asyncio.timeout(self._timeout_s):
                self._channel = await transport.connection.channel(publisher_confirms=False)
            self._taken = []
        return self._channel

    async def ready(self, queue: str) -> int | None:
        """Ready messages in `queue`, None if it does not exist."""
        channel = await self.channel()
        try:
            async with asyncio.timeout(self._timeout_s):
                ok = await channel.queue_declare(queue, passive=True)
        except aiormq.exceptions.ChannelNotFoundEntity:
            return None
        return int(ok.message_count or 0)

    async def take(self, queue: str, limit: int) -> list[DeliveredMessage]:
        """Up to `limit` messages from the head of `queue`, unacknowledged."""
        taken: list[DeliveredMessage] = []
        while len(taken) < limit:
            got = await self._get(queue)
            if got is None:
                break
            taken.append(got)
        return taken

    async def find(
        self, queue: str, wanted: Callable[[DeliveredMessage], bool], scan_limit: int
    ) -> DeliveredMessage | None:
        """The first message of `queue` that is `wanted`, taken; None if none is."""
        for _ in range(scan_limit):
            got = await self._get(queue)
            if got is None or wanted(got):
                return got
        return None

    async def _get(self, queue: str) -> DeliveredMessage | None:
        channel = await self.channel()
        try:
            async with asyncio.timeout(self._timeout_s):
                got = await channel.basic_get(queue, no_ack=False)
        except aiormq.exceptions.ChannelNotFoundEntity:
            return None
        if not isinstance(got.delivery, spec.Basic.GetOk):
            return None
        self._taken.append((queue, got))
        return got

    async def ack(self, message: DeliveredMessage) -> None:
        channel = await self.channel()
        assert message.delivery_tag is not None
        await channel.basic_ack(message.delivery_tag)
        self._taken = [(q, m) for q, m in self._taken if m is not message]

    async def hand_back(self) -> None:
        """Return what was taken, in the order taken, to the head of its queue; then wait until
        the queue counts it again (RabbitMQ applies a return after the nack, not with it), so
        that a count or a listing right after sees it."""
        taken, self._taken = self._taken, []
        channel = self._channel
        if not taken or channel is None or channel.is_closed:
            return
        returning = Counter(queue for queue, _ in taken)
        left = {queue: await self.ready(queue) or 0 for queue in returning}
        for _, message in taken:
            assert message.delivery_tag is not None
            await channel.basic_nack(message.delivery_tag, multiple=False, requeue=True)
        deadline = asyncio.get_running_loop().time() + _HAND_BACK_WAIT_S
        for queue, count in returning.items():
            await self._until_counted(queue, left[queue] + count, deadline)

    async def _until_counted(self, queue: str, at_least: int, deadline: float) -> None:
        # Bounded: another caller may be taking messages from the same queue meanwhile.
        while asyncio.get_running_loop().time() < deadline:
            if (await self.ready(queue) or 0) >= at_least:
                return
            await asyncio.sleep(0.005)

    async def purge(self, queue: str) -> int:
        channel = await self.channel()
        try:
            async with asyncio.timeout(self._timeout_s):
                ok = await channel.queue_purge(queue)
        except aiormq.exceptions.ChannelNotFoundEntity:
            return 0
        return int(ok.message_count or 0)

    async def close(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None and not channel.is_closed:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._timeout_s):
                    await channel.close()


def _connection_name() -> str:
    return f"edocgw {socket.gethostname()} pid {os.getpid()}"


def _why(exc: BaseException | None) -> str:
    if exc is None:
        return "closed"
    return str(exc) or type(exc).__name__
