"""An auditor opens a figure: the exchanges behind it, page by page, metadata only."""

from __future__ import annotations

from typing import Any

from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, HOME_AFFAIRS, OPERATOR_TOKEN, bearer
from tests.stats.conftest import Quarter

Q4 = {"agency": FINANCE.id, "from": "2026-10-01", "to": "2026-12-31"}


async def details(quarter: Quarter, token: str = AUDITOR_TOKEN, **params: str) -> Any:
    response = await quarter.net.ops.get(
        "/v1/stats/exchanges/details", params=params, headers=bearer(token)
    )
    return response.status, await response.json(content_type=None)


async def test_each_kind_lists_its_exchanges(quarter: Quarter) -> None:
    status, electronic = await details(quarter, kind="electronic", **Q4)
    assert status == 200
    assert electronic == {
        "items": [
            {
                "date": "2026-10-05",
                "document_id": "D-1",
                "from": FINANCE.id,
                "recipient": CITY.id,
                "code": "12/QĐ-STC",
                "state": "inbox",
                "paper_copy": False,
            },
            {
                "date": "2026-11-10",
                "document_id": "D-2",
                "from": FINANCE.id,
                "recipient": HOME_AFFAIRS.id,
                "code": "12/QĐ-STC",
                "state": "failed",
                "paper_copy": False,
            },
        ],
        "next": None,
    }
    _, undelivered = await details(quarter, kind="undelivered", **Q4)
    assert [i["document_id"] for i in undelivered["items"]] == ["D-2"]
    _, paper = await details(quarter, kind="paper", **Q4)
    assert paper["items"] == [
        {
            "date": "2026-11-02",
            "document_id": "D-P",
            "from": FINANCE.id,
            "recipient": CITY.id,
            "state": "paper",
            "declaration": {"dispatched_on": "2026-11-02"},
        }
    ]


async def test_a_secret_document_shows_only_date_sender_recipient_and_refusal(
    quarter: Quarter,
) -> None:
    status, secret = await details(quarter, kind="secret", limit="1", **Q4)
    assert status == 200
    assert secret["items"] == [
        {"date": "2026-11-20", "from": FINANCE.id, "recipient": CITY.id, "refused": True}
    ]
    assert "D-S" not in str(secret)
    _, rest = await details(quarter, kind="secret", limit="1", after=secret["next"], **Q4)
    assert rest == {"items": [], "next": None}


async def test_pages_follow_each_other(quarter: Quarter) -> None:
    _, first = await details(quarter, kind="electronic", limit="1", **Q4)
    assert [i["document_id"] for i in first["items"]] == ["D-1"]
    _, second = await details(quarter, kind="electronic", limit="1", after=first["next"], **Q4)
    assert [i["document_id"] for i in second["items"]] == ["D-2"]
    _, third = await details(quarter, kind="electronic", limit="1", after=second["next"], **Q4)
    assert third == {"items": [], "next": None}


async def test_bad_questions_are_refused(quarter: Quarter) -> None:
    for params, code in (
        ({}, "bad_request"),
        ({"agency": "nobody"}, "not_found"),
        ({**Q4, "kind": "mat"}, "bad_request"),
        ({**Q4, "after": "not-a-cursor"}, "bad_request"),
        ({**Q4, "limit": "0"}, "bad_request"),
    ):
        status, problem = await details(quarter, **params)
        assert (status, problem["code"]) in ((400, code), (404, code)), params
    status, problem = await details(quarter, OPERATOR_TOKEN, **Q4)
    assert (status, problem["code"]) == (403, "forbidden")
