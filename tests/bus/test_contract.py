"""The bus contract (gateway/bus/base.py), run against every implementation in conftest.

Only the `Bus` protocol is used here. Absence ("not delivered again") is shown by a marker
message published afterwards: delivery is FIFO within a priority, so with prefetch=1 a
leftover would arrive before the marker.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.bus.base import (
    URGENT,
    Bus,
    BusUnavailable,
    DeadLetterNotFound,
    OutgoingMessage,
    QueueStats,
    ReceivedMessage,
    Reject,
    RetryLater,
    RetryPolicy,
    Unroutable,
)

BODY = b"claim:" + b"x" * 290  # the gateway publishes ~300-byte claims, not documents


def msg(queue: str, message_id: str, priority: int = 0, **headers: str) -> OutgoingMessage:
    return OutgoingMessage(queue, message_id, BODY + message_id.encode(), priority, headers)


async def stats(bus: Bus, queue: str) -> QueueStats:
    (result,) = await bus.queue_stats([queue])
    return result


async def settled(bus: Bus, queue: str) -> bool:
    s = await stats(bus, queue)
    return s.ready == 0 and s.in_flight == 0


async def never_returns(_: ReceivedMessage) -> None:
    await asyncio.Event().wait()


async def open_with_queue(bus_factory, name: str = "q", **kwargs) -> tuple[Bus, str]:
    bus = await bus_factory.open(**kwargs)
    queue = bus_factory.queue(name)
    await bus.declare([queue])
    return bus, queue


async def test_publish_then_consume_once(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)
    await bus.publish([msg(q, "m1", h="v")])
    rec = recorder()
    await bus.subscribe([q], rec)
    (got,) = await rec.wait_for(1)
    assert (got.queue, got.message_id, got.body, got.attempt) == (q, "m1", BODY + b"m1", 1)
    assert dict(got.headers) == {"h": "v"}
    assert got.priority == 0
    await until(lambda: settled(bus, q), what="ack")
    await bus.publish([msg(q, "marker")])
    await rec.wait_for(2)
    assert rec.ids == ["m1", "marker"]


async def test_publish_wakes_an_idle_subscriber(bus_factory, recorder):
    bus, q = await open_with_queue(bus_factory)
    rec = recorder()
    await bus.subscribe([q], rec)
    await bus.publish([msg(q, "late")])
    assert [m.message_id for m in await rec.wait_for(1, timeout=2.0)] == ["late"]


async def test_acked_message_is_not_redelivered_after_reopen(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)
    await bus.publish([msg(q, "m1")])
    rec = recorder()
    await bus.subscribe([q], rec)
    await rec.wait_for(1)
    await until(lambda: settled(bus, q), what="ack")

    bus = await bus_factory.reopen(bus)
    assert (await stats(bus, q)).ready == 0
    await bus.publish([msg(q, "marker")])
    rec2 = recorder()
    await bus.subscribe([q], rec2, prefetch=1)
    await rec2.wait_for(1)
    assert rec2.ids == ["marker"]


async def test_unacknowledged_message_is_redelivered_after_reopen(bus_factory, recorder):
    bus, q = await open_with_queue(bus_factory)
    await bus.publish([msg(q, "held", priority=2, k="v")])
    rec = recorder(never_returns)
    await bus.subscribe([q], rec)
    await rec.wait_for(1)

    bus = await bus_factory.reopen(bus)  # the handler never returned: nothing was acknowledged
    rec2 = recorder()
    await bus.subscribe([q], rec2)
    (again,) = await rec2.wait_for(1)
    assert (again.message_id, again.body, again.priority) == ("held", BODY + b"held", 2)
    assert dict(again.headers) == {"k": "v"}


async def test_retry_later_redelivers_after_the_delay_with_attempt_2(bus_factory, recorder):
    bus, q = await open_with_queue(bus_factory)
    seen: list[float] = []

    async def busy_once(m: ReceivedMessage) -> None:
        seen.append(time.monotonic())
        if m.attempt == 1:
            raise RetryLater("destination busy", delay_s=0.3)

    rec = recorder(busy_once)
    await bus.subscribe([q], rec)
    await bus.publish([msg(q, "m1")])
    first, second = await rec.wait_for(2)
    assert (first.attempt, second.attempt) == (1, 2)
    assert second.message_id == "m1"
    assert seen[1] - seen[0] >= 0.25  # the delay, less timer granularity


async def test_an_exception_counts_as_a_failed_attempt(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)

    async def flaky(m: ReceivedMessage) -> None:
        if m.attempt < 3:
            raise ConnectionError("peer reset")

    rec = recorder(flaky)
    await bus.subscribe([q], rec)
    await bus.publish([msg(q, "m1")])
    await rec.wait_for(3)
    assert [m.attempt for m in rec.messages] == [1, 2, 3]
    await until(lambda: settled(bus, q), what="ack of attempt 3")
    assert (await stats(bus, q)).dead == 0


async def test_dead_letter_after_max_attempts_with_the_reason(bus_factory, recorder, until):
    retry = RetryPolicy(max_attempts=3, initial_delay_s=0.01, max_delay_s=0.02, jitter=0.0)
    bus, q = await open_with_queue(bus_factory, retry=retry)

    async def down(_: ReceivedMessage) -> None:
        raise RetryLater("agency endpoint down", delay_s=0.01)

    rec = recorder(down)
    await bus.subscribe([q], rec)
    await bus.publish([msg(q, "doomed", priority=URGENT)])
    await rec.wait_for(3)

    async def dead_lettered() -> bool:
        return len(await bus.dead_letters(q)) == 1

    await until(dead_lettered, what="dead letter")
    (dl,) = await bus.dead_letters(q)
    assert (dl.queue, dl.message_id, dl.priority) == (q, "doomed", URGENT)
    assert dl.attempts == 3
    assert dl.reason == "agency endpoint down"
    assert dl.size == len(BODY + b"doomed")
    assert dl.dead_at > 0
    s = await stats(bus, q)
    assert (s.ready, s.in_flight, s.dead, s.oldest_age_s) == (0, 0, 1, None)
    assert [m.attempt for m in rec.messages] == [1, 2, 3]


async def test_an_exception_dead_letters_with_its_message(bus_factory, recorder, until):
    retry = RetryPolicy(max_attempts=2, initial_delay_s=0.01, max_delay_s=0.02, jitter=0.0)
    bus, q = await open_with_queue(bus_factory, retry=retry)

    async def broken(_: ReceivedMessage) -> None:
        raise ValueError("unparseable claim")

    await bus.subscribe([q], recorder(broken))
    await bus.publish([msg(q, "m1")])

    async def dead_lettered() -> bool:
        return (await stats(bus, q)).dead == 1

    await until(dead_lettered, what="dead letter")
    (dl,) = await bus.dead_letters(q)
    assert "unparseable claim" in dl.reason
    assert dl.attempts == 2


async def test_reject_dead_letters_at_once(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)

    async def refuse(_: ReceivedMessage) -> None:
        raise Reject("recipient unknown")

    rec = recorder(refuse)
    await bus.subscribe([q], rec, prefetch=1)
    await bus.publish([msg(q, "bad")])

    async def dead_lettered() -> bool:
        return (await stats(bus, q)).dead == 1

    await until(dead_lettered, what="dead letter")
    (dl,) = await bus.dead_letters(q)
    assert (dl.message_id, dl.reason, dl.attempts) == ("bad", "recipient unknown", 1)
    await bus.publish([msg(q, "marker")])
    await rec.wait_for(2)
    assert rec.ids == ["bad", "marker"]


async def test_replay_puts_a_dead_letter_back_with_attempt_1(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)
    refuse = True

    async def maybe_refuse(_: ReceivedMessage) -> None:
        if refuse:
            raise Reject("not now")

    rec = recorder(maybe_refuse)
    await bus.subscribe([q], rec)
    await bus.publish([msg(q, "m1", h="kept")])

    async def dead_lettered() -> bool:
        return (await stats(bus, q)).dead == 1

    await until(dead_lettered, what="dead letter")
    (dl,) = await bus.dead_letters(q)
    refuse = False
    await bus.replay(dl.id)
    await rec.wait_for(2)
    replayed = rec.messages[1]
    assert (replayed.message_id, replayed.attempt, replayed.body) == ("m1", 1, BODY + b"m1")
    assert dict(replayed.headers) == {"h": "kept"}
    await until(lambda: settled(bus, q), what="ack")
    assert await bus.dead_letters(q) == []
    assert (await stats(bus, q)).dead == 0
    with pytest.raises(DeadLetterNotFound):
        await bus.replay(dl.id)  # replayed already


async def test_replay_of_an_unknown_id_raises(bus_factory):
    bus, _ = await open_with_queue(bus_factory)
    with pytest.raises(DeadLetterNotFound):
        await bus.replay("no-such-dead-letter")


async def test_purge_dead(bus_factory, recorder, until):
    bus = await bus_factory.open()
    q, other = bus_factory.queue("q"), bus_factory.queue("other")
    await bus.declare([q, other])

    async def refuse(_: ReceivedMessage) -> None:
        raise Reject("no")

    await bus.subscribe([q, other], recorder(refuse))
    await bus.publish([msg(q, "a"), msg(q, "b"), msg(other, "c")])

    async def all_dead() -> bool:
        return [s.dead for s in await bus.queue_stats([q, other])] == [2, 1]

    await until(all_dead, what="three dead letters")
    assert await bus.purge_dead(q) == 2
    assert await bus.dead_letters(q) == []
    assert [d.message_id for d in await bus.dead_letters(other)] == ["c"]
    assert [s.dead for s in await bus.queue_stats([q, other])] == [0, 1]
    assert await bus.purge_dead(q) == 0


async def test_dead_letters_across_queues_and_limit(bus_factory, recorder, until):
    bus = await bus_factory.open()
    q1, q2 = bus_factory.queue("q1"), bus_factory.queue("q2")
    await bus.declare([q1, q2])

    async def refuse(_: ReceivedMessage) -> None:
        raise Reject("no")

    await bus.subscribe([q1, q2], recorder(refuse), prefetch=1)
    await bus.publish([msg(q1, "a"), msg(q2, "b"), msg(q1, "c")])

    async def all_dead() -> bool:
        return sum(s.dead for s in await bus.queue_stats([q1, q2])) == 3

    await until(all_dead, what="three dead letters")
    mine = [d for d in await bus.dead_letters(limit=1000) if d.queue in (q1, q2)]
    assert sorted(d.message_id for d in mine) == ["a", "b", "c"]
    assert len(await bus.dead_letters(q1, limit=1)) == 1
    assert len({d.id for d in mine}) == 3


async def test_urgent_before_normal(bus_factory, recorder):
    bus, q = await open_with_queue(bus_factory)
    await bus.publish([msg(q, f"normal-{i}") for i in range(5)])
    await bus.publish([msg(q, "urgent", priority=URGENT)])
    rec = recorder()
    await bus.subscribe([q], rec, prefetch=1)
    await rec.wait_for(6)
    assert rec.ids == ["urgent"] + [f"normal-{i}" for i in range(5)]


async def test_higher_priority_first_then_fifo(bus_factory, recorder):
    bus, q = await open_with_queue(bus_factory)
    for i, priority in enumerate([0, 1, 3, 2, 0, 3, 1]):
        await bus.publish([msg(q, f"p{priority}-{i}", priority=priority)])
    rec = recorder()
    await bus.subscribe([q], rec, prefetch=1)
    await rec.wait_for(7)
    assert rec.ids == ["p3-2", "p3-5", "p2-3", "p1-1", "p1-6", "p0-0", "p0-4"]


async def test_fifo_within_a_priority(bus_factory, recorder):
    bus, q = await open_with_queue(bus_factory)
    ids = [f"m{i:03}" for i in range(50)]
    await bus.publish([msg(q, i) for i in ids[:20]])  # one batch
    for i in ids[20:]:  # and one at a time
        await bus.publish([msg(q, i)])
    rec = recorder()
    await bus.subscribe([q], rec, prefetch=1)
    await rec.wait_for(50)
    assert rec.ids == ids


async def test_publish_to_an_undeclared_queue_raises_unroutable(bus_factory):
    bus = await bus_factory.open()
    with pytest.raises(Unroutable):
        await bus.publish([msg(bus_factory.queue("nowhere"), "m1")])


async def test_declare_is_idempotent(bus_factory, recorder):
    bus, q = await open_with_queue(bus_factory)
    await bus.declare([q, q])
    await bus.publish([msg(q, "m1")])
    await bus.declare([q])
    assert (await stats(bus, q)).ready == 1


async def test_many_concurrent_publishes_arrive_exactly_once(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)
    rec = recorder()
    await bus.subscribe([q], rec, prefetch=16)
    ids = [f"m{i}" for i in range(500)]
    await asyncio.gather(*(bus.publish([msg(q, i)]) for i in ids))
    await rec.wait_for(len(ids))
    await until(lambda: settled(bus, q), what="all acks")
    assert sorted(rec.ids) == sorted(ids)
    assert len(rec.ids) == len(ids)


async def test_competing_subscriptions_share_the_work(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)
    a, b = recorder(), recorder()
    await bus.subscribe([q], a, prefetch=4)
    await bus.subscribe([q], b, prefetch=4)
    ids = [f"m{i}" for i in range(200)]
    await asyncio.gather(*(bus.publish([msg(q, i)]) for i in ids))
    await until(lambda: settled(bus, q), what="all acks")
    assert sorted(a.ids + b.ids) == sorted(ids)


async def test_queue_stats_counts(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)
    empty = await stats(bus, q)
    assert (empty.queue, empty.ready, empty.in_flight, empty.dead) == (q, 0, 0, 0)
    assert empty.oldest_age_s is None

    await bus.publish([msg(q, f"m{i}") for i in range(3)])
    s = await stats(bus, q)
    assert (s.ready, s.in_flight, s.dead) == (3, 0, 0)
    if bus_factory.ages_waiting_messages:
        assert s.oldest_age_s is not None and s.oldest_age_s >= 0
    else:
        assert s.oldest_age_s is None  # unknown until a consumer holds one

    release = asyncio.Event()

    async def hold(_: ReceivedMessage) -> None:
        await release.wait()

    await bus.subscribe([q], recorder(hold), prefetch=1)

    async def one_in_flight() -> bool:
        s = await stats(bus, q)
        return (s.ready, s.in_flight) == (2, 1)

    await until(one_in_flight, what="one message in flight")
    assert (await stats(bus, q)).oldest_age_s is not None
    release.set()
    await until(lambda: settled(bus, q), what="all acks")
    assert (await stats(bus, q)).oldest_age_s is None


async def test_prefetch_bounds_concurrent_handlers(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)
    release = asyncio.Event()
    running = 0
    peak = 0

    async def hold(_: ReceivedMessage) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    rec = recorder(hold)
    await bus.subscribe([q], rec, prefetch=3)
    await bus.publish([msg(q, f"m{i}") for i in range(10)])
    await rec.wait_for(3)

    async def three_in_flight() -> bool:
        s = await stats(bus, q)
        return (s.ready, s.in_flight) == (7, 3)

    await until(three_in_flight, what="prefetch reached")
    release.set()
    await rec.wait_for(10)
    await until(lambda: settled(bus, q), what="all acks")
    assert peak <= 3


async def test_several_queues_in_one_subscription(bus_factory, recorder, until):
    bus = await bus_factory.open()
    q1, q2, q3 = (bus_factory.queue(n) for n in ("q1", "q2", "q3"))
    await bus.declare([q1, q2, q3])
    await bus.publish([msg(q1, "a1"), msg(q2, "b1"), msg(q1, "a2"), msg(q3, "c1")])
    rec = recorder()
    await bus.subscribe([q1, q2], rec)
    await rec.wait_for(3)
    assert sorted((m.queue, m.message_id) for m in rec.messages) == [
        (q1, "a1"),
        (q1, "a2"),
        (q2, "b1"),
    ]
    await until(lambda: settled(bus, q1), what="acks")
    s3 = await stats(bus, q3)
    assert (s3.ready, s3.in_flight) == (1, 0)


async def test_declared_queues_and_messages_survive_reopen(bus_factory, recorder):
    bus, q = await open_with_queue(bus_factory)
    await bus.publish([msg(q, "before", priority=3, a="1", b="2")])
    bus = await bus_factory.reopen(bus)
    await bus.publish([msg(q, "after")])  # no declare: the queue is still there
    rec = recorder()
    await bus.subscribe([q], rec, prefetch=1)
    first, second = await rec.wait_for(2)
    assert (first.message_id, first.priority, first.attempt) == ("before", 3, 1)
    assert dict(first.headers) == {"a": "1", "b": "2"}
    assert first.body == BODY + b"before"
    assert second.message_id == "after"


async def test_attempt_number_of_a_retried_message_survives_reopen(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)

    async def later(_: ReceivedMessage) -> None:
        raise RetryLater("maintenance window", delay_s=0.2)

    sub = await bus.subscribe([q], recorder(later))
    await bus.publish([msg(q, "m1")])

    async def waiting_for_retry() -> bool:
        s = await stats(bus, q)
        return (s.ready, s.in_flight) == (0, 0)

    await until(waiting_for_retry, what="retry scheduled")
    await sub.cancel()
    bus = await bus_factory.reopen(bus)
    rec = recorder()
    await bus.subscribe([q], rec)
    (again,) = await rec.wait_for(1)
    assert (again.message_id, again.attempt) == ("m1", 2)


async def test_close_lets_running_handlers_finish_and_keeps_the_rest(bus_factory, recorder):
    bus, q = await open_with_queue(bus_factory)
    await bus.publish([msg(q, f"m{i}") for i in range(3)])
    release = asyncio.Event()
    finished: list[str] = []

    async def slow(m: ReceivedMessage) -> None:
        await release.wait()
        finished.append(m.message_id)

    rec = recorder(slow)
    await bus.subscribe([q], rec, prefetch=1)
    await rec.wait_for(1)
    closing = asyncio.create_task(bus.close())
    await asyncio.sleep(0)  # let close() begin while the handler is still running
    release.set()
    await asyncio.wait_for(closing, 10)
    assert finished == ["m0"]

    bus = await bus_factory.open()
    rec2 = recorder()
    await bus.subscribe([q], rec2, prefetch=1)
    await rec2.wait_for(2)
    assert rec2.ids == ["m1", "m2"]  # m0 was acknowledged before close() returned


async def test_cancelled_subscription_stops_and_keeps_messages(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)
    release = asyncio.Event()

    async def slow(_: ReceivedMessage) -> None:
        await release.wait()

    rec = recorder(slow)
    sub = await bus.subscribe([q], rec, prefetch=1)
    await bus.publish([msg(q, "m0"), msg(q, "m1")])
    await rec.wait_for(1)
    cancelling = asyncio.create_task(sub.cancel())
    await asyncio.sleep(0)
    release.set()
    await asyncio.wait_for(cancelling, 10)
    s = await stats(bus, q)
    assert (s.ready, s.in_flight) == (1, 0)
    await bus.publish([msg(q, "m2")])
    assert rec.ids == ["m0"]

    rec2 = recorder()
    await bus.subscribe([q], rec2, prefetch=1)
    await rec2.wait_for(2)
    assert rec2.ids == ["m1", "m2"]


async def test_ping_and_a_closed_bus(bus_factory):
    bus, q = await open_with_queue(bus_factory)
    await bus.ping()
    await bus.close()
    with pytest.raises(BusUnavailable):
        await bus.ping()
    with pytest.raises(BusUnavailable):
        await bus.publish([msg(q, "m1")])
    await bus.close()  # idempotent


async def test_no_message_is_lost_under_mixed_outcomes_and_a_restart(bus_factory, recorder, until):
    """Each message follows a script (by its number); a restart happens half-way through."""
    retry = RetryPolicy(max_attempts=4, initial_delay_s=0.01, max_delay_s=0.02, jitter=0.0)
    bus, q = await open_with_queue(bus_factory, retry=retry)
    ids = [f"m{i}" for i in range(240)]
    acked: list[str] = []

    async def scripted(m: ReceivedMessage) -> None:
        kind = int(m.message_id[1:]) % 5
        if kind == 1 and m.attempt < 2:
            raise RetryLater("once", delay_s=0.01)
        if kind == 2 and m.attempt < 3:
            raise OSError("twice")
        if kind == 3:
            raise Reject("never")
        if kind == 4:
            raise RetryLater("always", delay_s=0.01)
        acked.append(m.message_id)

    await asyncio.gather(*(bus.publish([msg(q, i)]) for i in ids))
    first = recorder(scripted)
    await bus.subscribe([q], first, prefetch=8)
    await first.wait_for(len(ids) // 2)
    bus = await bus_factory.reopen(bus, retry=retry)
    await bus.subscribe([q], recorder(scripted), prefetch=8)

    want_acked = {i for i in ids if int(i[1:]) % 5 in (0, 1, 2)}
    want_dead = {i for i in ids if int(i[1:]) % 5 in (3, 4)}

    async def finished() -> bool:
        s = await stats(bus, q)
        return s.dead == len(want_dead) and set(acked) == want_acked and s.in_flight == 0

    await until(finished, timeout=20.0, what="every message acked or dead")
    dead = await bus.dead_letters(q, limit=1000)
    assert {d.message_id for d in dead} == want_dead
    assert {d.reason for d in dead} == {"never", "always"}
    assert all(d.attempts == 4 for d in dead if d.reason == "always")
    assert (await stats(bus, q)).ready == 0


async def test_queue_stats_count_messages_waiting_for_their_retry(bus_factory, recorder, until):
    bus, q = await open_with_queue(bus_factory)
    assert (await stats(bus, q)).waiting_retry == 0
    await bus.publish([msg(q, "m1")])

    async def later(_: ReceivedMessage) -> None:
        raise RetryLater("the department's system answered 503", delay_s=3600)

    await bus.subscribe([q], recorder(later), prefetch=1)

    async def waiting() -> bool:
        s = await stats(bus, q)
        return (s.ready, s.in_flight, s.waiting_retry) == (0, 0, 1)

    await until(waiting, what="the message waiting for its retry")
