"""JSON as people read it: Vietnamese written as UTF-8, not `\\u` escapes, and a newline at the
end, on both listeners, refusals included."""

from __future__ import annotations

from tests.conftest import Net
from tests.harness import FINANCE, OPERATOR_TOKEN, bearer


async def test_the_agency_api_writes_vietnamese_as_utf8(net: Net) -> None:
    response = await net.client.get("/v1/agencies", headers=net[FINANCE.id].headers)
    assert response.charset == "utf-8"
    text = await response.text()
    assert "Sở Tài chính" in text and "UBND Quận Ba Đình" in text
    assert "\\u" not in text
    assert text.endswith("]\n")


async def test_every_json_answer_ends_with_a_newline(net: Net) -> None:
    for client, path, headers in (
        (net.ops, "/healthz", {}),
        (net.ops, "/v1/ops/queues", bearer(OPERATOR_TOKEN)),
        (net.ops, "/v1/ops/nothing-here", bearer(OPERATOR_TOKEN)),  # a problem+json
        (net.client, "/v1/inbox", net[FINANCE.id].headers),
        (net.client, "/v1/inbox", {}),  # 401, problem+json
    ):
        response = await client.get(path, headers=headers)
        text = await response.text()
        assert text.endswith("\n") and not text.endswith("\n\n"), (path, text)
