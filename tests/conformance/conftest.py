"""A gateway in the test process, its agency API on a real port, and for each channel the
driver of gateway.conformance with the two parties configured for that channel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.app import Gateway
from gateway.config import DeliverySettings
from gateway.conformance.driver import Driver
from gateway.conformance.folder_driver import FolderDriver, Folders
from gateway.conformance.http_driver import AgencyApiClient, HttpDriver
from gateway.conformance.receiver import Receiver
from gateway.conformance.stories import Context, Parties
from gateway.conformance.webhook_driver import WebhookDriver
from tests.harness import CITY, FINANCE, make_settings

SECRET = "conformance-secret-0123456789abcdef"
CHANNELS = ["http", "webhook", "folder"]


async def serve(app: web.Application, stack: AsyncExitStack) -> str:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return f"http://127.0.0.1:{runner.addresses[0][1]}"


@dataclass
class Channel:
    name: str
    gateway: Gateway
    driver: Driver
    context: Context
    receivers: dict[str, Receiver]
    folders: dict[str, Folders]


async def _deliveries(
    name: str, tmp_path: Path, stack: AsyncExitStack
) -> tuple[dict[str, DeliverySettings], dict[str, Receiver], dict[str, Folders]]:
    receivers: dict[str, Receiver] = {}
    folders: dict[str, Folders] = {}
    deliveries: dict[str, DeliverySettings] = {}
    for party in (FINANCE.id, CITY.id):
        if name == "webhook":
            receiver = Receiver(party, SECRET.encode())
            await receiver.start()
            stack.push_async_callback(receiver.stop)
            receivers[party] = receiver
            options: dict[str, Any] = {"url": receiver.url, "hmac_secret": SECRET, "timeout_s": 5}
            deliveries[party] = DeliverySettings(adapter="webhook", options=options)
        elif name == "folder":
            folders[party] = Folders(tmp_path / party / "inbox", tmp_path / party / "outbox")
            options = {
                "inbox": str(folders[party].inbox),
                "outbox": str(folders[party].outbox),
                "poll_s": 0.02,
                "settle_s": 0,
            }
            deliveries[party] = DeliverySettings(adapter="folder", options=options)
    return deliveries, receivers, folders


ChannelFactory = Callable[..., Awaitable[Channel]]


@pytest.fixture
async def channel_factory(gateway_factory: Any, tmp_path: Path) -> AsyncIterator[ChannelFactory]:
    async with AsyncExitStack() as stack:

        async def make(name: str, **context: Any) -> Channel:
            deliveries, receivers, folders = await _deliveries(name, tmp_path, stack)
            gateway = await gateway_factory(make_settings(tmp_path / "data", deliveries=deliveries))
            url = await serve(gateway.agency_app, stack)
            session = await stack.enter_async_context(aiohttp.ClientSession())
            api = AgencyApiClient(session, url, {FINANCE.id: FINANCE.token, CITY.id: CITY.token})
            driver: Driver
            if name == "webhook":
                driver = WebhookDriver(api, receivers, down=context.pop("down", "error"))
            elif name == "folder":
                driver = FolderDriver(folders, timeout_s=10)
            else:
                driver = HttpDriver(api)
            ctx = Context(
                driver,
                Parties(FINANCE.id, CITY.id),
                timeout_s=context.pop("timeout_s", 10.0),
                down_s=context.pop("down_s", 0.5),
                poll_s=0.02,
            )
            return Channel(name, gateway, driver, ctx, receivers, folders)

        yield make
