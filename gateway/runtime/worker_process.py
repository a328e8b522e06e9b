"""A worker process: runs the jobs the gateway sends it, one at a time, and answers each.

It talks to the gateway over two pipes it inherits (see `runtime.workers`), in frames: a 4-byte
big-endian length, then a pickle. A job is `(job_id, callable)`; an answer is `(job_id, True,
result)` or `(job_id, False, exception)`. The process ends at the end of its input, which is
how the gateway stops it; it ignores SIGINT, which a terminal sends to the whole group.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
from collections.abc import Callable

_HEADER = struct.Struct(">I")


def read_frame(fd: int) -> bytes | None:
    """The next frame's payload; None at the end of the input."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    payload = _read_exactly(fd, size)
    if payload is None:
        raise EOFError("the input ended inside a frame")
    return payload


def frame(value: object) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            if chunks:
                raise EOFError("the input ended inside a frame")
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def answer(job_id: int, job: Callable[[], object]) -> bytes:
    try:
        outcome: tuple[int, bool, object] = (job_id, True, job())
    except Exception as exc:
        outcome = (job_id, False, exc)
    try:
        return frame(outcome)
    except Exception as exc:  # an answer that cannot travel must not kill the worker
        return frame((job_id, False, RuntimeError(f"the worker's answer cannot be sent: {exc!r}")))


def main(jobs_fd: int, answers_fd: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while (payload := read_frame(jobs_fd)) is not None:
        job_id, job = pickle.loads(payload)  # noqa: S301 (from the gateway that started us)
        _write_all(answers_fd, answer(job_id, job))
