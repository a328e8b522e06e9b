"""Slowing down guessed passwords: after a few failed sign-ins for one name, or from one address,
the next attempt must wait, twice as long after each further failure (up to a ceiling). A
waiting attempt is refused without its password being checked. Kept in memory, per node: a
restart forgets it (the failures stay in the audit log)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.clock import Clock

FREE_FAILURES = 5  # failures allowed before any wait
FIRST_WAIT_S = 2.0
MAX_WAIT_S = 300.0
FORGET_AFTER_S = 3600.0  # a name or address quiet this long starts afresh
MAX_TRACKED = 10_000  # beyond this many keys the oldest are forgotten


@dataclass
class _Failures:
    count: int
    last_at: float


class SignInThrottle:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._failures: dict[str, _Failures] = {}

    def wait_s(self, name: str, address: str) -> float:
        """How long the caller must still wait before an attempt for `name` from `address`."""
        now = self._clock()
        return max(self._wait(f"name:{name}", now), self._wait(f"address:{address}", now))

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        for key in (f"name:{name}", f"address:{address}"):
            found = self._current(key, now)
            self._failures[key] = _Failures((found.count if found else 0) + 1, now)
        self._bound()

    def succeeded(self, name: str, address: str) -> None:
        self._failures.pop(f"name:{name}", None)
        self._failures.pop(f"address:{address}", None)

    def _current(self, key: str, now: float) -> _Failures | None:
        found = self._failures.get(key)
        if found is not None and now - found.last_at > FORGET_AFTER_S:
            del self._failures[key]
            return None
        return found

    def _wait(self, key: str, now: float) -> float:
        found = self._current(key, now)
        if found is None or found.count < FREE_FAILURES:
            return 0.0
        wait = min(FIRST_WAIT_S * 2.0 ** (found.count - FREE_FAILURES), MAX_WAIT_S)
        return max(0.0, found.last_at + wait - now)

    def _bound(self) -> None:
        if len(self._failures) > MAX_TRACKED:
            oldest = sorted(self._failures, key=lambda k: self._failures[k].last_at)
            for key in oldest[: len(self._failures) - MAX_TRACKED]:
                del self._failures[key]
