"""The gateway answering the axis' SDK: a department changes only its endpoint."""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

from tests.conftest import Net
from tests.factories import document_bytes, status_bytes
from tests.harness import BA_DINH, FINANCE, HOME_AFFAIRS, bearer
from tests.vdxp.conftest import FACADE_SECRETS as SECRETS
from tests.vdxp.conftest import facade_settings
from tests.vdxp.conftest import sdk_for as sdk
from tests.vdxp.sdk_client import SdkClient, sdk_hash_file
from tests.waiting import eventually


@pytest.fixture
async def facade(net_factory: Callable[..., Awaitable[Net]], tmp_path: Path) -> Net:
    return await net_factory(facade_settings(tmp_path / "data"))


async def listed(client: SdkClient, count: int, messagetype: str = "edoc") -> list[Any]:
    answer = await eventually(
        lambda: client.received(messagetype), lambda found: len(found.get("data", [])) >= count
    )
    items: list[Any] = answer["data"]
    return items


async def test_a_document_goes_through_the_sdk_calls_unchanged(facade: Net) -> None:
    finance, home = sdk(facade, FINANCE.id), sdk(facade, HOME_AFFAIRS.id)
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,), document_id="SDK-1")

    sent = await finance.send_edoc(raw)

    assert (sent["status"], sent["ErrorCode"], sent["ErrorDesc"]) == ("OK", "0", "Success")
    [item] = await listed(home, 1)
    assert {k: item[k] for k in ("serviceType", "messageType", "from", "to")} == {
        "serviceType": "eDoc",
        "messageType": "edoc",
        "from": FINANCE.id,
        "to": HOME_AFFAIRS.id,
    }
    fetched = await home.get_edoc(item["docId"])
    assert fetched["status"] == "OK"
    assert base64.b64decode(fetched["data"]) == raw  # the SDK's trailing CRLF is not kept
    assert await home.update_status(item["docId"], "done") == {
        "status": "OK",
        "ErrorCode": "0",
        "ErrorDesc": "Success",
    }
    assert (await home.received())["data"] == []
    # the same mailbox as the HTTP API's
    assert await facade[HOME_AFFAIRS.id].inbox_all() == []
    _, trace = await facade[FINANCE.id].trace(sent["DocId"])
    assert trace["document_id"] == "SDK-1"


async def test_the_same_upload_again_answers_the_same_docid(facade: Net) -> None:
    finance = sdk(facade, FINANCE.id)
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))

    first, again = await finance.send_edoc(raw), await finance.send_edoc(raw)

    assert first["DocId"] == again["DocId"]
    await listed(sdk(facade, HOME_AFFAIRS.id), 1)
    assert len(await facade[HOME_AFFAIRS.id].inbox_all()) == 1


async def test_business_statuses_are_edxml_and_transport_acks_stay_apart(facade: Net) -> None:
    finance, home = sdk(facade, FINANCE.id), sdk(facade, HOME_AFFAIRS.id)
    await finance.send_edoc(
        document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,), document_id="SDK-2")
    )
    [item] = await listed(home, 1)

    refused = await home.update_status(item["docId"], "acceptance")
    status = status_bytes(
        sender=HOME_AFFAIRS.id,
        response_for_sender=FINANCE.id,
        document_id="SDK-2",
        status_code="03",
    )
    sent = await home.send_edoc(status, messagetype="status")

    assert refused["status"] == "FAIL"
    assert refused["ErrorDesc"].startswith("unsupported_message: status='acceptance'")
    assert "messagetype=status" in refused["ErrorDesc"]
    assert sent["status"] == "OK"
    [back] = await listed(finance, 1, "status")
    assert (back["from"], back["messageType"]) == (HOME_AFFAIRS.id, "status")
    assert base64.b64decode((await finance.get_edoc(back["docId"]))["data"]) == status
    assert (await finance.received("edoc"))["data"] == []


