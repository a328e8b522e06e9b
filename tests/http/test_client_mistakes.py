"""A client's mistake is a 400 naming what to fix, never a 500."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.test_refusals import assert_problem
from tests.conftest import Net
from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, GOV_OFFICE, bearer

HEADER = "document_id,recipient,dispatched_on\n"


async def declare(net: Net, body: bytes, content_type: str) -> tuple[int, Any]:
    response = await net.client.post(
        "/v1/paper-dispatches",
        data=body,
        headers={**net[FINANCE.id].headers, "Content-Type": content_type},
    )
    return response.status, await response.json(content_type=None)


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after", [cursor("99999999999999999999.1"), cursor("1.99999999999999999999"), cursor("-1.2")]
)
async def test_an_inbox_cursor_out_of_range_is_400(net: Net, after: str) -> None:
    response = await net.client.get(
        "/v1/inbox", params={"after": after}, headers=net[CITY.id].headers
    )
    body = await response.json()
    assert_problem(response.status, body, 400, "bad_request")
    assert body["detail"] == f"after={after!r} is not a cursor this gateway gave out"


@pytest.mark.parametrize("after", ["9" * 40, "²", "١٢"])
async def test_an_audit_page_position_out_of_range_is_400(net: Net, after: str) -> None:
    response = await net.ops.get(
        "/v1/audit/events", params={"after": after}, headers=bearer(AUDITOR_TOKEN)
    )
    body = await response.json()
    assert_problem(response.status, body, 400, "bad_request")
    assert body["detail"].endswith(f": give a whole number from 0 to {2**62}")


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (
            b"[" * 100_000,
            "application/json",
            "the body is not a declaration: brackets unbalanced or nested over 8 levels",
        ),
        (b'{"a": ' * 50_000, "application/json", "the body is not a declaration: "),
        (b'{"document_id": "\xff"}', "application/json", "the body is not valid JSON in UTF-8"),
        (
            (HEADER + "V/v tài chính,000.00.00.H26,2026-03-01\n").encode("cp1258"),
            "text/csv",
            "the CSV register is not UTF-8 (byte ",
        ),
        (
            (HEADER + "X,000.00.00.H26,2026-03-01\n").encode(),
            "text/csv; charset=bogus",
            "charset='bogus': send the CSV register in UTF-8",
        ),
        (
            (HEADER + '"' + "x" * 140_000 + '",000.00.00.H26,2026-03-01\n').encode(),
            "text/csv",
            "line 2: not a CSV row (field larger than field limit (131072))",
        ),
        (
            (HEADER + "X,000.00.00.H26,10000-01-01\n").encode(),
            "text/csv",
            "line 2: dispatched_on '10000-01-01' is not a YYYY-MM-DD date",
        ),
        (
            (HEADER + "X,000.00.00.H26,1999-12-31\n").encode(),
            "text/csv",
            "line 2: dispatched_on 1999-12-31 is before 2000-01-01",
        ),
    ],
)
async def test_unreadable_paper_declarations_are_400(
    net: Net, body: bytes, content_type: str, detail: str
) -> None:
    status, problem = await declare(net, body, content_type)
    assert_problem(status, problem, 400, "bad_request")
    assert problem["detail"].startswith(detail)


async def test_an_oversized_declaration_is_413(net: Net) -> None:
    status, problem = await declare(net, b" " * (4 * 1024 * 1024 + 1), "application/json")
    assert_problem(status, problem, 413, "payload_too_large")


class StoppedClock:
    def __init__(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


async def test_a_dispatch_to_an_unknown_agency_or_in_the_future_is_refused(
    net_factory: Any,
) -> None:
    # 17:30 UTC on 31 March is 00:30 on 1 April in Hà Nội (stats.timezone)
    net = await net_factory(clock=StoppedClock("2026-03-31T17:30:00"))
    cases = [
        (
            [
                {
                    "document_id": "P-1",
                    "recipients": ["000.00.99.H26"],
                    "dispatched_on": "2026-03-01",
                }
            ],
            "item 0: recipient 000.00.99.H26 is not in the directory",
        ),
        (
            {"document_id": "P-1", "recipients": [FINANCE.id], "dispatched_on": "2026-03-01"},
            f"body: recipient {FINANCE.id} is the sender itself",
        ),
        (
            {"document_id": "P-1", "recipients": [CITY.id], "dispatched_on": "2026-04-02"},
            "body: dispatched_on 2026-04-02 is after today 2026-04-01",
        ),
    ]
    for body, detail in cases:
        response = await net.client.post(
            "/v1/paper-dispatches", json=body, headers=net[FINANCE.id].headers
        )
        problem = await response.json()
        assert_problem(response.status, problem, 400, "bad_request")
        assert problem["detail"] == detail
    today = {"document_id": "P-1", "recipients": [GOV_OFFICE.id], "dispatched_on": "2026-04-01"}
    response = await net.client.post(
        "/v1/paper-dispatches", json=today, headers=net[FINANCE.id].headers
    )
    assert response.status == 201
