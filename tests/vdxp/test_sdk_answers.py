"""Every answer of the façade read the way the SDK's classes read it (tests/vdxp/sdk_reader.py):
US-ASCII, the fields each class takes, nulls; the application must see the status and, on a
failure, the reason (issue 18)."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import BA_DINH, FINANCE, HOME_AFFAIRS
from tests.vdxp.conftest import facade_settings, sdk_for
from tests.vdxp.sdk_client import SdkClient
from tests.vdxp.sdk_reader import (
    read_agencies,
    read_get_edoc,
    read_list,
    read_plain,
    read_send_edoc,
    sees_status_and_reason,
)
from tests.waiting import eventually

OCTETS = "application/octet-stream"


@pytest.fixture
async def facade(net_factory: Callable[..., Awaitable[Net]], tmp_path: Path) -> Net:
    return await net_factory(facade_settings(tmp_path / "data"))


def ascii_only(raw: bytes) -> bool:
    return all(byte < 0x80 for byte in raw)


async def send_raw(client: SdkClient, raw: bytes, **params: str) -> bytes:
    _, answer = await client.call_raw(
        "sendEdoc", client.upload(raw, **params), body=raw + b"\r\n", content_type=OCTETS
    )
    return answer


async def test_an_accepted_send_gives_the_application_its_docid(facade: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    result = read_send_edoc(await send_raw(sdk_for(facade, FINANCE.id), raw))
    assert (result.status, result.error_code, result.error_desc) == ("OK", "0", "Success")
    assert result.doc_id


@pytest.mark.parametrize(
    ("make", "code", "reason"),
    [
        (lambda c: SdkClient(c.client, c.systemid, "wrong-secret-0123456789"), "401", "HMAC"),
        (lambda c: SdkClient(c.client, "vxp.unknown", c.secret), "401", "is not known"),
        (lambda c: c, "403", "sender_mismatch: MessageHeader/From/OrganId is 'TTĐT'"),
    ],
)
async def test_a_refused_send_reaches_the_application_with_its_reason(
    facade: Net, make: Callable[[SdkClient], SdkClient], code: str, reason: str
) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    raw = raw.replace(FINANCE.id.encode(), "TTĐT".encode(), 1)

    answer = await send_raw(make(sdk_for(facade, FINANCE.id)), raw)
    result = read_send_edoc(answer)

    assert ascii_only(answer)
    assert sees_status_and_reason(result)
    assert (result.status, result.error_code, result.doc_id) == ("FAIL", code, "")
    assert reason in (result.error_desc or "")


async def test_the_mailbox_calls_read_whole(facade: Net) -> None:
    finance, home = sdk_for(facade, FINANCE.id), sdk_for(facade, HOME_AFFAIRS.id)
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id, BA_DINH.id))
    sent = read_send_edoc(await send_raw(finance, raw))
    listed = await eventually(
        lambda: home.call_raw(
            "getReceivedEdocList", {"servicetype": "eDoc", "messagetype": "edoc"}
        ),
        lambda answer: len(read_list(answer[1]).items) == 1,
    )
    received = read_list(listed[1])
    [item] = received.items
    _, edoc = await home.call_raw("getEdoc", {"filePath": "xml", "docId": item["docId"] or ""})
    _, done = await home.call_raw("updateStatus", {"status": "done", "docid": item["docId"] or ""})
    _, mine = await finance.call_raw("getSentEdocList", {"messagetype": "edoc"})

    for answer in (listed[1], edoc, done, mine):
        assert ascii_only(answer)
        assert sees_status_and_reason(read_plain(answer))
    assert None not in item.values()
    assert (item["from"], item["to"], item["status"]) == (FINANCE.id, HOME_AFFAIRS.id, "pending")
    assert base64.b64decode(read_get_edoc(edoc).data) == raw
    assert read_plain(done).status == "OK"
    sent_items = read_list(mine).items
    assert all(None not in i.values() for i in sent_items)
    assert {(i["docId"], i["to"], i["status"], i["status_desc"]) for i in sent_items} == {
        (sent.doc_id, HOME_AFFAIRS.id, "done", "Nơi nhận đã nhận văn bản"),
        (sent.doc_id, BA_DINH.id, "pending", "Đã đến hộp thư của nơi nhận, chờ nơi nhận lấy về"),
    }


@pytest.mark.parametrize("operation", ["getAgenciesList", "getSynchronizeUnit"])
async def test_the_directory_reads_with_its_accents(facade: Net, operation: str) -> None:
    status, answer = await sdk_for(facade, FINANCE.id).call_raw(operation, {})

    result = read_agencies(answer)

    assert (status, result.status, result.error_code) == (200, "OK", "0")
    assert ascii_only(answer)
    assert all(None not in agency.values() for agency in result.items)
    names = {agency["code"]: agency["name"] for agency in result.items}
    assert names[HOME_AFFAIRS.id] == HOME_AFFAIRS.name
    assert any(not name.isascii() for name in names.values() if name)


@pytest.mark.parametrize("operation", ["registerAgency", "deleteAgency"])
async def test_the_axis_administration_is_refused_with_the_reason(
    facade: Net, operation: str
) -> None:
    _, answer = await sdk_for(facade, FINANCE.id).call_raw(operation, {"code": "000.00.99.H26"})

    result = read_plain(answer)

    assert sees_status_and_reason(result)
    assert (result.status, result.error_code) == ("FAIL", "403")
    assert (result.error_desc or "").startswith(
        f"forbidden: {operation}: the directory of this gateway is managed by the city's operators"
    )


@pytest.mark.parametrize(
    ("operation", "params", "code", "reason"),
    [
        ("getEdoc", {}, "400", "bad_request: parameter docId is missing"),
        ("getEdoc", {"docId": "nothing"}, "404", "not_found: no delivery nothing"),
        ("updateStatus", {"docid": "x", "status": "03"}, "400", "unsupported_message: "),
        ("getReceivedEdocList", {"pageSize": "0"}, "400", "bad_request: pageSize='0'"),
        ("getSentEdocList", {"messagetype": "fax"}, "400", "bad_request: messagetype='fax'"),
        ("getEdocTrace", {}, "404", "not_found: operation 'getEdocTrace'"),
    ],
)
async def test_every_refusal_names_its_reason(
    facade: Net, operation: str, params: dict[str, str], code: str, reason: str
) -> None:
    _, answer = await sdk_for(facade, FINANCE.id).call_raw(operation, params)

    result = read_plain(answer)

    assert ascii_only(answer)
    assert (result.status, result.error_code) == ("FAIL", code)
    assert (result.error_desc or "").startswith(reason)
