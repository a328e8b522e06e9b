"""Bad input gets a clear problem+json refusal naming what to fix, and nothing is delivered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.config import LimitSettings
from tests.conftest import Net
from tests.factories import document_bytes, status_bytes
from tests.harness import (
    CITY,
    FINANCE,
    HOME_AFFAIRS,
    OPERATOR_TOKEN,
    bearer,
    make_settings,
)


def assert_problem(status: int, body: dict[str, Any], expected_status: int, code: str) -> None:
    assert status == expected_status, body
    assert body["code"] == code
    assert body["type"] == f"urn:edocgw:error:{code}"
    assert body["status"] == expected_status
    assert body["title"]
    assert body["detail"]


async def post(net: Net, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    response = await net.client.post(
        path, data=raw, headers={"Content-Type": "application/xml", **headers}
    )
    assert response.content_type in ("application/problem+json", "application/json")
    return response.status, await response.json(content_type=None)


async def test_missing_unknown_and_malformed_tokens_are_401(net: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic Zm9vOmJhcg=="}):
        status, body = await post(net, "/v1/documents", raw, headers)
        assert_problem(status, body, 401, "unauthorized")


async def test_operator_token_is_forbidden_on_the_agency_api(net: Net) -> None:
    response = await net.client.get("/v1/inbox", headers=bearer(OPERATOR_TOKEN))
    assert_problem(response.status, await response.json(content_type=None), 403, "forbidden")


async def test_sending_in_another_agency_name_is_sender_mismatch(net: Net) -> None:
    raw = document_bytes(sender=CITY.id, recipients=(HOME_AFFAIRS.id,))
    status, body = await net[FINANCE.id].submit(raw)

    assert_problem(status, body, 403, "sender_mismatch")
    assert CITY.id in body["detail"] and FINANCE.id in body["detail"]
    assert await net[HOME_AFFAIRS.id].inbox_all() == []


async def test_unknown_recipient_is_named_and_nothing_is_delivered(net: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id, "999.99.99.Z99"))
    status, body = await net[FINANCE.id].submit(raw)

    assert_problem(status, body, 404, "unknown_recipient")
    assert "999.99.99.Z99" in body["detail"]
    assert body["unknown"] == ["999.99.99.Z99"]
    assert await net[CITY.id].inbox_all() == []


async def test_malformed_xml_names_the_line(net: Net) -> None:
    raw = b'<?xml version="1.0"?>\n<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">\n<a></b>'
    status, body = await net[FINANCE.id].submit(raw)

    assert_problem(status, body, 400, "malformed_xml")
    assert "line 3" in body["detail"]


async def test_a_status_sent_as_a_document_is_unsupported(net: Net) -> None:
    raw = status_bytes(sender=FINANCE.id, response_for_sender=CITY.id, document_id="D-1")
    status, body = await net[FINANCE.id].submit(raw)
    assert_problem(status, body, 400, "unsupported_message")
    assert "/v1/statuses" in body["detail"]


async def test_a_document_sent_as_a_status_is_unsupported(net: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,))
    status, body = await net[FINANCE.id].send_status(raw)
    assert_problem(status, body, 400, "unsupported_message")


async def test_non_xml_content_type_is_refused(net: Net) -> None:
    response = await net.client.post(
        "/v1/documents",
        data=b"{}",
        headers={**net[FINANCE.id].headers, "Content-Type": "application/json"},
    )
    assert_problem(
        response.status, await response.json(content_type=None), 400, "unsupported_message"
    )


async def test_oversize_body_is_payload_too_large(net_factory: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "small", limits=LimitSettings(max_document_bytes=4096))
    small = await net_factory(settings)
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), attachment_size=20_000)
    status, body = await small[FINANCE.id].submit(raw)

    assert_problem(status, body, 413, "payload_too_large")
    assert "4096" in body["detail"]


async def test_unknown_route_and_wrong_method_are_problems(net: Net) -> None:
    response = await net.client.get("/v1/nowhere", headers=net[CITY.id].headers)
    assert_problem(response.status, await response.json(content_type=None), 404, "not_found")
    response = await net.client.delete("/v1/documents", headers=net[CITY.id].headers)
    assert response.status == 405
    assert response.content_type == "application/problem+json"


async def test_refusals_never_echo_the_token(net: Net) -> None:
    response = await net.client.get("/v1/inbox", headers=bearer("secret-token-value-123"))
    assert "secret-token-value-123" not in await response.text()
