"""A document's checks run under a budget from their start in a worker: over it, the worker is
killed, that document alone is refused (422 attachment_unreadable), and the jobs that were
queued behind it run on a new worker."""

from __future__ import annotations

import asyncio
import functools
import importlib
import operator
import time

import pytest

from gateway.errors import AttachmentUnreadable
from gateway.runtime.workers import Workers
from tests.trust.test_lost_worker import worker_processes


async def test_a_job_over_its_budget_is_refused_and_those_behind_it_run_elsewhere() -> None:
    workers = Workers(processes=1, budget_s=0.5)
    try:
        assert await workers.in_process(10, operator.add, 1, 1) == 2
        first = worker_processes()
        hostile = asyncio.ensure_future(workers.in_process(10, time.sleep, 60))
        await asyncio.sleep(0)  # sent first: the one worker runs it, the next waits behind
        behind = asyncio.ensure_future(workers.in_process(10, operator.add, 2, 3))
        with pytest.raises(AttachmentUnreadable) as refused:
            await hostile
        assert (refused.value.status, refused.value.code) == (422, "attachment_unreadable")
        assert "took over 0.5 s" in refused.value.detail
        assert "limits.attachment_budget_s" in refused.value.detail
        assert await behind == 5
        assert await workers.in_process(10, operator.mul, 6, 7) == 42
        assert worker_processes() != first  # the small lane's worker was replaced
    finally:
        await workers.close()
    assert worker_processes() == []


async def test_a_job_is_not_charged_for_the_time_it_waited_behind_others() -> None:
    workers = Workers(processes=1, budget_s=1.5)
    try:
        jobs = [workers.in_process(10, time.sleep, 0.5) for _ in range(4)]  # 2 s in all
        assert await asyncio.gather(*jobs) == [None] * 4
    finally:
        await workers.close()


async def test_a_replacement_worker_is_warmed_before_its_first_job() -> None:
    """Imports and the trust store are not charged to the first document's budget."""
    workers = Workers(processes=1, budget_s=0.5)
    # in the worker: whether the warm-up ran there
    imported = functools.partial(eval, "'colorsys' in __import__('sys').modules")
    try:
        await workers.warm(functools.partial(importlib.import_module, "colorsys"))
        assert await workers.in_process(10, imported) is True
        with pytest.raises(AttachmentUnreadable):
            await workers.in_process(10, time.sleep, 60)
        assert await workers.in_process(10, imported) is True
    finally:
        await workers.close()
