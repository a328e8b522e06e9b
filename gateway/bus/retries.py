"""Retries this process put in RabbitMQ's delay queues, per bus queue, until they are due.

The delay queues are shared by every agency and RabbitMQ tells nothing about what they hold
without its management API, so the RabbitMQ bus counts the retries it scheduled itself: on
several nodes each node counts its own, like `in_flight`.
"""

from __future__ import annotations

import heapq


class PendingRetries:
    def __init__(self) -> None:
        self._due: dict[str, list[int]] = {}  # per queue, a heap of due times (unix ms)

    def add(self, queue: str, due_ms: int) -> None:
        heapq.heappush(self._due.setdefault(queue, []), due_ms)

    def count(self, queue: str, now_ms: int) -> int:
        """Retries of the queue not yet due; forgets those that are."""
        heap = self._due.get(queue)
        if not heap:
            return 0
        while heap and heap[0] <= now_ms:
            heapq.heappop(heap)
        return len(heap)
