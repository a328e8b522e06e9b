"""Real answers of the ops listener, as operators and auditors get them, match its OpenAPI
document: health, queues, dead letters, adapters, statistics, reports, the audit log, refusals."""

from __future__ import annotations

from typing import Any

from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import (
    AUDITOR_TOKEN,
    FINANCE,
    HOME_AFFAIRS,
    OPERATOR_TOKEN,
    bearer,
)
from tests.openapi.conformance import conforms

OPERATOR = bearer(OPERATOR_TOKEN)
AUDITOR = bearer(AUDITOR_TOKEN)
PUBLIC: dict[str, str] = {}

CALLS: list[tuple[str, str, dict[str, str], dict[str, Any], int]] = [
    ("get", "/healthz", PUBLIC, {}, 200),
    ("get", "/readyz", PUBLIC, {}, 200),
    ("get", "/metrics", PUBLIC, {}, 200),
    ("get", "/v1/openapi.json", PUBLIC, {}, 200),
    ("get", "/v1/ops/queues", OPERATOR, {}, 200),
    ("get", "/v1/ops/queues", AUDITOR, {}, 403),
    ("get", "/v1/ops/queues", PUBLIC, {}, 401),
    ("get", "/v1/ops/dead-letters", OPERATOR, {"agency": HOME_AFFAIRS.id}, 200),
    ("get", "/v1/ops/dead-letters", OPERATOR, {"limit": "0"}, 400),
    ("get", "/v1/ops/dead-letters", OPERATOR, {"agency": "nobody"}, 404),
    ("post", "/v1/ops/dead-letters/no-such-letter/replay", OPERATOR, {}, 404),
    ("delete", "/v1/ops/dead-letters", OPERATOR, {}, 400),
    ("delete", "/v1/ops/dead-letters", OPERATOR, {"agency": HOME_AFFAIRS.id}, 200),
    ("get", "/v1/ops/adapters", OPERATOR, {}, 200),
    ("post", f"/v1/ops/adapters/{HOME_AFFAIRS.id}/reset", OPERATOR, {}, 200),
    ("post", "/v1/ops/adapters/nobody/reset", OPERATOR, {}, 404),
    ("post", "/v1/ops/trust/reload", OPERATOR, {}, 200),
    ("get", "/v1/stats/exchanges", AUDITOR, {"period": "day", "by": "group"}, 200),
    ("get", "/v1/stats/exchanges", AUDITOR, {"by": "none", "format": "csv"}, 200),
    ("get", "/v1/stats/exchanges", AUDITOR, {"format": "xlsx"}, 200),
    ("get", "/v1/stats/exchanges", AUDITOR, {"period": "week"}, 400),
    ("get", "/v1/stats/exchanges", OPERATOR, {}, 403),
    ("get", "/v1/reports/monthly", AUDITOR, {"month": "2026-02"}, 200),
    ("get", "/v1/reports/monthly", AUDITOR, {"month": "February"}, 400),
    ("get", "/v1/audit/events", AUDITOR, {"limit": "5"}, 200),
    ("get", "/v1/audit/events", AUDITOR, {"after": "-1"}, 400),
    ("get", "/v1/audit/verify", AUDITOR, {}, 200),
]


async def test_operator_and_auditor_calls_answer_as_documented(net: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    assert (await net[FINANCE.id].submit(raw))[0] == 202  # something to count and to log

    for method, path, headers, params, status in CALLS:
        response = await net.ops.request(method, path, headers=headers, params=params)

        await conforms("ops", response, **headers)
        assert response.status == status, (method, path, params)
