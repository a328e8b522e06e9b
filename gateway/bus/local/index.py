"""The in-memory view of the bus: which messages are ready, delayed or in a handler.

A single process owns the bus file, so the index is rebuilt from the `messages` table at start
and from then on follows every commit. Dispatch is then a heap pop instead of a query that would
have to skip delayed rows. The cost is memory: an entry is about 200 bytes (bodies are cached
separately, within a budget), so a backlog of a million claims costs about 200 MB.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from gateway.bus.local.storage import Payload

PRIORITIES = 4  # 0 (normal) to 3 (hỏa tốc), see base.URGENT


@dataclass(eq=False, slots=True)
class Entry:
    seq: int
    queue: str
    priority: int
    attempts: int  # failed deliveries so far; the next delivery is attempt `attempts + 1`
    enqueued_at: float
    ready_at: float
    payload: Payload | None = None  # cached body, None when it must be read from disk


@dataclass(eq=False, slots=True)
class _QueueState:
    # One heap per priority, ordered by seq: the head of each is its oldest message.
    ready: list[list[tuple[int, Entry]]] = field(
        default_factory=lambda: [[] for _ in range(PRIORITIES)]
    )
    in_flight: dict[int, Entry] = field(default_factory=dict)

    def head(self) -> tuple[int, int] | None:
        """Sort key (-priority, seq) of the message this queue would hand out next."""
        for priority in range(PRIORITIES - 1, -1, -1):
            heap = self.ready[priority]
            if heap:
                return -priority, heap[0][0]
        return None

    def pop(self) -> Entry:
        for priority in range(PRIORITIES - 1, -1, -1):
            heap = self.ready[priority]
            if heap:
                return heapq.heappop(heap)[1]
        raise IndexError("no ready message")

    def ready_count(self) -> int:
        return sum(len(heap) for heap in self.ready)

    def oldest_enqueued(self) -> float | None:
        # seq grows with publish time, so each heap's head is its oldest message.
        times = [heap[0][1].enqueued_at for heap in self.ready if heap]
        times.extend(entry.enqueued_at for entry in self.in_flight.values())
        return min(times, default=None)


class Index:
    def __init__(self) -> None:
        self._queues: dict[str, _QueueState] = {}
        self._delayed: list[tuple[float, int, Entry]] = []
        self._delayed_per_queue: dict[str, int] = {}

    def _state(self, queue: str) -> _QueueState:
        state = self._queues.get(queue)
        if state is None:
            state = self._queues[queue] = _QueueState()
        return state

    def add(self, entry: Entry, now: float) -> bool:
        """File a message that is not in a handler; True if it is ready now."""
        if entry.ready_at > now:
            heapq.heappush(self._delayed, (entry.ready_at, entry.seq, entry))
            self._delayed_per_queue[entry.queue] = self._delayed_per_queue.get(entry.queue, 0) + 1
            return False
        heapq.heappush(self._state(entry.queue).ready[entry.priority], (entry.seq, entry))
        return True

    def take(self, queues: Sequence[str], limit: int) -> list[Entry]:
        """Hand out up to `limit` ready messages, urgent first, then oldest; mark them in flight."""
        states = [self._queues[q] for q in queues if q in self._queues]
        taken: list[Entry] = []
        while len(taken) < limit:
            best: _QueueState | None = None
            best_key: tuple[int, int] | None = None
            for state in states:
                key = state.head()
                if key is not None and (best_key is None or key < best_key):
                    best, best_key = state, key
            if best is None:
                break
            entry = best.pop()
            best.in_flight[entry.seq] = entry
            taken.append(entry)
        return taken

    def settle(self, entry: Entry) -> None:
        """The handler is done with the message (acked, postponed or dead-lettered)."""
        self._state(entry.queue).in_flight.pop(entry.seq, None)

    def release(self, entry: Entry, now: float) -> bool:
        """Put a message that left its handler unsettled back; True if it is ready now."""
        self.settle(entry)
        return self.add(entry, now)

    def due(self, now: float) -> set[str]:
        """Move delayed messages whose time has come; return the queues that got some."""
        woken: set[str] = set()
        while self._delayed and self._delayed[0][0] <= now:
            _, _, entry = heapq.heappop(self._delayed)
            self._delayed_per_queue[entry.queue] -= 1
            heapq.heappush(self._state(entry.queue).ready[entry.priority], (entry.seq, entry))
            woken.add(entry.queue)
        return woken

    def next_due(self) -> float | None:
        return self._delayed[0][0] if self._delayed else None

    def in_flight(self, queue: str) -> int:
        state = self._queues.get(queue)
        return len(state.in_flight) if state else 0

    def ready(self, queue: str) -> int:
        state = self._queues.get(queue)
        return state.ready_count() if state else 0

    def delayed(self, queue: str) -> int:
        """Messages of the queue waiting for their retry time."""
        return self._delayed_per_queue.get(queue, 0)

    def oldest_enqueued(self, queue: str) -> float | None:
        state = self._queues.get(queue)
        return state.oldest_enqueued() if state else None

    def all_in_flight(self) -> Iterable[Entry]:
        for state in self._queues.values():
            yield from state.in_flight.values()
