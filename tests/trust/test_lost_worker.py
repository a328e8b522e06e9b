"""A worker process that dies (killed, out of memory) costs the messages it had, never the
gateway: they are refused with 503 and the next ones go to a new worker."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.api.test_exchange import wait_inbox
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import FINANCE, HOME_AFFAIRS
from tests.trust.keys import KeyRing


async def test_a_killed_worker_is_replaced_and_its_message_refused_with_503(
    net_factory: Callable[..., Awaitable[Net]], ring: KeyRing, tmp_path: Path
) -> None:
    settings = ring.settings(tmp_path / "data")
    server = dataclasses.replace(settings.server, worker_processes=1)
    net = await net_factory(dataclasses.replace(settings, server=server))
    finance = net[FINANCE.id]

    first, second, third = (
        ring.sign(document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)), FINANCE.id)
        for _ in range(3)
    )
    accepted = []
    status, body = await finance.submit(first)
    assert status == 202, body
    accepted.append(body["document_id"])
    workers = multiprocessing.active_children()
    assert workers, "the gateway verifies in worker processes"
    for worker in workers:
        os.kill(worker.pid or 0, signal.SIGKILL)
        worker.join(10)

    status, problem = await finance.submit(second)
    assert (status, problem["code"]) == (503, "unavailable"), problem
    assert "worker process" in problem["detail"]

    for raw in (second, third):  # the refused one sent again, and a new one
        status, body = await finance.submit(raw)
        assert status == 202, body
        accepted.append(body["document_id"])
    inbox = await wait_inbox(net, HOME_AFFAIRS.id, 3)
    assert sorted(item["document_id"] for item in inbox) == sorted(accepted)
