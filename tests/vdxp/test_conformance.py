"""The conformance stories through the national axis' façade: once with the product's driver
(conformance.facade_driver, calls signed as the issue describes the SDK's signing), once with a
driver speaking exactly as SDKVXP 2.0.1 does (tests/vdxp/sdk_client.py)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from gateway.conformance.driver import Driver, Outcome, Received
from gateway.conformance.facade_driver import FacadeDriver
from gateway.conformance.stories import MARKER, Context, Parties, run_stories
from tests.conftest import Net
from tests.harness import FINANCE, HOME_AFFAIRS, make_settings
from tests.vdxp.conftest import with_vdxp_secrets
from tests.vdxp.sdk_client import SdkClient

SECRETS = {FINANCE.id: "finance-sdk-secret-0123456789", HOME_AFFAIRS.id: "home-sdk-secret-0123"}


class SdkDriver:
    """The stories' parties as Java systems on SDKVXP 2.0.1, pointed at the gateway."""

    name = "vdxp-sdk-2.0.1"

    def __init__(self, net: Net) -> None:
        self._clients = {a: SdkClient(net.client, a, secret) for a, secret in SECRETS.items()}
        self._collected: dict[str, list[Received]] = {}
        self._down: set[str] = set()

    async def send(self, raw: bytes, sender: str) -> Outcome:
        # the SDK's callers name the message type; a status is recognised by its root's content
        kind = "status" if b"StatusCode>" in raw else "edoc"
        answer = await self._clients[sender].send_edoc(raw, messagetype=kind)
        if answer["status"] == "OK":
            return Outcome(accepted=True, id=answer["DocId"])
        code, _, detail = answer["ErrorDesc"].partition(": ")
        return Outcome(accepted=False, code=code, detail=detail)

    async def received(self, recipient: str) -> list[Received]:
        collected = self._collected.setdefault(recipient, [])
        if recipient not in self._down:
            client = self._clients[recipient]
            for kind in ("edoc", "status"):
                for item in (await client.received(kind))["data"]:
                    body = base64.b64decode((await client.get_edoc(item["docId"]))["data"])
                    await client.update_status(item["docId"], "done")
                    collected.append(Received("status" if kind == "status" else "edoc", body))
        return list(collected)

    async def recipient_down(self, recipient: str) -> None:
        self._down.add(recipient)

    async def recipient_up(self, recipient: str) -> None:
        self._down.discard(recipient)


@pytest.fixture
async def net(net_factory: Callable[..., Awaitable[Net]], tmp_path: Path) -> Net:
    return await net_factory(with_vdxp_secrets(make_settings(tmp_path / "data"), SECRETS))


@pytest.fixture
async def product_driver(net: Net) -> AsyncIterator[FacadeDriver]:
    systems = {agency: (agency, secret) for agency, secret in SECRETS.items()}
    driver = FacadeDriver(str(net.client.make_url("/")), systems, marker=MARKER, timeout_s=10)
    await driver.open()
    yield driver
    await driver.close()


async def passes_every_story(driver: Driver) -> None:
    ctx = Context(driver, Parties(FINANCE.id, HOME_AFFAIRS.id), timeout_s=10, down_s=0.3)

    results = await run_stories(ctx)

    assert [(r.story, r.detail) for r in results if not r.passed] == []
    assert len(results) == 8


async def test_the_facade_passes_every_story(product_driver: FacadeDriver) -> None:
    await passes_every_story(product_driver)


async def test_the_facade_passes_every_story_with_the_sdks_own_calls(net: Net) -> None:
    await passes_every_story(SdkDriver(net))
