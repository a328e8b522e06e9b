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
