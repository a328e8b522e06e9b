"""A worker process that dies (killed, out of memory, a crash) costs the jobs it had, never the
gateway: those are refused with 503 and the next ones go to a new worker."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import operator
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from gateway.runtime.workers import WorkerLost, Workers
from gateway.sizes import LARGE_MESSAGE_BYTES
from tests.api.test_exchange import wait_inbox
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import FINANCE, HOME_AFFAIRS
from tests.trust.keys import KeyRing
from tests.waiting import eventually


def running(pid: int) -> bool:
    """Not yet dead: a zombie (dead, not yet reaped) or a reaped process is not running. (Its
    command line reads empty while it dies, before it is a zombie that the gateway can see.)"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def is_empty(pids: list[int]) -> bool:
    return not pids


def worker_processes() -> list[int]:
    """The live worker processes this process started (the gateway runs in the test)."""
    children = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that just ended
            children += (task / "children").read_text().split()
    found = []
    for pid in map(int, children):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"gateway.runtime.worker_process" in command and running(pid):
            found.append(pid)
    return found


async def test_killed_workers_are_replaced_and_the_next_messages_accepted(
    net_factory: Callable[..., Awaitable[Net]], ring: KeyRing, tmp_path: Path
) -> None:
    settings = ring.settings(tmp_path / "data")
    server = dataclasses.replace(settings.server, worker_processes=1)
    net = await net_factory(dataclasses.replace(settings, server=server))
    finance = net[FINANCE.id]
    first, second = (
        ring.sign(document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)), FINANCE.id)
        for _ in range(2)
    )
    status, body = await finance.submit(first)
    assert status == 202, body
    accepted = [body["document_id"]]
    workers = worker_processes()
    assert len(workers) == 2, "the gateway verifies in worker processes, one per lane"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    await eventually(lambda: asyncio.sleep(0, [p for p in workers if running(p)]), is_empty)

    status, body = await finance.submit(second)
    assert status == 202, body
    accepted.append(body["document_id"])
    assert len(worker_processes()) == 1  # the small lane's new one; the other starts when used
    inbox = await wait_inbox(net, HOME_AFFAIRS.id, 2)
    assert sorted(item["document_id"] for item in inbox) == sorted(accepted)


async def test_a_job_whose_worker_dies_is_refused_and_the_lane_goes_on() -> None:
    workers = Workers(processes=1)
    try:
        assert await workers.in_process(10, operator.add, 2, 3) == 5
        with pytest.raises(WorkerLost) as lost:
            await workers.in_process(10, os._exit, 3)  # dies with the job in hand
        assert (lost.value.status, lost.value.code) == (503, "unavailable")
        assert "send it again" in str(lost.value)
        assert await workers.in_process(10, operator.add, 2, 3) == 5
        with pytest.raises(ZeroDivisionError):  # a job's own error comes back as it is
            await workers.in_process(10, operator.truediv, 1, 0)
        large = LARGE_MESSAGE_BYTES + 1
        assert await workers.in_process(large, operator.mul, 6, 7) == 42
        assert len(worker_processes()) == 2
    finally:
        await workers.close()
    assert worker_processes() == []


async def test_a_stuck_job_costs_its_worker_not_the_lane() -> None:
    workers = Workers(processes=1, job_timeout_s=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(WorkerLost):
            await workers.in_process(10, time.sleep, 30)  # a parser that never returns
        assert time.monotonic() - started < 10
        assert await workers.in_process(10, operator.add, 2, 3) == 5
    finally:
        await workers.close()
    assert worker_processes() == []
