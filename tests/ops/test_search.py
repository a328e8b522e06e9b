"""An operator answers "where is my document?": search by document id, code number, sender,
recipient, day and state; one message with every recipient's trace; dead letters that say whose
they are; a purge and a replay that leave their mark. Never a body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.config import BusSettings, DeliverySettings
from gateway.edxml.model import Code
from tests.api.test_exchange import wait_inbox
from tests.conftest import Net
from tests.factories import document, to_xml
from tests.harness import (
    AUDITOR_TOKEN,
    CITY,
    FINANCE,
    HOME_AFFAIRS,
    OPERATOR_TOKEN,
    bearer,
    make_settings,
)
from tests.stats.conftest import Down
from tests.stats.test_scenario import FakeClock
from tests.waiting import eventually

OPS = bearer(OPERATOR_TOKEN)


async def ops_get(net: Net, path: str, token: str = OPERATOR_TOKEN, **params: str) -> Any:
    response = await net.ops.get(path, params=params, headers=bearer(token))
    assert response.status == 200, await response.text()
    return await response.json()


@pytest.fixture
async def sent(net_factory: Any, tmp_path: Path) -> tuple[Net, str]:
    """D-1 from Finance to the city (collected) and Home Affairs (down: dead-lettered)."""
    settings = make_settings(
        tmp_path / "data",
        bus=BusSettings(max_attempts=2, retry_initial_s=0.05, retry_max_s=0.05),
        deliveries={HOME_AFFAIRS.id: DeliverySettings(adapter="down")},
    )
    clock = FakeClock()
    clock.at("2026-11-10T03:00:00")
    net: Net = await net_factory(settings, clock=clock, adapter_factories={"down": Down})
    raw = to_xml(
        document(
            sender=FINANCE.id,
            recipients=(CITY.id, HOME_AFFAIRS.id),
            document_id="D-1",
            code=Code("45", "TB-STC"),
        )
    )
    status, receipt = await net[FINANCE.id].submit(raw)
    assert status == 202
    other = to_xml(document(sender=CITY.id, recipients=(FINANCE.id,), document_id="C-1"))
    clock.at("2026-11-12T03:00:00")
    assert (await net[CITY.id].submit(other))[0] == 202
    await wait_inbox(net, CITY.id, 1)
    await eventually(
        lambda: ops_get(net, "/v1/ops/dead-letters"), lambda letters: len(letters) == 1
    )
    return net, str(receipt["id"])


async def found(net: Net, **params: str) -> list[str]:
    page = await ops_get(net, "/v1/ops/messages", **params)
    return [item["document_id"] for item in page["items"]]


async def test_search_by_each_filter(sent: tuple[Net, str]) -> None:
    net, message_id = sent
    page = await ops_get(net, "/v1/ops/messages", document_id="D-1")
    [item] = page["items"]
    assert item["id"] == message_id
    assert (item["from"], item["code"], item["kind"]) == (FINANCE.id, "45/TB-STC", "edoc")
    assert item["received_at"] == "2026-11-10T03:00:00.000Z"
    assert [(r["organ_id"], r["state"]) for r in item["recipients"]] == [
        (CITY.id, "inbox"),
        (HOME_AFFAIRS.id, "failed"),
    ]
    assert await found(net, code="45/TB-STC") == ["D-1"]
    assert await found(net, **{"from": FINANCE.id, "to": HOME_AFFAIRS.id}) == ["D-1"]
    assert await found(net, to=FINANCE.id) == ["C-1"]
    assert await found(net, state="failed") == ["D-1"]
    assert await found(net, since="2026-11-11") == ["C-1"]
    assert await found(net, until="2026-11-10") == ["D-1"]
    assert await found(net) == ["C-1", "D-1"]  # newest first
    first = await ops_get(net, "/v1/ops/messages", limit="1")
    second = await ops_get(net, "/v1/ops/messages", limit="1", after=first["next"])
    assert [i["document_id"] for i in first["items"] + second["items"]] == ["C-1", "D-1"]


async def test_an_auditor_may_search_an_agency_may_not(sent: tuple[Net, str]) -> None:
    net, _ = sent
    page = await ops_get(net, "/v1/ops/messages", AUDITOR_TOKEN, document_id="D-1")
    assert len(page["items"]) == 1
    response = await net.ops.get("/v1/ops/messages", headers=bearer(FINANCE.token))
    assert response.status == 403
    for params in ({"state": "lost"}, {"since": "10/11/2026"}, {"to": "nobody"}, {"after": "x"}):
        response = await net.ops.get("/v1/ops/messages", params=params, headers=OPS)
        assert response.status in (400, 404), params
        assert (await response.json())["code"] in ("bad_request", "not_found")


async def test_one_message_with_every_trace_and_no_body(sent: tuple[Net, str]) -> None:
    net, message_id = sent
    body = await ops_get(net, f"/v1/ops/messages/{message_id}")
    assert body["document_id"] == "D-1" and body["code"] == "45/TB-STC"
    rows = {r["organ_id"]: r for r in body["recipients"]}
    assert [e["event"] for e in rows[CITY.id]["events"]] == ["accepted", "delivered"]
    failed = rows[HOME_AFFAIRS.id]
    assert (failed["state"], failed["attempts"]) == ("failed", 2)
    assert [e["event"] for e in failed["events"]] == ["accepted", "delivery_failed"]
    assert "503" in failed["events"][-1]["reason"]
    assert "content" not in str(body) and "V/v" not in str(body)  # nothing of the document
    missing = await net.ops.get("/v1/ops/messages/nope", headers=OPS)
    assert (missing.status, (await missing.json())["code"]) == (404, "not_found")


async def test_dead_letters_say_whose_and_a_purge_shows_on_the_senders_trace(
    sent: tuple[Net, str],
) -> None:
    net, message_id = sent
    [letter] = await ops_get(net, "/v1/ops/dead-letters")
    assert (letter["from"], letter["document_id"], letter["code"]) == (
        FINANCE.id,
        "D-1",
        "45/TB-STC",
    )
    assert letter["message_id"] == message_id
    purge = await net.ops.delete(
        "/v1/ops/dead-letters", params={"agency": HOME_AFFAIRS.id}, headers=OPS
    )
    assert purge.status == 200
    _, trace = await net[FINANCE.id].trace(message_id)
    row = next(r for r in trace["recipients"] if r["organ_id"] == HOME_AFFAIRS.id)
    assert row["state"] == "purged"
    assert [e["event"] for e in row["events"]] == ["accepted", "delivery_failed", "purged"]
    body = await ops_get(net, f"/v1/ops/messages/{message_id}")
    purged = next(r for r in body["recipients"] if r["organ_id"] == HOME_AFFAIRS.id)
    assert purged["events"][-1]["by"] == "ops"
    assert purged["events"][-1]["dead_letter_id"] == letter["id"]
    assert await found(net, state="purged") == ["D-1"]


async def test_a_replay_keeps_the_delivery_and_names_the_dead_letter(
    sent: tuple[Net, str],
) -> None:
    net, message_id = sent
    [letter] = await ops_get(net, "/v1/ops/dead-letters")
    response = await net.ops.post(f"/v1/ops/dead-letters/{letter['id']}/replay", headers=OPS)
    assert response.status == 202
    body = await ops_get(net, f"/v1/ops/messages/{message_id}")
    row = next(r for r in body["recipients"] if r["organ_id"] == HOME_AFFAIRS.id)
    assert row["delivery_id"] == letter["delivery_id"]
    replayed = next(e for e in row["events"] if e["event"] == "replayed")
    assert (replayed["by"], replayed["dead_letter_id"]) == ("ops", letter["id"])


async def test_operators_and_auditors_read_the_directory_in_vietnamese(net: Net) -> None:
    for token in (OPERATOR_TOKEN, AUDITOR_TOKEN):
        response = await net.ops.get("/v1/ops/agencies", headers=bearer(token))
        assert response.status == 200
        text = await response.text()
        assert "Sở Tài chính" in text and "\\u" not in text and text.endswith("\n")
        agencies = {a["id"]: a for a in await response.json()}
        assert agencies[FINANCE.id] == {
            "id": FINANCE.id,
            "name": FINANCE.name,
            "group": FINANCE.group,
            "delivery": "mailbox",
        }
