"""A document from one department to others, collected from the mailbox and acknowledged."""

from __future__ import annotations

from typing import Any

from tests.conftest import Net
from tests.factories import document_bytes
from tests.harness import BA_DINH, CITY, FINANCE, GOV_OFFICE, HOME_AFFAIRS
from tests.waiting import eventually


async def wait_inbox(net: Net, organ_id: str, count: int, kind: str | None = None) -> list[Any]:
    return await eventually(
        lambda: net[organ_id].inbox_all(kind), lambda items: len(items) >= count
    )


async def test_document_reaches_every_recipient_exactly_as_sent(net: Net) -> None:
    raw = document_bytes(
        sender=FINANCE.id, recipients=(HOME_AFFAIRS.id, BA_DINH.id), document_id="DOC-1"
    )
    status, body = await net[FINANCE.id].submit(raw)

    assert status == 202
    assert body["document_id"] == "DOC-1"
    assert [r["organ_id"] for r in body["recipients"]] == [HOME_AFFAIRS.id, BA_DINH.id]
    assert {r["state"] for r in body["recipients"]} == {"queued"}
    delivery_ids = {r["organ_id"]: r["delivery_id"] for r in body["recipients"]}
    for recipient in (HOME_AFFAIRS.id, BA_DINH.id):
        [item] = await wait_inbox(net, recipient, 1)
        assert item["delivery_id"] == delivery_ids[recipient]
        assert item["from"] == FINANCE.id
        assert item["kind"] == "edoc"
        assert item["document_id"] == "DOC-1"
        assert item["size"] == len(raw)
        fetched_status, fetched = await net[recipient].fetch(item["delivery_id"])
        assert (fetched_status, fetched) == (200, raw)
    assert await net[CITY.id].inbox_all() == []
    assert await net[FINANCE.id].inbox_all() == []


async def test_ack_removes_the_item_and_is_idempotent(net: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,))
    await net[FINANCE.id].submit(raw)
    [item] = await wait_inbox(net, HOME_AFFAIRS.id, 1)

    assert await net[HOME_AFFAIRS.id].ack(item["delivery_id"]) == 204
    assert await net[HOME_AFFAIRS.id].ack(item["delivery_id"]) == 204
    assert await net[HOME_AFFAIRS.id].inbox_all() == []
    status, _ = await net[HOME_AFFAIRS.id].fetch(item["delivery_id"])
    assert status == 404


async def test_another_agency_cannot_fetch_or_ack_a_delivery(net: Net) -> None:
    await net[FINANCE.id].submit(document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id,)))
    [item] = await wait_inbox(net, HOME_AFFAIRS.id, 1)

    status, _ = await net[BA_DINH.id].fetch(item["delivery_id"])
    assert status == 404
    assert await net[BA_DINH.id].ack(item["delivery_id"]) == 404
    assert await net[HOME_AFFAIRS.id].inbox_all() != []


async def test_same_bytes_again_answer_200_with_the_first_answer(net: Net) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=(HOME_AFFAIRS.id, CITY.id))
    first_status, first = await net[FINANCE.id].submit(raw)
    again_status, again = await net[FINANCE.id].submit(raw)

    assert (first_status, again_status) == (202, 200)
    assert again == first
    await wait_inbox(net, HOME_AFFAIRS.id, 1)
    await wait_inbox(net, CITY.id, 1)
    assert len(await net[HOME_AFFAIRS.id].inbox_all()) == 1


async def test_same_document_id_with_other_bytes_is_a_conflict(net: Net) -> None:
    await net[FINANCE.id].submit(
        document_bytes(sender=FINANCE.id, recipients=(CITY.id,), document_id="X-1", subject="A")
    )
    status, problem = await net[FINANCE.id].submit(
        document_bytes(sender=FINANCE.id, recipients=(CITY.id,), document_id="X-1", subject="B")
    )

    assert status == 409
    assert problem["code"] == "duplicate_conflict"
    assert problem["type"] == "urn:edocgw:error:duplicate_conflict"
    assert "X-1" in problem["detail"]


async def test_revoke_update_and_replace_are_routed_like_documents(net: Net) -> None:
    calls = net[CITY.id]
    for business_type in (0, 1, 2, 3):
        raw = document_bytes(
            sender=CITY.id,
            recipients=(FINANCE.id, GOV_OFFICE.id),
            document_id="CV-9",
            business_type=business_type,
        )
        status, _ = await calls.submit(raw)
        assert status == 202, business_type
    for recipient in (FINANCE.id, GOV_OFFICE.id):
        items = await wait_inbox(net, recipient, 4)
        assert [i["document_id"] for i in items] == ["CV-9"] * 4


async def test_urgent_documents_are_listed_first_then_oldest(net: Net) -> None:
    sender = net[FINANCE.id]
    for number, priority in enumerate((0, 0, 2, 0, 1, 3)):
        raw = document_bytes(
            sender=FINANCE.id, recipients=(CITY.id,), document_id=f"P-{number}", priority=priority
        )
        assert (await sender.submit(raw))[0] == 202
    items = await wait_inbox(net, CITY.id, 6)

    assert [i["document_id"] for i in items] == ["P-5", "P-2", "P-4", "P-0", "P-1", "P-3"]
    assert [i["priority"] for i in items] == [3, 2, 1, 0, 0, 0]


async def test_inbox_pages_with_a_cursor(net: Net) -> None:
    for number in range(7):
        raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id,), document_id=f"PG-{number}")
        await net[FINANCE.id].submit(raw)
    await wait_inbox(net, CITY.id, 7)

    first = await net[CITY.id].inbox(limit=3)
    second = await net[CITY.id].inbox(limit=3, after=first["next"])
    third = await net[CITY.id].inbox(limit=3, after=second["next"])

    ids = [i["document_id"] for page in (first, second, third) for i in page["items"]]
    assert ids == [f"PG-{n}" for n in range(7)]
    assert third["next"] is None


async def test_inbox_filters_by_kind_and_rejects_bad_queries(net: Net) -> None:
    await net[FINANCE.id].submit(document_bytes(sender=FINANCE.id, recipients=(CITY.id,)))
    await wait_inbox(net, CITY.id, 1)

    assert await net[CITY.id].inbox_all("status") == []
    assert len(await net[CITY.id].inbox_all("edoc")) == 1
    for query in ({"kind": "fax"}, {"limit": "0"}, {"limit": "abc"}, {"after": "!!"}):
        response = await net.client.get("/v1/inbox", params=query, headers=net[CITY.id].headers)
        assert response.status == 400, query
        assert response.content_type == "application/problem+json"


async def test_directory_lists_every_configured_agency(net: Net) -> None:
    response = await net.client.get("/v1/agencies", headers=net[BA_DINH.id].headers)
    rows = await response.json()

    assert response.status == 200
    assert {r["id"]: r["group"] for r in rows} == {
        CITY.id: "city",
        FINANCE.id: "department",
        HOME_AFFAIRS.id: "department",
        BA_DINH.id: "district",
        GOV_OFFICE.id: "central",
    }
