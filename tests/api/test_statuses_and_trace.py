"""Processing statuses travel back to the sender; the trace shows each recipient's progress."""

from __future__ import annotations

from tests.api.test_exchange import wait_inbox
from tests.conftest import Net
from tests.factories import document_bytes, status_bytes
from tests.harness import BA_DINH, CITY, FINANCE, HOME_AFFAIRS
from tests.waiting import eventually


async def send_document(net: Net, document_id: str = "ST-1") -> dict[str, object]:
    raw = document_bytes(
        sender=FINANCE.id, recipients=(HOME_AFFAIRS.id, BA_DINH.id), document_id=document_id
    )
    status, body = await net[FINANCE.id].submit(raw)
    assert status == 202
    return body


async def test_a_recipient_status_reaches_the_senders_inbox(net: Net) -> None:
    await send_document(net)
    raw = status_bytes(
        sender=HOME_AFFAIRS.id, response_for_sender=FINANCE.id, document_id="ST-1", status_code="03"
    )
    status, body = await net[HOME_AFFAIRS.id].send_status(raw)

    assert status == 202
    assert body["to"] == FINANCE.id
    [item] = await wait_inbox(net, FINANCE.id, 1, kind="status")
    assert item["kind"] == "status"
    assert item["from"] == HOME_AFFAIRS.id
    assert item["document_id"] == "ST-1"
    assert await net[FINANCE.id].fetch(item["delivery_id"]) == (200, raw)
    assert await net[FINANCE.id].inbox_all("edoc") == []


async def test_the_same_status_twice_is_accepted_once(net: Net) -> None:
    await send_document(net)
    raw = status_bytes(sender=BA_DINH.id, response_for_sender=FINANCE.id, document_id="ST-1")
    first = await net[BA_DINH.id].send_status(raw)
    again = await net[BA_DINH.id].send_status(raw)

    assert (first[0], again[0]) == (202, 200)
    assert first[1] == again[1]
    await wait_inbox(net, FINANCE.id, 1)
    assert len(await net[FINANCE.id].inbox_all("status")) == 1


async def test_only_a_recipient_may_send_a_status(net: Net) -> None:
    await send_document(net)
    raw = status_bytes(sender=CITY.id, response_for_sender=FINANCE.id, document_id="ST-1")
    status, body = await net[CITY.id].send_status(raw)

    assert status == 404
    assert body["code"] == "not_found"
    assert "ST-1" in body["detail"]
    assert await net[FINANCE.id].inbox_all() == []


async def test_a_status_about_an_unknown_document_is_not_found(net: Net) -> None:
    raw = status_bytes(sender=CITY.id, response_for_sender=FINANCE.id, document_id="NOPE")
    status, body = await net[CITY.id].send_status(raw)
    assert (status, body["code"]) == (404, "not_found")


async def test_trace_shows_every_step_to_the_sender(net: Net) -> None:
    body = await send_document(net)
    message_id = str(body["id"])
    [item] = await wait_inbox(net, HOME_AFFAIRS.id, 1)
    await net[HOME_AFFAIRS.id].ack(item["delivery_id"])
    await net[HOME_AFFAIRS.id].send_status(
        status_bytes(
            sender=HOME_AFFAIRS.id,
            response_for_sender=FINANCE.id,
            document_id="ST-1",
            status_code="05",
        )
    )
    await wait_inbox(net, BA_DINH.id, 1)

    status, trace = await net[FINANCE.id].trace(message_id)

    assert status == 200
    assert (trace["id"], trace["document_id"], trace["from"]) == (message_id, "ST-1", FINANCE.id)
    assert trace["signature"]["status"] == "unsigned"
    rows = {row["organ_id"]: row for row in trace["recipients"]}
    assert set(rows) == {HOME_AFFAIRS.id, BA_DINH.id}
    events = [e["event"] for e in rows[HOME_AFFAIRS.id]["events"]]
    assert events == ["accepted", "delivered", "acked", "status"]
    assert rows[HOME_AFFAIRS.id]["events"][-1]["status_code"] == "05"
    assert rows[HOME_AFFAIRS.id]["state"] == "acked"
    assert [e["event"] for e in rows[BA_DINH.id]["events"]] == ["accepted", "delivered"]
    assert rows[BA_DINH.id]["state"] == "inbox"


async def test_a_recipient_sees_only_its_own_row(net: Net) -> None:
    body = await send_document(net)
    await wait_inbox(net, BA_DINH.id, 1)

    _, trace = await eventually(
        lambda: net[BA_DINH.id].trace(str(body["id"])),
        lambda result: result[0] == 200,
    )
    assert [row["organ_id"] for row in trace["recipients"]] == [BA_DINH.id]


async def test_an_uninvolved_agency_cannot_read_the_trace(net: Net) -> None:
    body = await send_document(net)
    status, problem = await net[CITY.id].trace(str(body["id"]))
    assert (status, problem["code"]) == (404, "not_found")
