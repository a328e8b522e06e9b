"""Refusals per agency: the operator's list, the metric by authenticated agency (the ops
listener's own refusals apart), and operators' actions in the audit log under their names."""

from __future__ import annotations

from typing import Any

from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, HOME_AFFAIRS, OPERATOR_TOKEN, bearer

OPS = bearer(OPERATOR_TOKEN)


async def refusals(net: Net, **params: str) -> dict[str, Any]:
    response = await net.ops.get("/v1/ops/refusals", params=params, headers=OPS)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def refuse_some(net: Net) -> None:
    assert (await net[FINANCE.id].submit(b"<not xml"))[0] == 400
    foreign = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), document_id="F-9")
    assert (await net[HOME_AFFAIRS.id].submit(foreign))[0] == 403
    assert (await net[FINANCE.id].submit(b"<still not xml"))[0] == 400


async def test_the_operator_lists_refusals_by_agency_and_code(net: Net) -> None:
    await refuse_some(net)
    everything = await refusals(net)
    assert [(r["agency"], r["code"]) for r in everything["items"]] == [
        (FINANCE.id, "malformed_xml"),
        (HOME_AFFAIRS.id, "sender_mismatch"),
        (FINANCE.id, "malformed_xml"),
    ]
    assert everything["next"] is None
    assert [r["code"] for r in (await refusals(net, agency=FINANCE.id))["items"]] == [
        "malformed_xml",
        "malformed_xml",
    ]
    [mismatch] = (await refusals(net, code="sender_mismatch"))["items"]
    assert (mismatch["agency"], mismatch["document_id"]) == (HOME_AFFAIRS.id, "F-9")
    first = await refusals(net, limit="2")
    rest = await refusals(net, limit="2", after=first["next"])
    assert len(first["items"]) == 2 and len(rest["items"]) == 1
    assert (await refusals(net, since="2999-01-01"))["items"] == []
    auditor = await net.ops.get("/v1/ops/refusals", headers=bearer(AUDITOR_TOKEN))
    assert auditor.status == 403


def samples(text: str) -> dict[str, float]:
    """Each sample line of the exposition: `name{labels}` -> value."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


async def test_the_metric_names_the_agency_and_keeps_the_ops_listener_apart(net: Net) -> None:
    before = samples(await (await net.ops.get("/metrics")).text())  # the registry is global
    await refuse_some(net)
    await net.client.get("/v1/agencies")  # no token: anonymous
    await net.ops.get("/v1/ops/queues")  # an operator's forgotten token
    await net.ops.get("/v1/ops/queus", headers=OPS)  # an operator's typo
    after = samples(await (await net.ops.get("/metrics")).text())
    moved = {k: v - before.get(k, 0.0) for k, v in after.items() if "refusals_total" in k}
    assert {k: v for k, v in moved.items() if v} == {
        f'edocgw_refusals_total{{agency="{FINANCE.id}",code="malformed_xml"}}': 2.0,
        f'edocgw_refusals_total{{agency="{HOME_AFFAIRS.id}",code="sender_mismatch"}}': 1.0,
        'edocgw_refusals_total{agency="anonymous",code="unauthorized"}': 1.0,
        'edocgw_ops_refusals_total{code="unauthorized"}': 1.0,
        'edocgw_ops_refusals_total{code="not_found"}': 1.0,
    }


async def test_a_trust_reload_is_audited_with_the_operators_name(net: Net) -> None:
    response = await net.ops.post("/v1/ops/trust/reload", headers=OPS)
    assert response.status == 200, await response.text()
    page = await net.ops.get("/v1/audit/events", headers=bearer(AUDITOR_TOKEN))
    [entry] = [e for e in (await page.json())["events"] if e["event"] == "trust_reloaded"]
    assert entry["actor"] == "ops"
    assert entry["data"]["ok"] is True
