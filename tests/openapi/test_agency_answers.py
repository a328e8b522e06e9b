"""Real answers of the agency listener, as a department system gets them, match its OpenAPI
document: submit, inbox, fetch, ack, trace, directory, paper, statistics, and refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse

from tests.api.test_exchange import wait_inbox
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import FINANCE, HOME_AFFAIRS, bearer
from tests.openapi.conformance import conforms, loads, openapi

XML = {"Content-Type": "application/xml"}


async def submit(net: Net, raw: bytes, **headers: str) -> tuple[int, Any]:
    sent = {**net[FINANCE.id].headers, **XML, **headers}
    response = await net.client.post("/v1/documents", data=raw, headers=sent)
    return response.status, loads(await conforms("agency", response, raw, **sent))


async def test_a_document_submitted_then_collected_answers_as_documented(net: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    assert (await submit(net, raw))[0] == 202
    status, receipt = await submit(net, raw)
    assert status == 200  # the same bytes again
    reader = net[HOME_AFFAIRS.id].headers
    [item] = await wait_inbox(net, HOME_AFFAIRS.id, 1)

    listed = await net.client.get("/v1/inbox", params={"limit": "10"}, headers=reader)
    assert loads(await conforms("agency", listed, **reader))["items"] == [item]
    fetched = await net.client.get(f"/v1/inbox/{item['delivery_id']}", headers=reader)
    assert await conforms("agency", fetched, **reader) == raw
    for caller in (reader, net[FINANCE.id].headers):
        traced = await net.client.get(f"/v1/documents/{receipt['id']}/trace", headers=caller)
        assert loads(await conforms("agency", traced, **caller))["id"] == receipt["id"]
    acked = await net.client.post(f"/v1/inbox/{item['delivery_id']}/ack", headers=reader)
    await conforms("agency", acked, **reader)
    assert acked.status == 204


@pytest.mark.parametrize(
    ("raw", "headers", "status", "code"),
    [
        (b"<not xml", XML, 400, "malformed_xml"),
        (b"{}", {"Content-Type": "application/json"}, 400, "unsupported_message"),
        (b"<a/>", {**XML, "Authorization": "Bearer nobody"}, 401, "unauthorized"),
        (b"<a/>", {**XML, "Authorization": "Bearer test-token-auditor"}, 403, "forbidden"),
    ],
)
async def test_refused_submissions_answer_documented_problems(
    net: Net, raw: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    answered, problem = await submit(net, raw, **headers)
    assert (answered, problem["code"]) == (status, code)


async def test_directory_paper_statistics_and_unknown_things_answer_as_documented(
    net: Net,
) -> None:
    caller = net[FINANCE.id].headers
    calls: list[tuple[str, str, dict[str, Any], int]] = [
        ("get", "/v1/agencies", {}, 200),
        ("get", "/v1/stats/mine", {"params": {"period": "day"}}, 200),
        ("get", "/v1/stats/mine", {"params": {"format": "csv"}}, 200),
        ("get", "/v1/stats/mine", {"params": {"by": "group"}}, 400),
        ("get", "/v1/stats/mine", {"params": {"from": "yesterday"}}, 400),
        ("get", "/v1/inbox", {"params": {"limit": "0"}}, 400),
        ("get", "/v1/inbox/no-such-delivery", {}, 404),
        ("get", "/v1/documents/no-such-message/trace", {}, 404),
        (
            "post",
            "/v1/paper-dispatches",
            {
                "json": {
                    "document_id": "CV-1",
                    "recipients": [HOME_AFFAIRS.id],
                    "dispatched_on": "2026-03-02",
                }
            },
            201,
        ),
        ("post", "/v1/paper-dispatches", {"json": {"document_id": "CV-1"}}, 400),
        (
            "post",
            "/v1/paper-dispatches",
            {"data": b"x", "headers": {"Content-Type": "text/x"}},
            400,
        ),
    ]
    for method, path, options, status in calls:
        headers = {**caller, **options.pop("headers", {})}
        response = await net.client.request(method, path, headers=headers, **options)
        await conforms("agency", response, **headers)
        assert response.status == status, (method, path, options)


async def test_the_document_itself_answers_as_documented(net: Net) -> None:
    response = await net.client.get("/v1/openapi.json")
    await conforms("agency", response)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"items": [{"delivery_id": "d1"}], "next": None}),  # an item without its fields
        (400, {"code": "bad_request"}),  # a problem without type, title, status, detail
        (418, {}),  # a status the document does not name
    ],
)
def test_an_answer_the_document_does_not_allow_is_caught(status: int, body: Any) -> None:
    """The check can fail."""
    request = MockRequest("http://gateway", "get", "/v1/inbox", headers=bearer(FINANCE.token))
    kind = "application/json" if status == 200 else "application/problem+json"
    response = MockResponse(json.dumps(body).encode(), status_code=status, content_type=kind)
    with pytest.raises(OpenAPIError):
        openapi("agency").validate_response(request, response)
