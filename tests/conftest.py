"""Fixtures that open a whole gateway in the test process and close what they opened."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.app import Gateway
from gateway.clock import Clock, system_clock
from gateway.config import Settings
from tests.harness import AGENCIES, AgencyCalls, make_settings

GatewayFactory = Callable[..., Awaitable[Gateway]]

E2E = Path(__file__).parent / "e2e"
# A test needs a server when it uses its fixtures (tests/servers.py) or runs once per server kind.
SERVER_FIXTURES = {
    "rabbitmq": {"rabbitmq_vhost", "rabbitmq_fresh_vhost"},
    "postgres": {"postgres_admin", "postgres_database", "postgres_session_url"},
    "browser": {"chromium"},  # tests/console/browser.py
}
SERVER_PARAMS = {"rabbitmq": {"amqp"}, "postgres": {"postgresql"}, "browser": set()}


def markers_of(item: pytest.Item) -> set[str]:
    found = {"e2e"} if E2E in Path(item.path).parents else set()
    fixtures = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    params = {v for v in callspec.params.values() if isinstance(v, str)} if callspec else set()
    for marker, names in SERVER_FIXTURES.items():
        if fixtures & names or params & SERVER_PARAMS[marker]:
            found.add(marker)
    return found


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it needs (pyproject's markers), so `-m` can leave the slow out."""
    for item in items:
        for marker in sorted(markers_of(item)):
            item.add_marker(marker)


@pytest.fixture
async def gateway_factory(tmp_path: Path) -> AsyncIterator[GatewayFactory]:
    opened: list[Gateway] = []

    async def make(
        settings: Settings | None = None, *, clock: Clock = system_clock, **options: Any
    ) -> Gateway:
        gateway = await Gateway.open(
            settings or make_settings(tmp_path / "data"), clock=clock, **options
        )
        opened.append(gateway)
        return gateway

    yield make
    for gateway in reversed(opened):
        await gateway.close()


@dataclass
class Net:
    """A running gateway and, for each test agency, its view of the agency API."""

    gateway: Gateway
    client: Any
    ops: Any
    agencies: dict[str, AgencyCalls]

    def __getitem__(self, organ_id: str) -> AgencyCalls:
        return self.agencies[organ_id]


@pytest.fixture
def net_factory(
    gateway_factory: GatewayFactory, aiohttp_client: Any
) -> Callable[..., Awaitable[Net]]:
    async def make(
        settings: Settings | None = None, *, clock: Clock = system_clock, **options: Any
    ) -> Net:
        gateway = await gateway_factory(settings, clock=clock, **options)
        client = await aiohttp_client(gateway.agency_app)
        ops = await aiohttp_client(gateway.ops_app)
        return Net(gateway, client, ops, {a.id: AgencyCalls(client, a) for a in AGENCIES})

    return make


@pytest.fixture
async def net(net_factory: Callable[..., Awaitable[Net]]) -> Net:
    return await net_factory()
