"""Where CPU-heavy checks run: never on the event loop.

Signature verification and PDF reading take milliseconds to seconds; the event loop must keep
answering small requests meanwhile. They go to worker processes, which use the machine's other
cores and keep a hostile file's damage out of the gateway; or, configured without, to threads.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import pickle
import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from prometheus_client import Counter

from gateway import sizes
from gateway.errors import AttachmentUnreadable, Unavailable
from gateway.log import get_logger
from gateway.metrics import PREFIX
from gateway.runtime.futures import settle
from gateway.runtime.worker_process import frame

T = TypeVar("T")
log = get_logger(__name__)
WORKERS_LOST = Counter(
    PREFIX + "worker_processes_lost_total",
    "Worker processes that died (killed, out of memory, a crash) and were replaced",
    ["lane"],
)
# A job still running after this is taken for stuck: verifying a 10 MB message takes about half
# a second here, reading a PDF's first page a few milliseconds.
JOB_TIMEOUT_S = 120.0
# The time one document's checks (its signatures, its PDFs opened and read) may take once its
# job starts in a worker (`limits.attachment_budget_s`): a PDF whose cross-reference table is
# broken makes the PDF library rebuild it, seconds for a few MB, before any other limit applies.
ATTACHMENT_BUDGET_S = 5.0
# A job whose worker was killed for another job's overrun is sent again, up to this many times
BYSTANDER_TRIES = 3
OVER_BUDGET = Counter(
    PREFIX + "worker_jobs_over_budget_total",
    "Documents refused because checking them took over limits.attachment_budget_s",
    ["lane"],
)
_HEADER = struct.Struct(">I")


def _run_for_effect(job: Callable[[], object]) -> None:
    job()  # what it returns need not be picklable: it stays in the worker


def _spawn(jobs_fd: int, answers_fd: int) -> subprocess.Popen[bytes]:
    # `-c` rather than `-m`: the path must be the gateway's before anything is imported
    return subprocess.Popen(  # noqa: S603 (this interpreter, fixed code, numbers)
        [
            sys.executable,
            "-c",
            "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
            "from gateway.runtime.worker_process import main; "
            "main(int(sys.argv[2]), int(sys.argv[3]))",
            json.dumps(sys.path),
            str(jobs_fd),
            str(answers_fd),
        ],
        pass_fds=(jobs_fd, answers_fd),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )


class WorkerLost(Unavailable):
    """The worker process running a job died before it answered."""


class _Bystander(WorkerLost):
    """The job's worker was killed for another job's overrun: this one may run again."""


@dataclass
class _Job:
    future: asyncio.Future[Any]
    budget_s: float | None  # from the job's start in the worker; None: the job timeout only


def over_budget(budget_s: float) -> AttachmentUnreadable:
    return AttachmentUnreadable(
        f"checking this document's signatures and attachments took over {budget_s:g} s, the "
        "limit for one document (limits.attachment_budget_s), and was stopped: a damaged or "
        "hostile file, most often a PDF whose cross-reference table (startxref) is broken; "
        "repair or re-save the PDF and send the document again"
    )


class _WorkerProcess:
    """One worker process and its two pipes. Jobs go out as frames written from the event
    loop and answers come back to a reader task on the loop: no thread of the gateway takes
    part (a pool's feeder and manager threads took the GIL from the loop at every job)."""

    def __init__(self, lane: str) -> None:
        self.lane = lane
        self._pending: dict[int, _Job] = {}
        self._ids = 0
        self._budget: asyncio.TimerHandle | None = None
        self._killed_for: int | None = None  # the job whose overrun killed the process
        self.warmed = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._jobs: asyncio.WriteTransport | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self._gone = False
        self.alive = False

    @property
    def load(self) -> int:
        return len(self._pending)

    def check(self) -> bool:
        """Whether the process can take a job. One that has exited is found here rather than
        when the loop reads the end of its pipe, which may come after the next job was sent."""
        if self.alive and self._proc is not None and self._proc.poll() is not None:
            self._lost()
        return self.alive

    async def start(self) -> None:
        jobs_r, jobs_w = os.pipe()
        answers_r, answers_w = os.pipe()
        try:
            self._proc = await asyncio.to_thread(_spawn, jobs_r, answers_w)
        finally:
            os.close(jobs_r)
            os.close(answers_w)
        loop = asyncio.get_running_loop()
        answers = asyncio.StreamReader(limit=1 << 30)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(answers), os.fdopen(answers_r, "rb", 0)
        )
        self._jobs, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(jobs_w, "wb", 0))
        self._reader = asyncio.create_task(self._read_answers(answers))
        self.alive = True

    def run(
        self, job: Callable[[], T], timeout_s: float, budget_s: float | None = None
    ) -> asyncio.Future[T]:
        assert self._jobs is not None and self.alive
        self._ids += 1
        data = frame((self._ids, job))  # first: a job that cannot be sent raises here
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending[self._ids] = _Job(future, budget_s)
        self._jobs.write(data)
        overdue = loop.call_later(timeout_s, self._overdue, timeout_s)
        future.add_done_callback(lambda _: overdue.cancel())
        if len(self._pending) == 1:
            self._start_budget()
        return future

    def _start_budget(self) -> None:
        """Time the job the process is running now: it runs its jobs one at a time, in the
        order sent, so the first pending one. A job waiting behind others is not charged for
        their time."""
        if self._budget is not None:
            self._budget.cancel()
            self._budget = None
        if not self._pending:
            return
        job_id, job = next(iter(self._pending.items()))
        if job.budget_s is not None:
            loop = asyncio.get_running_loop()
            self._budget = loop.call_later(job.budget_s, self._over_budget, job_id, job.budget_s)

    def _over_budget(self, job_id: int, budget_s: float) -> None:
        if job_id not in self._pending or self._gone:
            return
        log.warning("worker_job_over_budget", lane=self.lane, budget_s=budget_s)
        OVER_BUDGET.labels(self.lane).inc()
        self._killed_for = job_id
        self.kill()

    def _overdue(self, timeout_s: float) -> None:
        # Stuck on one message (a pathological PDF, say), it would hold up every message
        # queued behind it: it goes, and its jobs get WorkerLost (503) with it.
        log.error("worker_job_timeout", lane=self.lane, timeout_s=timeout_s)
        self.kill()

    async def _read_answers(self, answers: asyncio.StreamReader) -> None:
        try:
            while True:
                (size,) = _HEADER.unpack(await answers.readexactly(_HEADER.size))
                # our own child, answering what we sent it: not untrusted input
                job_id, ok, value = pickle.loads(await answers.readexactly(size))  # noqa: S301
                settle(self._pending.pop(job_id).future, ok, value)
                self._start_budget()
        except asyncio.IncompleteReadError:
            self._lost()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a garbled answer: this process can no longer be trusted
            log.error("worker_answer_unreadable", lane=self.lane, error=repr(exc))
            self._lost()

    def _lost(self) -> None:
        if self._gone:  # found exited already (check), then the end of its pipe read
            return
        self._gone = True
        self.alive = False
        if self._budget is not None:
            self._budget.cancel()
        code = self._reap()
        if self._closing:
            return
        if self._killed_for is None:
            log.error(
                "worker_process_lost", lane=self.lane, exit_code=code, jobs=len(self._pending)
            )
            WORKERS_LOST.labels(self.lane).inc()
        for job_id, job in self._pending.items():
            if not job.future.done():
                job.future.set_exception(self._loss(job_id, job))
        self._pending.clear()

    def _loss(self, job_id: int, job: _Job) -> Exception:
        if self._killed_for is None:
            return WorkerLost(
                "a worker process checking messages stopped (killed or out of memory)"
                " while it had this one; nothing was accepted: send it again"
            )
        if job_id == self._killed_for and job.budget_s is not None:
            return over_budget(job.budget_s)
        return _Bystander("the worker process was stopped for another document")

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()  # its answers pipe ends, and _lost fails what it had

    def _reap(self) -> int | None:
        if self._proc is None:
            return None
        code = self._proc.poll()
        if code is None:  # its pipe is closed but it lives on: it is of no use any more
            self._proc.kill()
            code = self._proc.wait()
        return code

    async def close(self, timeout_s: float = 5.0) -> None:
        """End the process: the end of its input stops it; kill it if it does not stop."""
        self._closing = True
        self.alive = False
        if self._jobs is not None:
            self._jobs.close()  # the pipe closes on the loop's next turn, after what is queued
        if self._reader is not None:
            self._reader.cancel()
        if self._proc is not None:
            try:
                await asyncio.to_thread(self._proc.wait, timeout_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                await asyncio.to_thread(self._proc.wait)
        for job in self._pending.values():
            if not job.future.done():
                job.future.set_exception(WorkerLost("the gateway is stopping"))


class _Lane:
    """`size` worker processes for one kind of job; each job to the least busy one."""

    def __init__(self, name: str, size: int, job_timeout_s: float, budget_s: float) -> None:
        self.name = name
        self._size = size
        self._job_timeout_s = job_timeout_s
        self._budget_s = budget_s
        self._processes: list[_WorkerProcess] = []
        self._starting: asyncio.Lock | None = None
        self._warmers: tuple[Callable[[], object], ...] = ()

    async def _topped_up(self) -> list[_WorkerProcess]:
        self._processes = [p for p in self._processes if p.check()]
        if len(self._processes) < self._size:
            if self._starting is None:
                self._starting = asyncio.Lock()
            async with self._starting:  # concurrent first jobs start the processes once
                self._processes = [p for p in self._processes if p.alive]
                while len(self._processes) < self._size:
                    process = _WorkerProcess(self.name)
                    await process.start()
                    if self._warmers:  # a replacement: its first document's budget is not
                        await self._warm(process)  # spent on imports and the trust store
                    self._processes.append(process)
        return self._processes

    async def _warm(self, process: _WorkerProcess) -> None:
        process.warmed = True
        for job in self._warmers:
            warming = functools.partial(_run_for_effect, job)
            await process.run(warming, self._job_timeout_s)

    async def run(self, job: Callable[[], T]) -> T:
        for _ in range(BYSTANDER_TRIES):
            process = min(await self._topped_up(), key=lambda p: p.load)
            if not process.alive:  # died while it was warmed
                break
            try:
                return await process.run(job, self._job_timeout_s, self._budget_s)
            except _Bystander:
                continue  # stopped for another job's overrun: this one goes to a new worker
        raise WorkerLost("no worker process could check this message; send it again")

    async def warm(self, jobs: Sequence[Callable[[], object]]) -> None:
        self._warmers = tuple(jobs)
        processes = await self._topped_up()
        await asyncio.gather(*(self._warm(p) for p in processes if not p.warmed))

    async def close(self) -> None:
        processes, self._processes = self._processes, []
        await asyncio.gather(*(process.close() for process in processes))


class Workers:
    """Where checks run: never on the event loop.

    With `processes` > 0 (the default), checks run in worker processes, which use the
    machine's other cores instead of taking the GIL from the event loop, in two lanes of
    `processes` each: small messages in one, large ones and PDFs in the other, so that a 10 MB
    verification never queues ahead of small ones (docs/performance.md: a third more signed
    documents per second than on threads). A worker that dies costs the jobs it had
    (`WorkerLost`, 503: send again) and is replaced on the lane's next job; no job is run again
    here, since the one that killed a worker would likely kill the next. A job still running
    after `job_timeout_s` is taken for stuck: its worker is killed, with the same outcome for
    the jobs it had. A document's checks that run over `budget_s` from their start in the
    worker cost their worker too, but the document is refused (AttachmentUnreadable, 422) and
    the jobs queued behind it go to a new worker: the hostile document is the only one refused.
    With `processes = 0`
    everything runs on threads of the gateway process (a hop costs tens of µs there; the tree
    stays here).
    """

    def __init__(
        self,
        processes: int = 1,
        threads: int = 2,
        job_timeout_s: float = JOB_TIMEOUT_S,
        budget_s: float = ATTACHMENT_BUDGET_S,
    ) -> None:
        self.processes = processes
        self._small = ThreadPoolExecutor(threads, thread_name_prefix="verify")
        self._large_thread = ThreadPoolExecutor(1, thread_name_prefix="verify-large")
        self._lanes = {
            large: _Lane("large" if large else "small", processes, job_timeout_s, budget_s)
            for large in (False, True)
        }

    def is_large(self, size: int) -> bool:
        return sizes.is_large(size)

    async def in_thread(self, size: int, fn: Callable[..., T], *args: Any) -> T:
        pool = self._large_thread if self.is_large(size) else self._small
        return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args))

    async def in_process(self, size: int, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in the lane of a job of `size` bytes (needs `processes` > 0)."""
        if self.processes < 1:
            raise RuntimeError("no worker processes configured ([server] worker_processes)")
        return await self._lanes[self.is_large(size)].run(functools.partial(fn, *args))

    async def warm(self, *jobs: Callable[[], object]) -> None:
        """Start the worker processes and run `jobs` in each (imports, a trust store to build)
        before the gateway says it is ready, rather than on the first documents, which would
        wait a second for them."""
        if not self.processes:
            return
        await asyncio.gather(*(lane.warm(jobs) for lane in self._lanes.values()))

    async def close(self) -> None:
        self._small.shutdown(wait=False, cancel_futures=True)
        self._large_thread.shutdown(wait=False, cancel_futures=True)
        await asyncio.gather(*(lane.close() for lane in self._lanes.values()))
