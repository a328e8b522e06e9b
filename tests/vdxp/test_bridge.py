"""The vdxp bridge: city documents to ministries go up to the axis; what ministries send the city
comes down through the intake and is acknowledged to the axis."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from adapters.vdxp.poller import backoff_s
from gateway.config import ConfigError, DeliverySettings
from gateway.delivery.dispatcher import check_adapters
from gateway.vdxp import sdk_hash_file, sdk_timestamp, sign_headers
from gateway.vdxp.client import AxisClient, AxisRefused
from tests.api.test_exchange import wait_inbox
from tests.conftest import Net
from tests.factories import document_bytes, status_bytes
from tests.harness import AUDITOR_TOKEN, FINANCE, GOV_OFFICE, HOME_AFFAIRS, bearer, make_settings
from tests.vdxp.conftest import (
    AXIS_SECRET,
    CITY_SYSTEMID,
    MINISTRY,
    axis_delivery,
    bridged_settings,
)
from tests.vdxp.fake_axis import FakeAxis, Upload
from tests.waiting import eventually


async def uploads(axis: FakeAxis, count: int) -> list[Upload]:
    async def probe() -> list[Upload]:
        return list(axis.uploads)

    return await eventually(probe, lambda found: len(found) >= count)


async def acks(axis: FakeAxis, count: int) -> list[tuple[str, str, str]]:
    async def probe() -> list[tuple[str, str, str]]:
        return list(axis.acks)

    return await eventually(probe, lambda found: len(found) >= count)


async def test_a_document_for_a_ministry_is_uploaded_signed_and_confirmed(
    bridged: Net, axis: FakeAxis
) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(GOV_OFFICE.id,))
    status, body = await bridged[FINANCE.id].submit(raw)
    assert status == 202

    [upload] = await uploads(axis, 1)
    assert upload.body == raw
    assert {k: upload.params[k] for k in ("from", "servicetype", "messagetype", "hash-file")} == {
        "from": CITY_SYSTEMID,
        "servicetype": "eDoc",
        "messagetype": "edoc",
        "hash-file": sdk_hash_file(raw),
    }
    assert axis.refusals == []
    _, trace = await eventually(
        lambda: bridged[FINANCE.id].trace(body["id"]),
        lambda found: found[1]["recipients"][0]["state"] == "delivered",
    )
    [row] = trace["recipients"]
    assert row["organ_id"] == GOV_OFFICE.id
    assert [e["via"] for e in row["events"] if e["event"] == "delivered"] == ["push"]


async def test_a_document_for_two_ministries_is_uploaded_once(bridged: Net, axis: FakeAxis) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(GOV_OFFICE.id, MINISTRY.id))
    status, body = await bridged[FINANCE.id].submit(raw)
    assert status == 202

    _, trace = await eventually(
        lambda: bridged[FINANCE.id].trace(body["id"]),
        lambda found: {r["state"] for r in found[1]["recipients"]} == {"delivered"},
    )
    assert len(trace["recipients"]) == 2
    assert [u.body for u in axis.uploads] == [raw]


async def test_a_ministry_document_is_brought_in_and_acknowledged_done(
    bridged: Net, axis: FakeAxis
) -> None:
    raw = document_bytes(sender=GOV_OFFICE.id, recipients=(FINANCE.id, HOME_AFFAIRS.id))
    doc_id = axis.hold(raw, sender=GOV_OFFICE.id)

    for recipient in (FINANCE.id, HOME_AFFAIRS.id):
        [item] = await wait_inbox(bridged, recipient, 1)
        assert item["from"] == GOV_OFFICE.id
        assert await bridged[recipient].fetch(item["delivery_id"]) == (200, raw)
    assert await acks(axis, 1) == [(doc_id, "done", "")]
    assert axis.held == {}


async def test_a_circular_to_every_province_is_taken_for_the_city_agencies_it_names(
    bridged: Net, axis: FakeAxis
) -> None:
    # To: a city department, another province (not served here), and a ministry that the
    # axis reaches itself: the city takes its own copy and sends nothing back up
    other_province = "000.00.00.H29"
    raw = document_bytes(sender=GOV_OFFICE.id, recipients=(FINANCE.id, other_province, MINISTRY.id))
    doc_id = axis.hold(raw, sender=GOV_OFFICE.id)

    [item] = await wait_inbox(bridged, FINANCE.id, 1)
    assert await bridged[FINANCE.id].fetch(item["delivery_id"]) == (200, raw)
    assert await acks(axis, 1) == [(doc_id, "done", "")]
    response = await bridged.ops.get(
        "/v1/audit/events", params={"limit": "100"}, headers=bearer(AUDITOR_TOKEN)
    )
    accepted = [e for e in (await response.json())["events"] if e["event"] == "accepted"]
    assert [(e["actor"], e["recipient"]) for e in accepted] == [(GOV_OFFICE.id, FINANCE.id)]
    assert axis.uploads == []  # the ministry's copy is the axis' business, not the city's


async def test_a_circular_naming_no_city_agency_is_acknowledged_fail(
    bridged: Net, axis: FakeAxis
) -> None:
    raw = document_bytes(sender=GOV_OFFICE.id, recipients=("000.00.00.H29", MINISTRY.id))
    doc_id = axis.hold(raw, sender=GOV_OFFICE.id)

    [(acked, status, reason)] = await acks(axis, 1)

    assert (acked, status) == (doc_id, "fail")
    assert reason.startswith("unknown_recipient: none of the recipients")
    assert "000.00.00.H29" in reason


async def test_a_ministry_status_reaches_the_city_sender(bridged: Net, axis: FakeAxis) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(GOV_OFFICE.id,), document_id="VB-G22-1")
    await bridged[FINANCE.id].submit(raw)
    await uploads(axis, 1)
    status = status_bytes(
        sender=GOV_OFFICE.id,
        response_for_sender=FINANCE.id,
        document_id="VB-G22-1",
        status_code="03",
    )
    doc_id = axis.hold(status, sender=GOV_OFFICE.id, kind="status")

    [item] = await wait_inbox(bridged, FINANCE.id, 1, kind="status")
    assert item["from"] == GOV_OFFICE.id
    assert await bridged[FINANCE.id].fetch(item["delivery_id"]) == (200, status)
    assert await acks(axis, 1) == [(doc_id, "done", "")]


async def test_a_city_status_about_a_ministry_document_goes_up_as_a_status(
    bridged: Net, axis: FakeAxis
) -> None:
    document = document_bytes(sender=GOV_OFFICE.id, recipients=(FINANCE.id,), document_id="G-7")
    axis.hold(document, sender=GOV_OFFICE.id)
    await wait_inbox(bridged, FINANCE.id, 1)
    status = status_bytes(
        sender=FINANCE.id, response_for_sender=GOV_OFFICE.id, document_id="G-7", status_code="01"
    )

    code, _ = await bridged[FINANCE.id].send_status(status)

    assert code == 202
    [upload] = await uploads(axis, 1)
    assert (upload.body, upload.params["messagetype"]) == (status, "status")


async def test_refused_items_are_acknowledged_fail_with_the_reason(
    bridged: Net, axis: FakeAxis
) -> None:
    held = {
        "sender_mismatch": axis.hold(
            document_bytes(sender=GOV_OFFICE.id, recipients=(FINANCE.id,)), sender=MINISTRY.id
        ),
        "forbidden": axis.hold(
            document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)), sender=FINANCE.id
        ),
        "malformed_xml": axis.hold(b"<edXML><unclosed>", sender=GOV_OFFICE.id),
        "unknown_recipient": axis.hold(
            document_bytes(sender=GOV_OFFICE.id, recipients=("000.00.00.X99",)),
            sender=GOV_OFFICE.id,
        ),
    }

    answered = {doc_id: (status, reason) for doc_id, status, reason in await acks(axis, 4)}

    for code, doc_id in held.items():
        status, reason = answered[doc_id]
        assert status == "fail"
        assert reason.startswith(f"{code}: ")
    assert "000.00.00.X99" in answered[held["unknown_recipient"]][1]
    assert await bridged[FINANCE.id].inbox_all() == []
    assert await bridged[HOME_AFFAIRS.id].inbox_all() == []


async def test_an_item_taken_twice_is_accepted_once(bridged: Net, axis: FakeAxis) -> None:
    axis.fail_acks = 1  # the first acknowledgement is lost: the axis offers the item again
    raw = document_bytes(sender=GOV_OFFICE.id, recipients=(FINANCE.id,))
    doc_id = axis.hold(raw, sender=GOV_OFFICE.id)

    assert await acks(axis, 1) == [(doc_id, "done", "")]
    assert axis.count("getEdoc") == 2
    assert len(await bridged[FINANCE.id].inbox_all()) == 1


async def test_polling_backs_off_while_the_axis_is_down_then_resumes(
    bridged: Net, axis: FakeAxis
) -> None:
    axis.down = True

    async def list_calls() -> list[float]:
        return [at for op, at in axis.calls if op == "getReceivedEdocList"]

    calls = await eventually(list_calls, lambda found: len(found) >= 6)
    # from the 3rd failure on, the wait is at least half of min(cap 0.4, 0.05 * 2**3)
    assert calls[5] - calls[4] >= 0.19
    axis.down = False
    raw = document_bytes(sender=GOV_OFFICE.id, recipients=(FINANCE.id,))
    axis.hold(raw, sender=GOV_OFFICE.id)
    [item] = await wait_inbox(bridged, FINANCE.id, 1)
    assert item["from"] == GOV_OFFICE.id


async def test_a_refused_upload_is_retried_and_nothing_reaches_the_axis(
    axis: FakeAxis, net_factory: Any, tmp_path: Path
) -> None:
    settings = bridged_settings(
        tmp_path / "data", axis.url, secret="not-the-axis-secret-0000", poll=False
    )
    net = await net_factory(settings)
    raw = document_bytes(sender=FINANCE.id, recipients=(GOV_OFFICE.id,))
    _, body = await net[FINANCE.id].submit(raw)

    async def refusals() -> list[tuple[str, str]]:
        return list(axis.refusals)

    found = await eventually(refusals, lambda r: len(r) >= 2)
    assert set(found) == {("sendEdoc", "wrong HMAC")}
    assert axis.uploads == []
    _, trace = await net[FINANCE.id].trace(body["id"])
    assert trace["recipients"][0]["state"] == "queued"


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    for failures in range(1, 12):
        ceiling = min(600.0, 30.0 * 2**failures)
        for _ in range(50):
            assert ceiling / 2 <= backoff_s(failures, 30.0, 600.0) <= ceiling


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"colour": "blue"}, "unknown option(s) for the vdxp adapter: colour"),
        ({"url": None}, "needs url"),
        ({"url": "ftp://axis"}, "url: an http:// or https:// URL"),
        ({"secret": "env:EDOCGW_TEST_UNSET_AXIS_SECRET"}, "EDOCGW_TEST_UNSET_AXIS_SECRET"),
        ({"secret": "short"}, "at least 16 characters"),
        ({"poll_interval_s": 0}, "poll_interval_s: a number of seconds above 0"),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone"),
    ],
)
def test_bad_options_stop_start_up_naming_the_agency_and_option(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    chosen = {**axis_delivery("https://axis.example").options, **options}
    delivery = DeliverySettings(
        adapter="vdxp", options={k: v for k, v in chosen.items() if v is not None}
    )
    settings = make_settings(tmp_path, deliveries={GOV_OFFICE.id: delivery})

    with pytest.raises(ConfigError) as raised:
        check_adapters(settings)
    assert f"agency {GOV_OFFICE.id}: delivery:" in str(raised.value)
    assert message in str(raised.value)
    assert "axis-secret-for-the-tests" not in str(raised.value)


def test_ministries_on_one_axis_account_must_share_its_options(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        agencies=(GOV_OFFICE, MINISTRY),
        deliveries={
            GOV_OFFICE.id: axis_delivery("https://axis.example"),
            MINISTRY.id: axis_delivery("https://axis.example", poll_interval_s=5),
        },
    )
    with pytest.raises(ConfigError, match="share one poller: give them the same options"):
        check_adapters(settings)


def test_a_secret_may_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDOCGW_TEST_AXIS_SECRET", "from-the-environment-0123456789")
    delivery = axis_delivery("https://axis.example", secret="env:EDOCGW_TEST_AXIS_SECRET")
    check_adapters(make_settings(tmp_path, deliveries={GOV_OFFICE.id: delivery}))


async def test_the_axis_refuses_calls_not_signed_as_the_sdk_signs(axis: FakeAxis) -> None:
    def client(secret: str = AXIS_SECRET, skew_s: float = 0) -> AxisClient:
        return AxisClient(
            axis.url,
            systemid=CITY_SYSTEMID,
            secret=secret,
            tz=ZoneInfo("Asia/Ho_Chi_Minh"),
            clock=lambda: time.time() + skew_s,
        )

    outcomes: list[str] = []
    for made in (client(), client(secret="another-secret-0123456789"), client(skew_s=-400)):
        await made.open()
        try:
            await made.received("edoc")
            outcomes.append("ok")
        except AxisRefused as refused:
            outcomes.append(refused.reason)
        finally:
            await made.close()
    headers = sign_headers(
        {"servicetype": "eDoc"},
        systemid=CITY_SYSTEMID,
        secret=AXIS_SECRET,
        timestamp=sdk_timestamp(time.time(), ZoneInfo("Asia/Ho_Chi_Minh")),
    )
    del headers["XroadVnpt-sign-header-key"]
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{axis.url}/getReceivedEdocList", headers=headers) as response,
    ):
        unsigned = (response.status, await response.json())

    assert outcomes[0] == "ok"
    assert outcomes[1].endswith("FAIL 401: wrong HMAC")
    assert outcomes[2].endswith("FAIL 401: stale timestamp")
    assert unsigned == (
        401,
        {"status": "FAIL", "ErrorCode": "401", "ErrorDesc": "missing signing header"},
    )
    assert [why for _, why in axis.refusals] == [
        "wrong HMAC",
        "stale timestamp",
        "missing signing header",
    ]
