"""The look-up pages in headless Chromium, on traffic sent through the agency API: an operator
finds a document by its id and opens its timeline, sees a refusal on the refusals page; an
auditor clicks a statistics figure and gets exactly the exchanges the API lists behind it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.api.test_exchange import wait_inbox
from tests.console.browser import Browser
from tests.console.conftest import AUDITOR, OPERATOR
from tests.factories import document_bytes
from tests.harness import (
    AUDITOR_TOKEN,
    BA_DINH,
    CITY,
    FINANCE,
    HOME_AFFAIRS,
    OPERATOR_TOKEN,
    bearer,
)

MONTH = "from=2026-01-01&to=2026-01-31"


async def test_an_operator_finds_a_document_opens_its_timeline_and_sees_a_refusal(
    console_net: Any, open_browser: Callable[[Any], Awaitable[Browser]]
) -> None:
    net = console_net
    raw = document_bytes(sender=FINANCE.id, recipients=(CITY.id, HOME_AFFAIRS.id))
    status, receipt = await net[FINANCE.id].submit(raw)
    assert status == 202
    other, _ = await net[FINANCE.id].submit(
        document_bytes(sender=FINANCE.id, recipients=(BA_DINH.id,))
    )
    assert other == 202
    malformed, _ = await net[HOME_AFFAIRS.id].submit(b"<edXML>not a document")
    assert malformed == 400
    refused, problem = await net[HOME_AFFAIRS.id].submit(raw)  # in Finance's name
    assert (refused, problem["code"]) == (403, "sender_mismatch")
    await wait_inbox(net, CITY.id, 1)
    browser = await open_browser(net)
    await browser.sign_in(*OPERATOR)

    await browser.open("/messages")
    await browser.type("#document_id", receipt["document_id"])
    await browser.type("#since", "15/01/2026")
    await browser.click("#search")
    rows = await browser.texts("#messages tbody tr")
    assert len(rows) == 1
    assert receipt["document_id"] in rows[0] and "15/01/2026 10:00" in rows[0]
    assert FINANCE.name in rows[0] and CITY.name in rows[0] and HOME_AFFAIRS.name in rows[0]
    assert await browser.fits_the_window()
    await browser.screenshot("message-search")

    await browser.click(f'tr[data-id="{receipt["id"]}"] a.timeline')
    assert await browser.path() == f"/messages/{receipt['id']}"
    api = await net.ops.get(f"/v1/ops/messages/{receipt['id']}", headers=bearer(OPERATOR_TOKEN))
    recipients = (await api.json())["recipients"]
    assert [r["organ_id"] for r in recipients] == [CITY.id, HOME_AFFAIRS.id]
    for recipient in recipients:
        section = await browser.text(f'section[data-recipient="{recipient["organ_id"]}"]')
        shown = await browser.texts(
            f'section[data-recipient="{recipient["organ_id"]}"] tbody tr td:nth-child(2)'
        )
        assert shown == [e["event"] for e in recipient["events"]] and shown
        assert recipient["delivery_id"] in section and "15/01/2026 10:00" in section
    assert "Trong hộp thư" in await browser.text(f'section[data-recipient="{CITY.id}"] h2')
    await browser.screenshot("message-timeline")

    await browser.open("/refusals")
    rows = await browser.texts("#refusals tbody tr")
    assert len(rows) == 2  # newest first; the malformed one has no document id
    assert "sender_mismatch" in rows[0] and HOME_AFFAIRS.name in rows[0]
    assert receipt["document_id"] in rows[0] and "15/01/2026 10:00" in rows[0]
    await browser.screenshot("refusals")
    await browser.open(f"/refusals?agency={FINANCE.id}")
    assert await browser.texts("#refusals tbody tr") == []
    await browser.open(f"/refusals?agency={HOME_AFFAIRS.id}&code=schema_invalid")
    assert await browser.texts("#refusals tbody tr") == []

    await browser.open(f"/stats/details?agency={FINANCE.id}")
    assert "không có quyền" in await browser.text("main")


async def traffic(net: Any) -> None:
    """Finance: three exchanges electronically, one declared on paper; the city: one."""
    for sender, recipients in (
        (FINANCE, (CITY.id, HOME_AFFAIRS.id)),
        (FINANCE, (BA_DINH.id,)),
        (CITY, (BA_DINH.id,)),
    ):
        status, _ = await net[sender.id].submit(
            document_bytes(sender=sender.id, recipients=recipients)
        )
        assert status == 202
    body = {"document_id": "P-1", "recipients": [CITY.id], "dispatched_on": "2026-01-14"}
    paper = await net.client.post(
        "/v1/paper-dispatches", json=body, headers=net[FINANCE.id].headers
    )
    assert paper.status == 201


async def shown_exchanges(browser: Browser) -> list[tuple[str, str]]:
    found = await browser.script(
        "return [...document.querySelectorAll('#details tbody tr')]"
        ".map(r => [r.dataset.document, r.dataset.recipient])"
    )
    return [(d, r) for d, r in found]


async def api_exchanges(net: Any, agency: str, kind: str) -> list[tuple[str, str]]:
    path = f"/v1/stats/exchanges/details?agency={agency}&kind={kind}&{MONTH}"
    answer = await (await net.ops.get(path, headers=bearer(AUDITOR_TOKEN))).json()
    return [(e.get("document_id", ""), e["recipient"]) for e in answer["items"]]


async def test_a_click_on_a_figure_lists_the_exchanges_the_api_lists_behind_it(
    console_net: Any, open_browser: Callable[[Any], Awaitable[Browser]]
) -> None:
    net = console_net
    await traffic(net)
    browser = await open_browser(net)
    await browser.sign_in(*AUDITOR)
    stats = "/stats?kind=month&month=2026-01&by=agency"
    for kind, count in (("electronic", 3), ("paper", 1)):
        await browser.open(stats)
        await browser.click(f'tr[data-key="{FINANCE.id}"] a.figure[data-kind="{kind}"]')
        listed = await shown_exchanges(browser)
        assert listed == await api_exchanges(net, FINANCE.id, kind)
        assert len(listed) == count
        assert FINANCE.name in await browser.text("#about")
        if kind == "electronic":
            assert "01/01/2026" in await browser.text("#about")
            await browser.screenshot("drill-down")
    await browser.open(stats)
    await browser.click(f'tr[data-key="{CITY.id}"] a.figure[data-kind="electronic"]')
    assert len(await shown_exchanges(browser)) == 1

    document_id, recipient = (await api_exchanges(net, FINANCE.id, "electronic"))[0]
    await browser.open(f"/stats/details?agency={FINANCE.id}&{MONTH}")
    await browser.click(f'tr[data-recipient="{recipient}"] a')  # on to the search
    rows = await browser.texts("#messages tbody tr")
    assert len(rows) == 1 and document_id in rows[0]

    await browser.open("/refusals")
    assert "không có quyền" in await browser.text("main")
