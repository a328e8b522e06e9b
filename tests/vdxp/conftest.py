"""A fake national axis, and gateways that reach ministries through it or answer the SDK."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from gateway.config import DeliverySettings, Settings
from tests.conftest import Net
from tests.harness import AGENCIES, GOV_OFFICE, Org, make_settings
from tests.vdxp.fake_axis import FakeAxis

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
