"""A fake national axis, and gateways that reach ministries through it or answer the SDK."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from gateway.config import DeliverySettings, Settings
from tests.conftest import Net
from tests.harness import AGENCIES, FINANCE, GOV_OFFICE, HOME_AFFAIRS, Org, make_settings
from tests.vdxp.fake_axis import FakeAxis
from tests.vdxp.sdk_client import SdkClient

CITY_SYSTEMID = "vxp.hanoi.test"
AXIS_SECRET = "axis-secret-for-the-tests-0123456789"
MINISTRY = Org("000.00.00.G12", "Bộ Tài chính", "central")
MINISTRIES = (GOV_OFFICE, MINISTRY)


def axis_delivery(url: str, **extra: Any) -> DeliverySettings:
    options = {
        "url": url,
        "systemid": CITY_SYSTEMID,
        "secret": AXIS_SECRET,
        "poll_interval_s": 0.05,
        "max_backoff_s": 0.4,
        "timeout_s": 10,
        **extra,
    }
    return DeliverySettings(adapter="vdxp", options=options)


def bridged_settings(data_dir: Path, axis_url: str, **extra: Any) -> Settings:
    """The test agencies, the Government Office and a ministry reached through the axis."""
    delivery = axis_delivery(axis_url, **extra)
    return make_settings(
        data_dir,
        agencies=(*AGENCIES, MINISTRY),
        deliveries={ministry.id: delivery for ministry in MINISTRIES},
    )


def with_vdxp_secrets(settings: Settings, secrets: Mapping[str, str], **fields: Any) -> Settings:
    """`settings` where the agencies named in `secrets` may call the façade."""
    agencies = tuple(
        dataclasses.replace(a, vdxp_secret=secrets[a.id], **fields) if a.id in secrets else a
        for a in settings.agencies
    )
    return dataclasses.replace(settings, agencies=agencies)


@pytest.fixture
async def axis(aiohttp_server: Any) -> FakeAxis:
    fake = FakeAxis(CITY_SYSTEMID, AXIS_SECRET)
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def bridged(
    axis: FakeAxis, net_factory: Callable[..., Awaitable[Net]], tmp_path: Path
) -> Net:
    # the axis first, so that it is torn down after the gateway that polls it
    return await net_factory(bridged_settings(tmp_path / "data", axis.url))


# Agencies that call the façade with the SDK; Home Affairs keeps the systemid it had on the axis.
FACADE_SECRETS = {
    FINANCE.id: "finance-sdk-secret-0123456789",
    HOME_AFFAIRS.id: "home-affairs-sdk-secret-0123456789",
}
HOME_SYSTEMID = "vxp.noivu.test"


def facade_settings(data_dir: Path) -> Settings:
    settings = with_vdxp_secrets(make_settings(data_dir), FACADE_SECRETS)
    return with_vdxp_secrets(
        settings, {HOME_AFFAIRS.id: FACADE_SECRETS[HOME_AFFAIRS.id]}, vdxp_systemid=HOME_SYSTEMID
    )


class Moment:
    """A clock the test moves by hand (the gateway's and a caller's)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def sdk_for(net: Net, organ_id: str, **options: Any) -> SdkClient:
    systemid = HOME_SYSTEMID if organ_id == HOME_AFFAIRS.id else organ_id
    return SdkClient(net.client, systemid, FACADE_SECRETS[organ_id], **options)
