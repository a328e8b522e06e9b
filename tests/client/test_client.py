"""gateway.client against a running gateway: build, sign, send, list, fetch, ack, statuses."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from gateway.client import (
    Delivery,
    Fetched,
    GatewayClient,
    InboxItem,
    Receipt,
    Refused,
    SyncGatewayClient,
    Unreachable,
    build_document,
    build_status,
    sign,
)
from gateway.edxml import Document, StatusMessage, parse_message
from tests.client.conftest import signing_files, url_of
from tests.conftest import Net
from tests.harness import FINANCE, HOME_AFFAIRS, free_port
from tests.trust.keys import KeyRing
from tests.waiting import eventually


def a_document(document_id: str | None = None) -> bytes:
    return build_document(
        FINANCE.id,
        [HOME_AFFAIRS.id],
        subject="V/v báo cáo quyết toán quý I",
        number="12",
        notation="STC-VP",
        priority=1,
        attachments=[("bao-cao.pdf", b"%PDF-1.4 bao cao\n")],
        document_id=document_id,
    )


def test_build_document_fills_the_edxml_from_a_few_fields() -> None:
    document = parse_message(a_document())

    assert isinstance(document, Document)
    assert document.sender.organ_id == FINANCE.id
    assert [r.organ_id for r in document.recipients] == [HOME_AFFAIRS.id]
    assert document.document_id.startswith(f"{FINANCE.id},")
    assert document.document_id.endswith(",12/STC-VP")
    assert document.other_info is not None and document.other_info.priority == 1
    [attached] = document.attachments
    assert (attached.attachment_name, attached.content_type) == ("bao-cao.pdf", "application/pdf")


def test_build_status_answers_a_document_and_checks_its_code() -> None:
    raw = a_document("VB-42")
    status = parse_message(build_status(HOME_AFFAIRS.id, raw, "05"))

    assert isinstance(status, StatusMessage)
    assert (status.sender.organ_id, status.status_code) == (HOME_AFFAIRS.id, "05")
    assert (status.response_for.organ_id, status.response_for.document_id) == (FINANCE.id, "VB-42")
    assert status.description == "Đang xử lý"
    with pytest.raises(ValueError, match="status code '99'"):
        build_status(HOME_AFFAIRS.id, raw, "99")
    with pytest.raises(ValueError, match="answers a document"):
        build_status(FINANCE.id, build_status(HOME_AFFAIRS.id, raw, "01"), "03")


async def test_a_round_trip_through_the_agency_api(net: Net) -> None:
    raw = a_document()
    async with (
        GatewayClient(url_of(net), FINANCE.token) as finance,
        GatewayClient(url_of(net), HOME_AFFAIRS.token) as home,
    ):
        receipt = await finance.send(raw)
        again = await finance.send(raw)
        [item] = await eventually(home.inbox_all, lambda items: len(items) == 1)
        fetched = await home.fetch(item.delivery_id)
        answered = await home.send_status(build_status(HOME_AFFAIRS.id, fetched.body, "03"))
        await home.ack(item.delivery_id)
        [status] = await eventually(
            lambda: finance.inbox_all(kind="status"), lambda items: len(items) == 1
        )
        trace = await finance.trace(receipt.id)
        remaining = await home.inbox_all()

    assert (receipt.replayed, again.replayed, again.id) == (False, True, receipt.id)
    [delivery] = receipt.recipients
    assert delivery == Delivery(HOME_AFFAIRS.id, item.delivery_id, "queued")
    assert (item.kind, item.sender, item.document_id, item.priority, item.size) == (
        "edoc",
        FINANCE.id,
        receipt.document_id,
        1,
        len(raw),
    )
    assert (fetched.body, fetched.sender, fetched.message_id) == (raw, FINANCE.id, receipt.id)
    assert (answered.to, answered.replayed) == (FINANCE.id, False)
    assert (status.sender, status.kind) == (HOME_AFFAIRS.id, "status")
    assert trace["document_id"] == receipt.document_id
    assert remaining == []


async def test_refusals_raise_with_the_problem(net: Net) -> None:
    async with GatewayClient(url_of(net), FINANCE.token) as finance:
        with pytest.raises(Refused) as malformed:
            await finance.send(b"<edXML><unclosed>")
        with pytest.raises(Refused) as secret:
            await finance.send(a_document(), secrecy="mat")
        with pytest.raises(Refused) as missing:
            await finance.fetch("no-such-delivery")
    async with GatewayClient(url_of(net), "not-a-token") as stranger:
        with pytest.raises(Refused) as unknown:
            await stranger.inbox()

    assert (malformed.value.status, malformed.value.code) == (400, "malformed_xml")
    assert malformed.value.problem["type"] == "urn:edocgw:error:malformed_xml"
    assert "line 1" in malformed.value.detail
    assert (secret.value.status, secret.value.code) == (422, "secret_document")
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    assert (unknown.value.status, unknown.value.code) == (401, "unauthorized")


async def test_an_unreachable_gateway_raises_unreachable() -> None:
    async with GatewayClient(f"http://127.0.0.1:{free_port()}", "token", timeout_s=5) as nobody:
        with pytest.raises(Unreachable, match=r"GET http://127\.0\.0\.1"):
            await nobody.inbox()


async def test_a_document_signed_with_the_agencys_key_is_accepted(
    signed_net: Net, ring: KeyRing, tmp_path: Path
) -> None:
    files = signing_files(ring, FINANCE.id, tmp_path)
    raw = a_document()
    async with GatewayClient(url_of(signed_net), FINANCE.token) as finance:
        with pytest.raises(Refused) as unsigned:
            await finance.send(raw)
        receipt = await finance.send(sign(raw, files.key, files.cert, [files.chain]))

    assert unsigned.value.code == "signature_missing"
    assert receipt.replayed is False


async def test_the_blocking_client_makes_the_same_calls(net: Net) -> None:
    raw = a_document()

    def script() -> tuple[Receipt, Fetched, list[InboxItem]]:
        with (
            SyncGatewayClient(url_of(net), FINANCE.token) as finance,
            SyncGatewayClient(url_of(net), HOME_AFFAIRS.token) as home,
        ):
            receipt = finance.send(raw)
            deadline = time.monotonic() + 10
            while not (items := home.inbox_all()) and time.monotonic() < deadline:
                time.sleep(0.02)
            fetched = home.fetch(items[0].delivery_id)
            home.ack(items[0].delivery_id)
            return receipt, fetched, home.inbox_all()

    # the gateway runs on this loop: the blocking script runs beside it, on a thread
    receipt, fetched, remaining = await asyncio.to_thread(script)

    assert (fetched.message_id, fetched.body, remaining) == (receipt.id, raw, [])