async def test_fail_leaves_the_item_waiting_and_tells_the_sender(facade: Net) -> None:
    finance, home = sdk(facade, FINANCE.id), sdk(facade, HOME_AFFAIRS.id)
    sent = await finance.send_edoc(document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)))
    [item] = await listed(home, 1)

    processing = await home.update_status(item["docId"], "processing")
    failed = await home.update_status(item["docId"], "fail", description="disk full")

    assert (processing["status"], failed["status"]) == ("OK", "OK")
    assert [i["docId"] for i in (await home.received())["data"]] == [item["docId"]]
    _, trace = await facade[FINANCE.id].trace(sent["DocId"])
    [row] = trace["recipients"]
    reported = [e for e in row["events"] if e["event"] == "transport_fail"]
    assert [(e["via"], e["reason"]) for e in reported] == [("vdxp", "disk full")]


@pytest.mark.parametrize(
    ("raw", "params", "code", "error"),
    [
        (b"1212<?xml version='1.0'?><edXML/>", {}, "400", "malformed_xml: "),
        (b"<html><body>not edXML</body></html>", {}, "400", "unsupported_message: "),
        (
            document_bytes(sender=FINANCE.id, recipients=("000.00.00.X99",)),
            {},
            "404",
            "unknown_recipient: ",
        ),
        (
            document_bytes(sender=HOME_AFFAIRS.id, recipients=(BA_DINH.id,)),
            {},
            "403",
            "sender_mismatch: ",
        ),
        (
            document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)),
            {"secrecy": "mat"},
            "422",
            "secret_document: ",
        ),
        (
            document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)),
            {"from": HOME_AFFAIRS.id},
            "403",
            "sender_mismatch: parameter from=",
        ),
    ],
)
async def test_refusals_answer_as_the_axis_with_the_problem_code(
    facade: Net, raw: bytes, params: dict[str, str], code: str, error: str
) -> None:
    answer = await sdk(facade, FINANCE.id).send_edoc(raw, **params)

    assert (answer["status"], answer["ErrorCode"]) == ("FAIL", code)
    assert answer["ErrorDesc"].startswith(error)
    assert answer["DocId"] == ""  # the SDK reads it from every answer (issue 18)
    assert await facade[HOME_AFFAIRS.id].inbox_all() == []


async def test_a_duplicate_documentid_with_other_bytes_is_a_conflict(facade: Net) -> None:
    finance = sdk(facade, FINANCE.id)
    await finance.send_edoc(
        document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,), document_id="D-1")
    )
    answer = await finance.send_edoc(
        document_bytes(
            sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,), document_id="D-1", subject="Khác"
        )
    )
    assert (answer["status"], answer["ErrorCode"]) == ("FAIL", "409")
    assert answer["ErrorDesc"].startswith("duplicate_conflict: ")


async def test_an_upload_whose_hash_file_does_not_match_is_refused(facade: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    answer = await sdk(facade, FINANCE.id).send_edoc(raw, **{"hash-file": sdk_hash_file(b"x")})
    assert (answer["status"], answer["ErrorCode"]) == ("FAIL", "400")
    assert answer["ErrorDesc"].startswith("bad_request: hash-file is not the SHA-256")


async def test_a_genuine_multipart_upload_is_read_from_its_file_doc_part(facade: Net) -> None:
    finance = sdk(facade, FINANCE.id)
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    boundary = "===1700000000000==="
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file_doc"; filename="a.edxml"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + raw
        + f"\r\n--{boundary}--\r\n".encode()
    )
    params = {"servicetype": "eDoc", "messagetype": "edoc", "hash-file": sdk_hash_file(raw)}

    _, answer = await finance.call(
        "sendEdoc", params, body=body, content_type=f"multipart/form-data; boundary={boundary}"
    )

    assert answer["status"] == "OK", answer
    [item] = await listed(sdk(facade, HOME_AFFAIRS.id), 1)
    fetched = await sdk(facade, HOME_AFFAIRS.id).get_edoc(item["docId"])
    assert base64.b64decode(fetched["data"]) == raw


def _drop(name: str) -> Callable[[CIMultiDict[str]], None]:
    return lambda headers: headers.popall(name)  # type: ignore[func-returns-value]


def _set(name: str, value: str) -> Callable[[CIMultiDict[str]], None]:
    def tamper(headers: CIMultiDict[str]) -> None:
        headers[name] = value

    return tamper


