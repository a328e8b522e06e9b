"""Retention as departments and auditors see it: bodies go, metadata, dedupe and audit stay."""

from __future__ import annotations

import json
from typing import Any

from gateway.maintenance.retention import Retention
from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, FINANCE, HOME_AFFAIRS, bearer
from tests.retention.conftest import MovingClock
from tests.waiting import eventually


def retention_of(net: Net) -> Retention:
    assert net.gateway.retention is not None
    return net.gateway.retention


async def delivered(net: Net, raw: bytes) -> tuple[dict[str, Any], str]:
    """Submit `raw` from Finance to Home Affairs; the receipt and the delivery once it waits."""
    status, receipt = await net[FINANCE.id].submit(raw)
    assert status == 202, receipt
    delivery_id = receipt["recipients"][0]["delivery_id"]
    await eventually(
        net[HOME_AFFAIRS.id].inbox_all,
        lambda items: any(i["delivery_id"] == delivery_id for i in items),
    )
    return receipt, delivery_id


async def verify(net: Net) -> dict[str, Any]:
    response = await net.ops.get("/v1/audit/verify", headers=bearer(AUDITOR_TOKEN))
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_an_acknowledged_body_goes_after_bodies_days_and_its_fetch_answers_410(
    clocked_net: Net, clock: MovingClock
) -> None:
    net = clocked_net
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    receipt, delivery_id = await delivered(net, raw)
    assert await net[HOME_AFFAIRS.id].fetch(delivery_id) == (200, raw)
    assert await net[HOME_AFFAIRS.id].ack(delivery_id) == 204

    clock.advance(29.9)
    assert (await retention_of(net).run_once()).removed == 0
    status, _ = await net[HOME_AFFAIRS.id].fetch(delivery_id)
    assert status == 404  # acknowledged: it left the inbox, its body is still kept

    clock.advance(0.2)
    assert (await retention_of(net).run_once()).removed == 1
    response = await net.client.get(
        f"/v1/inbox/{delivery_id}", headers=net[HOME_AFFAIRS.id].headers
    )
    assert response.status == 410
    assert response.content_type == "application/problem+json"
    problem = json.loads(await response.read())
    assert problem["code"] == "body_purged"
    assert problem["type"] == "urn:edocgw:error:body_purged"
    assert receipt["id"] in problem["detail"]

    # the trace, the dedupe key and the audit log stay
    status, trace = await net[FINANCE.id].trace(receipt["id"])
    assert status == 200
    assert [r["organ_id"] for r in trace["recipients"]] == [HOME_AFFAIRS.id]
    status, again = await net[FINANCE.id].submit(raw)
    assert (status, again) == (200, receipt)
    verified = await verify(net)
    assert verified["ok"] is True, verified
    assert (await retention_of(net).run_once()).removed == 0  # nothing twice


async def test_a_body_never_collected_stays_however_old(
    clocked_net: Net, clock: MovingClock
) -> None:
    net = clocked_net
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    _, delivery_id = await delivered(net, raw)
    clock.advance(400)
    assert (await retention_of(net).run_once()).removed == 0
    assert await net[HOME_AFFAIRS.id].fetch(delivery_id) == (200, raw)


async def test_a_body_goes_only_when_every_recipient_acknowledged(
    clocked_net: Net, clock: MovingClock
) -> None:
    net = clocked_net
    from tests.harness import BA_DINH

    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id, BA_DINH.id))
    status, receipt = await net[FINANCE.id].submit(raw)
    assert status == 202
    ids = {r["organ_id"]: r["delivery_id"] for r in receipt["recipients"]}
    for organ_id in (HOME_AFFAIRS.id, BA_DINH.id):
        await eventually(
            net[organ_id].inbox_all,
            lambda items, organ_id=organ_id: any(i["delivery_id"] == ids[organ_id] for i in items),
        )
    assert await net[HOME_AFFAIRS.id].ack(ids[HOME_AFFAIRS.id]) == 204
    clock.advance(31)
    assert (await retention_of(net).run_once()).removed == 0
    assert await net[BA_DINH.id].fetch(ids[BA_DINH.id]) == (200, raw)

    assert await net[BA_DINH.id].ack(ids[BA_DINH.id]) == 204
    clock.advance(29)
    assert (await retention_of(net).run_once()).removed == 0  # the last ack is 29 days old
    clock.advance(2)
    assert (await retention_of(net).run_once()).removed == 1
    status, _ = await net[BA_DINH.id].fetch(ids[BA_DINH.id])
    assert status == 410
