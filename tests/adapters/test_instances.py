"""Adapter instances as configured: their names, their options checked at start-up, and the
lifecycle events they are told."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from gateway.adapter_api import AdapterHost, LifecycleEvent, OutboundItem, PermanentFailure
from gateway.cli.main import main
from gateway.config import ConfigError, DeliverySettings, load_settings
from gateway.delivery.dispatcher import check_adapters
from gateway.delivery.host import instances
from gateway.directory import Directory
from tests.api.test_exchange import wait_inbox
from tests.factories import document_bytes
from tests.harness import BA_DINH, CITY, FINANCE, config_toml, make_settings
from tests.waiting import eventually


def test_instances_are_named_by_config_or_after_adapter_and_agency(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        deliveries={
            CITY.id: DeliverySettings(adapter="mailbox", name="ubnd-hn"),
            FINANCE.id: DeliverySettings(adapter="mailbox"),
        },
    )
    named = instances(Directory(settings))
    assert (named[CITY.id].name, named[CITY.id].adapter) == ("ubnd-hn", "mailbox")
    assert named[FINANCE.id].name == f"mailbox:{FINANCE.id}"


def test_two_instances_may_not_share_a_name(tmp_path: Path) -> None:
    same = DeliverySettings(adapter="mailbox", name="shared")
    settings = make_settings(tmp_path, deliveries={CITY.id: same, FINANCE.id: same})
    with pytest.raises(ConfigError) as refused:
        check_adapters(settings)
    assert f"agency {FINANCE.id}: delivery.name 'shared' is already the name of agency" in str(
        refused.value
    )


def write_config(tmp_path: Path, deliveries: dict[str, dict[str, Any]]) -> Path:
    """In a configuration folder of its own: departments' folders are kept out of it."""
    (tmp_path / "etc").mkdir()
    config = tmp_path / "etc" / "gateway.toml"
    config.write_text(
        config_toml(
            tmp_path / "data", listen="127.0.0.1:1", ops_listen="127.0.0.1:2", deliveries=deliveries
        )
    )
    return config


@pytest.mark.parametrize(
    ("delivery", "message"),
    [
        (
            {"adapter": "webhook", "url": "https://x.example/", "hmac_secret": "short"},
            f"agency {CITY.id}: delivery: hmac_secret: 5 characters is too short",
        ),
        ({"adapter": "folder", "inbox": "../in"}, f"agency {CITY.id}: delivery: outbox: give"),
        ({"adapter": "fax"}, "delivery.adapter 'fax' is not installed (installed: "),
        ({"adapter": "mailbox", "name": "a name"}, "agencies[0].delivery.name: String should"),
    ],
)
def test_check_config_names_the_agency_and_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], delivery: dict[str, Any], message: str
) -> None:
    config = write_config(tmp_path, {CITY.id: delivery})
    with pytest.raises(SystemExit) as exit_:
        main(["check-config", str(config)])
    assert message in str(exit_.value.code)


def test_folders_are_relative_to_the_configuration_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path, {CITY.id: {"adapter": "folder", "inbox": "../hn/in", "outbox": "../hn/out"}}
    )
    with pytest.raises(SystemExit) as exit_:
        main(["check-config", str(config)])
    assert exit_.value.code == 0
    settings = load_settings(config)
    assert settings.agency(CITY.id).delivery.options == {"inbox": "../hn/in", "outbox": "../hn/out"}  # type: ignore[union-attr]


class Recording:
    """Mailbox delivery that remembers the lifecycle events it is told; refuses one sender."""

    events: ClassVar[list[tuple[str, str, str, str | None]]] = []

    def __init__(
        self, *, instance: str, agency: str, options: Mapping[str, Any], host: AdapterHost
    ) -> None:
        self.agency = agency
        self._host = host

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def deliver(self, item: OutboundItem) -> None:
        if item.sender == BA_DINH.id:
            raise PermanentFailure("we take nothing from Ba Đình")
        await self._host.hold_for_pickup(item)

    async def on_event(self, event: LifecycleEvent) -> None:
        Recording.events.append((self.agency, event.name, event.item.recipient, event.reason))


async def test_lifecycle_events_reach_the_recipients_and_the_senders_instances(
    net_factory: Any, tmp_path: Path
) -> None:
    Recording.events = []
    recording = DeliverySettings(adapter="recording")
    settings = make_settings(
        tmp_path / "data", deliveries={CITY.id: recording, FINANCE.id: recording}
    )
    net = await net_factory(settings, adapter_factories={"recording": Recording})
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    assert (await net[FINANCE.id].submit(raw))[0] == 202
    await wait_inbox(net, CITY.id, 1)
    refused = document_bytes(sender=BA_DINH.id, recipients=(CITY.id,))
    assert (await net[BA_DINH.id].submit(refused))[0] == 202
    await eventually(lambda: _events(), lambda found: len(found) == 3)
    assert Recording.events == [
        (CITY.id, "delivered", CITY.id, None),
        (FINANCE.id, "delivered", CITY.id, None),
        (CITY.id, "delivery_failed", CITY.id, "we take nothing from Ba Đình"),
    ]


async def _events() -> list[Any]:
    return list(Recording.events)


def submissions(instance: str, outcome: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value(
        "edocgw_adapter_submissions_total", {"adapter_instance": instance, "outcome": outcome}
    )
    return value or 0.0


async def test_submissions_through_an_instance_are_counted_under_its_name(
    net_factory: Any, tmp_path: Path
) -> None:
    outbox = tmp_path / "tc" / "out"
    folder = DeliverySettings(
        adapter="folder",
        name="so-tc-folder",
        options={"inbox": "tc/in", "outbox": "tc/out", "poll_s": 0.02, "settle_s": 0},
    )
    settings = make_settings(tmp_path / "data", deliveries={FINANCE.id: folder})
    before = {o: submissions("so-tc-folder", o) for o in ("accepted", "replayed", "refused")}
    net = await net_factory(settings, config_path=tmp_path / "gateway.toml")
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    for name, data in (("a", raw), ("b", b"<not-xml"), ("c", raw)):
        (outbox / f"{name}.tmp").write_bytes(data)
        (outbox / f"{name}.tmp").rename(outbox / f"{name}.edxml")
        # one at a time: c must find a accepted before it
        await eventually(lambda stem=name: _settled(outbox, stem), bool)
    after = {o: submissions("so-tc-folder", o) - before[o] for o in before}
    assert after == {"accepted": 1, "replayed": 1, "refused": 1}
    [item] = await wait_inbox(net, CITY.id, 1)
    assert item["size"] == len(raw)


async def _settled(outbox: Path, name: str) -> bool:
    return not (outbox / f"{name}.edxml").exists()