@pytest.mark.parametrize(
    ("make", "tamper", "detail"),
    [
        (lambda c: c, None, None),
        (lambda c: SdkClient(c.client, c.systemid, "not-the-secret-0123456789"), None, "HMAC"),
        (lambda c: SdkClient(c.client, "vxp.unknown", c.secret), None, "not known"),
        (
            lambda c: SdkClient(c.client, c.systemid, c.secret, clock=lambda: time.time() - 400),
            None,
            "at most 300 s either way",
        ),
        (lambda c: c, _drop("XroadVnpt-hash-header"), "XroadVnpt-hash-header is missing"),
        (lambda c: c, _drop("XroadVnpt-messagetype"), "XroadVnpt-messagetype is missing"),
        (lambda c: c, _set("XroadVnpt-messagetype", "status"), "differs from its signed value"),
        (lambda c: c, _set("XroadVnpt-sign-header-key", "systemid"), "do not name the same"),
    ],
)
async def test_calls_must_be_signed_the_sdk_way(
    facade: Net,
    make: Callable[[SdkClient], SdkClient],
    tamper: Callable[[CIMultiDict[str]], None] | None,
    detail: str | None,
) -> None:
    client = make(sdk(facade, FINANCE.id))
    params = {"servicetype": "eDoc", "messagetype": "edoc"}

    status, answer = await client.call("getReceivedEdocList", params, tamper=tamper)

    assert status == 200
    if detail is None:
        assert (answer["status"], answer["data"]) == ("OK", [])
    else:
        assert (answer["status"], answer["ErrorCode"]) == ("FAIL", "401")
        assert answer["ErrorDesc"].startswith("unauthorized: ")
        assert detail in answer["ErrorDesc"]
        assert SECRETS[FINANCE.id] not in answer["ErrorDesc"]


async def test_signing_and_bearer_tokens_do_not_open_each_other(facade: Net) -> None:
    finance = sdk(facade, FINANCE.id)
    signed = finance.headers({}, "application/json")

    inbox = await facade.client.get("/v1/inbox", headers=signed)
    listing = await facade.client.post("/vdxp/getReceivedEdocList", headers=bearer(FINANCE.token))

    assert inbox.status == 401
    assert (await inbox.json())["code"] == "unauthorized"
    answer = await listing.json()
    assert (answer["status"], answer["ErrorCode"]) == ("FAIL", "401")


async def test_an_agency_sees_only_its_own_items(facade: Net) -> None:
    await sdk(facade, FINANCE.id).send_edoc(
        document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    )
    [item] = await listed(sdk(facade, HOME_AFFAIRS.id), 1)

    stolen = await sdk(facade, FINANCE.id).get_edoc(item["docId"])
    acked = await sdk(facade, FINANCE.id).update_status(item["docId"], "done")

    assert (stolen["ErrorCode"], acked["ErrorCode"]) == ("404", "404")
    assert stolen["ErrorDesc"].startswith("not_found: ")
    assert len((await sdk(facade, HOME_AFFAIRS.id).received())["data"]) == 1


async def test_the_directory_and_unsupported_operations(facade: Net) -> None:
    finance = sdk(facade, FINANCE.id)

    agencies = await finance.agencies()
    _, other = await finance.call("getEdocTrace", {})

    assert agencies["status"] == "OK"
    assert {a["code"] for a in agencies["data"]} >= {FINANCE.id, HOME_AFFAIRS.id, BA_DINH.id}
    assert {a["id"] for a in agencies["data"]} == {a["code"] for a in agencies["data"]}
    assert (other["status"], other["ErrorCode"]) == ("FAIL", "404")
    assert "sendEdoc" in other["ErrorDesc"]


async def test_a_large_document_travels_unchanged(facade: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,), attachment_size=600_000)
    home = sdk(facade, HOME_AFFAIRS.id)

    sent = await sdk(facade, FINANCE.id).send_edoc(raw)

    assert sent["status"] == "OK"
    [item] = await listed(home, 1)
    assert base64.b64decode((await home.get_edoc(item["docId"]))["data"]) == raw
