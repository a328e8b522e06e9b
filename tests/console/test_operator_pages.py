"""An operator's day in the console, in headless Chromium, on real traffic: the overview, the
queues, a dead letter replayed from its page that reaches the recipient and shows in the audit
log, a purge after its confirmation, trust, sign-out. Screenshots: tests/console/browser.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gateway.config import BusSettings, DeliverySettings, TrustSettings
from gateway.trust.pki import init_pki
from tests.api.test_exchange import wait_inbox
from tests.console.browser import Browser
from tests.console.conftest import OPERATOR, console_settings
from tests.factories import document_bytes
from tests.harness import AUDITOR_TOKEN, CITY, FINANCE, HOME_AFFAIRS, bearer
from tests.ops.test_queues import Switchable
from tests.waiting import eventually


async def dead_letters(net: Any) -> list[Any]:
    return list(await net.gateway.bus.dead_letters(None, 100))


async def send_until_dead(net: Any, count: int) -> None:
    status, _ = await net[FINANCE.id].submit(
        document_bytes(sender=FINANCE.id, recipients=(CITY.id, HOME_AFFAIRS.id))
    )
    assert status == 202
    await eventually(lambda: dead_letters(net), lambda found: len(found) == count)


async def test_an_operator_replays_and_purges_dead_letters_in_the_browser(
    net_factory: Callable[..., Awaitable[Any]],
    open_browser: Callable[[Any], Awaitable[Browser]],
    tmp_path: Path,
) -> None:
    Switchable.up = False
    pki = init_pki(tmp_path / "pki", [(FINANCE.id, FINANCE.name)])
    trust = TrustSettings(
        anchors=(pki.root,), intermediates=(pki.intermediate,), crls=pki.crls, signature="optional"
    )
    settings = console_settings(
        tmp_path / "data",
        trust=trust,
        bus=BusSettings(max_attempts=2, retry_initial_s=0.05, retry_max_s=0.05),
        deliveries={CITY.id: DeliverySettings(adapter="switchable")},
    )
    net = await net_factory(settings, adapter_factories={"switchable": Switchable})
    refused, _ = await net[FINANCE.id].submit(b"<edXML>not a document")
    assert refused == 400
    await send_until_dead(net, 1)
    await wait_inbox(net, HOME_AFFAIRS.id, 1)
    browser = await open_browser(net)

    await browser.sign_in(*OPERATOR)
    assert await browser.path() == "/"
    assert "Sẵn sàng" in await browser.text("#readiness")
    charts = await browser.text("main")
    assert "Đã tiếp nhận 2" in charts and "Bị từ chối 1" in charts and "Đã chuyển 1" in charts
    alerts = await browser.texts("#alerts li")
    assert alerts == [f"{CITY.name} ({CITY.id}): 1 thư lỗi đang chờ xử lý"]
    await browser.screenshot("overview")

    await browser.open("/queues")
    row = await browser.text(f'tr[data-agency="{CITY.id}"]')
    assert CITY.name in row and CITY.id in row
    assert "1" in row.split()  # its dead letter
    assert await browser.fits_the_window()
    await browser.screenshot("queues")

    await browser.open("/dead-letters")
    [letter] = await dead_letters(net)
    listed = await browser.text(f'tr[data-id="{letter.id}"]')
    assert CITY.name in listed and letter.message_id in listed
    await browser.screenshot("dead-letters")
    Switchable.up = True
    await browser.click(f'tr[data-id="{letter.id}"] form button')
    assert "Đã đưa thư" in await browser.text(".notice")
    await wait_inbox(net, CITY.id, 1)
    events = await net.ops.get("/v1/audit/events?limit=1000", headers=bearer(AUDITOR_TOKEN))
    replays = [e for e in (await events.json())["events"] if e["event"] == "replayed"]
    assert [(e["actor"], e["recipient"]) for e in replays] == [("ops", CITY.id)]
    assert replays[0]["data"]["delivery_id"] == letter.message_id

    Switchable.up = False
    await send_until_dead(net, 1)
    await browser.open(f"/dead-letters?agency={CITY.id}")
    await browser.click("a.danger")
    assert "Xóa vĩnh viễn 1 thư lỗi" in await browser.text(".notice")
    await browser.screenshot("purge-confirm")
    await browser.click("#confirm-purge")
    assert "Đã xóa 1 thư lỗi" in await browser.text(".notice")
    assert await dead_letters(net) == []

    await browser.open("/trust")
    await browser.click("#reload")
    assert "Đã nạp lại" in await browser.text(".notice")
    assert "development root CA" in await browser.text("#anchors")
    assert "development issuing CA" in await browser.text("#intermediates")
    assert len(await browser.texts("#crls tbody tr")) == len(pki.crls) > 0
    await browser.screenshot("trust")

    await browser.open("/queues?lang=en")
    assert "Retry now" in await browser.text("main")
    await browser.open("/queues?lang=vi")
    await browser.click("form[action='/logout'] button")
    assert (await browser.path()).startswith("/login")
    await browser.open("/queues")
    assert (await browser.path()).startswith("/login?next=")
