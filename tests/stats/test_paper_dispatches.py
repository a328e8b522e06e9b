"""Declaring paper dispatches: JSON or a CSV register, idempotent, refused with the line."""

from __future__ import annotations

from typing import Any

from tests.conftest import Net
from tests.harness import CITY, FINANCE, GOV_OFFICE


async def declare(net: Net, body: Any, content_type: str = "application/json") -> tuple[int, Any]:
    data = body if isinstance(body, str) else None
    response = await net.client.post(
        "/v1/paper-dispatches",
        data=data,
        json=None if data is not None else body,
        headers={**net[FINANCE.id].headers, "Content-Type": content_type},
    )
    return response.status, await response.json(content_type=None)


async def test_json_declaration_counts_each_recipient_once(net: Net) -> None:
    body = {
        "document_id": "P-1",
        "recipients": [CITY.id, GOV_OFFICE.id],
        "dispatched_on": "2026-03-02",
    }
    assert await declare(net, body) == (
        201,
        {"declared": 2, "already": {"paper": 0, "electronic": 0, "secret": 0}},
    )
    assert await declare(net, body) == (
        201,
        {"declared": 0, "already": {"paper": 2, "electronic": 0, "secret": 0}},
    )


async def test_csv_register_upload(net: Net) -> None:
    register = (
        "document_id,recipient,dispatched_on\n"
        "12/STC,000.00.00.H26,2026-03-01\n"
        "12/STC,000.00.00.G22,2026-03-01\n"
        "\n"
        "13/STC,000.00.00.H26,2026-03-04\n"
    )
    status, body = await declare(net, register, "text/csv")
    assert (status, body["declared"]) == (201, 3)


async def test_bad_rows_are_refused_naming_the_line(net: Net) -> None:
    cases = [
        ("document_id,recipient\n", "text/csv", "line 1"),
        ("document_id,recipient,dispatched_on\nX,000.00.00.H26,31/12/2026\n", "text/csv", "line 2"),
        ("document_id,recipient,dispatched_on\nX,not an id!,2026-01-01\n", "text/csv", "line 2"),
        (
            {"document_id": "X", "recipients": [], "dispatched_on": "2026-01-01"},
            "application/json",
            "recipients",
        ),
        (
            {"document_id": "X", "recipient": "A", "dispatched_on": "2026-01-01"},
            "application/json",
            "exactly",
        ),
    ]
    for body, content_type, named in cases:
        status, problem = await declare(net, body, content_type)
        assert (status, problem["code"]) == (400, "bad_request"), body
        assert named in problem["detail"], (body, problem["detail"])


async def test_other_content_types_are_refused(net: Net) -> None:
    status, problem = await declare(net, "<x/>", "application/xml")
    assert (status, problem["code"]) == (400, "unsupported_message")
