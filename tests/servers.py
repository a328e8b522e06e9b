"""The real servers some tests need: RabbitMQ and PostgreSQL on this machine (`.ci/run` starts
them when they are not answering).

Under CI (`CI` set) a server that does not answer fails the test; elsewhere it skips it. Each
test session gets its own RabbitMQ virtual host and its own PostgreSQL database, removed at the
end, so nothing is left behind and nothing is shared with another session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import aio_pika
import asyncpg
import pytest
from yarl import URL

RABBITMQ_URL = os.environ.get("EDOCGW_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
T = TypeVar("T")

POSTGRES_URL = os.environ.get(
    "EDOCGW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def answers(url: str, default_port: int) -> bool:
    parsed = URL(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or default_port), 2):
            return True
    except OSError:
        return False


def require(url: str, default_port: int, name: str) -> None:
    if answers(url, default_port):
        return
    message = f"{name} is not answering at {URL(url).host}:{URL(url).port or default_port}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI: tests against {name} never skip; .ci/run starts it)")
    pytest.skip(message)


# --- RabbitMQ -----------------------------------------------------------------------------------
# The command line tools are Erlang nodes too; RabbitMQ lets 11 run at once (ports 35672-35682),
# so one that hangs must be ended with its children, or it keeps its port.
CTL_TIMEOUT_S = 60
STALE_VHOST_S = 3 * 3600  # a test vhost this old was left by a session that died
_VHOST_PREFIX = "edocgw-test-"


def rabbitmqctl(*args: str, timeout: float = CTL_TIMEOUT_S) -> str:
    with subprocess.Popen(
        ["rabbitmqctl", "-q", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, ["rabbitmqctl", *args], out, err)
    return out


def _delete_vhost(name: str) -> None:
    """Delete a vhost, waiting for the broker if another session has stopped it meanwhile."""
    for attempt in range(3):
        try:
            rabbitmqctl("delete_vhost", name)
            return
        except subprocess.CalledProcessError:
            if attempt == 2:
                raise
            rabbitmqctl("await_startup", timeout=120)


def _sweep_stale_vhosts() -> None:
    now = int(time.time())
    for line in rabbitmqctl("list_vhosts", "name").splitlines():
        name = line.strip()
        stamp = name.removeprefix(_VHOST_PREFIX).split("-")[0]
        if name.startswith(_VHOST_PREFIX) and stamp.isdigit() and now - int(stamp) > STALE_VHOST_S:
            _delete_vhost(name)


@dataclass(frozen=True)
class RabbitVhost:
    url: str  # amqp URL of the session's virtual host
    name: str


@contextlib.contextmanager
def _vhost() -> Iterator[RabbitVhost]:
    require(RABBITMQ_URL, 5672, "RabbitMQ")
    base = URL(RABBITMQ_URL)
    if shutil.which("rabbitmqctl") is None:  # a remote broker: share its default vhost
        yield RabbitVhost(str(base), base.path.lstrip("/") or "/")
        return
    name = f"{_VHOST_PREFIX}{int(time.time())}-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, base.user or "guest", ".*", ".*", ".*")
        yield RabbitVhost(str(base.with_path("/" + name)), name)
    finally:
        _delete_vhost(name)


@pytest.fixture(scope="session")
def rabbitmq_vhost() -> Iterator[RabbitVhost]:
    """A virtual host for the session (tests make their queue names unique, and delete their
    queues: every quorum queue holds file handles in the broker)."""
    require(RABBITMQ_URL, 5672, "RabbitMQ")
    if shutil.which("rabbitmqctl") is not None:
        _sweep_stale_vhosts()
    with _vhost() as vhost:
        yield vhost


@pytest.fixture
def rabbitmq_fresh_vhost() -> Iterator[RabbitVhost]:
    """A virtual host of its own for one test (gateways name their queues by agency)."""
    with _vhost() as vhost:
        yield vhost


async def delete_queues(url: str, names: Iterable[str]) -> None:
    """Delete queues whatever they hold (a quorum queue refuses `if_unused=True`)."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for name in names:
            await channel.queue_delete(name, if_unused=False, if_empty=False)


# --- PostgreSQL ---------------------------------------------------------------------------------
async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def run_aside(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even where an event loop is running (a
    session fixture first requested by an async fixture is set up inside the test's loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def create_database(name: str) -> str:
    run_aside(_admin(f'CREATE DATABASE "{name}"'))
    return str(URL(POSTGRES_URL).with_path("/" + name))


def drop_database(name: str) -> None:
    run_aside(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def new_database_name() -> str:
    return f"edocgw_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    require(POSTGRES_URL, 5432, "PostgreSQL")
    return POSTGRES_URL


@pytest.fixture
def postgres_database(postgres_admin: str) -> Iterator[str]:
    """A fresh, empty database for one test; its URL."""
    name = new_database_name()
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)
