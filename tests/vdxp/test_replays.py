"""Replays of signed calls to the façade (issue 13, item 7): the signature covers the file
through `hash-file`, and a signature seen before is refused for as long as its timestamp is
accepted, except where repeating the call changes nothing (sendEdoc, updateStatus done)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.api.vdxp_replays import ReplayGuard
from gateway.config import DatabaseSettings
from gateway.store import open_database
from gateway.vdxp import SignedRequest
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import FINANCE, HOME_AFFAIRS
from tests.servers import postgres_admin as postgres_admin  # a session fixture
from tests.servers import postgres_database as postgres_database  # a per-test fixture
from tests.vdxp.conftest import Moment, facade_settings, sdk_for
from tests.vdxp.sdk_client import SdkClient

NOW = datetime(2025, 3, 5, 9, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).timestamp()
REPLAYED = "unauthorized: this signed call was received already"


@pytest.fixture
def moment() -> Moment:
    return Moment(NOW)


@pytest.fixture
async def facade(net_factory: Callable[..., Awaitable[Net]], tmp_path: Path, moment: Moment) -> Net:
    return await net_factory(facade_settings(tmp_path / "data"), clock=moment)


def sdk(net: Net, organ_id: str, moment: Moment) -> SdkClient:
    return sdk_for(net, organ_id, clock=moment)


async def send(client: SdkClient, params: dict[str, str], body: bytes) -> dict[str, Any]:
    headers = client.headers(params, "application/octet-stream")
    _, raw = await client.post("sendEdoc", headers, body)
    return dict(json.loads(raw))


async def test_captured_headers_with_another_file_are_refused(facade: Net, moment: Moment) -> None:
    finance = sdk(facade, FINANCE.id, moment)
    genuine = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,), document_id="R-1")
    forged = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,), document_id="R-2")
    captured = finance.headers(finance.upload(genuine), "application/octet-stream")

    first = json.loads((await finance.post("sendEdoc", captured, genuine))[1])
    replayed = json.loads((await finance.post("sendEdoc", captured, forged))[1])

    assert first["status"] == "OK"
    assert (replayed["status"], replayed["ErrorCode"], replayed["DocId"]) == ("FAIL", "400", "")
    assert replayed["ErrorDesc"].startswith("bad_request: hash-file is not the SHA-256")
    inbox = await facade[HOME_AFFAIRS.id].inbox_all()
    assert [item["document_id"] for item in inbox] == ["R-1"]


async def test_a_send_whose_signature_does_not_cover_the_file_is_refused(
    facade: Net, moment: Moment
) -> None:
    finance = sdk(facade, FINANCE.id, moment)
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    params = finance.upload(raw)
    del params["hash-file"]

    answer = await send(finance, params, raw)

    assert (answer["status"], answer["ErrorCode"], answer["DocId"]) == ("FAIL", "401", "")
    assert answer["ErrorDesc"].startswith(
        "unauthorized: sendEdoc must sign the parameter hash-file"
    )
    assert await facade[HOME_AFFAIRS.id].inbox_all() == []


async def test_the_same_send_twice_is_answered_alike_and_delivered_once(
    facade: Net, moment: Moment
) -> None:
    # the SDK's user resending with the same service object (one timestamp), or the JDK
    # resending a POST whose answer was lost: the same file, the same DocId, nothing twice
    finance = sdk(facade, FINANCE.id, moment)
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    captured = finance.headers(finance.upload(raw), "application/octet-stream")

    first = json.loads((await finance.post("sendEdoc", captured, raw + b"\r\n"))[1])
    again = json.loads((await finance.post("sendEdoc", captured, raw + b"\r\n"))[1])

    assert (first["status"], again["status"]) == ("OK", "OK")
    assert first["DocId"] == again["DocId"]
    assert len(await facade[HOME_AFFAIRS.id].inbox_all()) == 1


async def test_a_replayed_read_is_refused(facade: Net, moment: Moment) -> None:
    finance, home = sdk(facade, FINANCE.id, moment), sdk(facade, HOME_AFFAIRS.id, moment)
    await finance.send_edoc(document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)))
    listing = home.headers({"servicetype": "eDoc", "messagetype": "edoc"}, "application/json")
    [item] = json.loads((await home.post("getReceivedEdocList", listing, b""))[1])["data"]
    fetch = home.headers({"filePath": "xml", "docId": item["docId"]}, "application/json")
    fetched = json.loads((await home.post("getEdoc", fetch, b"{}"))[1])

    moment.now += 120  # later, within the 300 s window
    answers = [
        json.loads((await home.post(operation, headers, b""))[1])
        for operation, headers in (("getReceivedEdocList", listing), ("getEdoc", fetch))
    ]

    assert fetched["status"] == "OK"
    for answer in answers:
        assert (answer["status"], answer["ErrorCode"]) == ("FAIL", "401")
        assert answer["ErrorDesc"].startswith(REPLAYED)
        assert "build one per call" in answer["ErrorDesc"]
        assert "data" not in answer


async def test_acknowledgements_done_repeat_and_fail_does_not(facade: Net, moment: Moment) -> None:
    finance, home = sdk(facade, FINANCE.id, moment), sdk(facade, HOME_AFFAIRS.id, moment)
    sent = await finance.send_edoc(document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)))
    [item] = (await home.received())["data"]
    failed = home.headers(
        {"status": "fail", "docid": item["docId"], "description": "disk full"}, "application/json"
    )
    done = home.headers({"status": "done", "docid": item["docId"]}, "application/json")

    answers = [
        json.loads((await home.post("updateStatus", headers, b"{}"))[1])
        for headers in (failed, failed, done, done)
    ]

    assert [a["status"] for a in answers] == ["OK", "FAIL", "OK", "OK"]
    assert answers[1]["ErrorDesc"].startswith(REPLAYED)
    _, trace = await facade[FINANCE.id].trace(sent["DocId"])
    [row] = trace["recipients"]
    assert [e["reason"] for e in row["events"] if e["event"] == "transport_fail"] == ["disk full"]


async def test_a_stale_timestamp_is_refused_replayed_or_not(facade: Net, moment: Moment) -> None:
    home = sdk(facade, HOME_AFFAIRS.id, moment)
    listing = home.headers({"servicetype": "eDoc", "messagetype": "edoc"}, "application/json")
    assert json.loads((await home.post("getReceivedEdocList", listing, b""))[1])["status"] == "OK"

    moment.now += 301
    stale = json.loads((await home.post("getReceivedEdocList", listing, b""))[1])

    assert (stale["status"], stale["ErrorCode"]) == ("FAIL", "401")
    assert "at most 300 s either way" in stale["ErrorDesc"]


def signed(signature: str, valid_until: float) -> SignedRequest:
    return SignedRequest("vxp.a", NOW, {}, signature=signature, valid_until=valid_until)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
async def test_seen_signatures_are_shared_by_nodes_and_forgotten_after_the_window(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = "sqlite" if store == "sqlite" else request.getfixturevalue("postgres_database")
    settings = DatabaseSettings(url=url)
    first_db = await open_database(settings, tmp_path)
    second_db = first_db if store == "sqlite" else await open_database(settings, tmp_path)
    moment = Moment(NOW)
    node_a, node_b = ReplayGuard(first_db, moment), ReplayGuard(second_db, moment)
    try:
        seen = [
            await node_a.first_sighting(signed("a" * 64, NOW + 300)),
            await node_b.first_sighting(signed("a" * 64, NOW + 300)),  # the replay elsewhere
            await node_b.first_sighting(signed("b" * 64, NOW + 300)),
        ]
        moment.now += 301  # both windows have passed: the next write purges them
        await node_a.first_sighting(signed("c" * 64, NOW + 900))
        again = await node_b.first_sighting(signed("a" * 64, NOW + 900))
    finally:
        await first_db.close()
        if second_db is not first_db:
            await second_db.close()
    assert seen == [True, False, True]
    assert again is True
